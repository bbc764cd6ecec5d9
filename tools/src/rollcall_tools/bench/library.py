"""The face library's figures: a 10,000 people x 5 embeddings library loaded (items decoded,
gallery and per-person index built) and matched, against the same gallery read from an
artifact's ``gallery.npz`` in the same process; and the time a change takes to reach a warm
reader (a moto server; the reader polls the version item every ``POLL_S``)."""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from face_model.backbones import get_spec
from face_model.gallery import Gallery
from face_model.library import Face, Identity, build_gallery

BACKBONE = "dlib-resnet-v1"
PROBES = 200


def _library_items(people: int, per_person: int, identity: Identity) -> list[dict[str, Any]]:
    spec = get_spec(BACKBONE)
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(people * per_person, spec.feature_dim)).astype(np.float32)
    vectors /= 2 * np.linalg.norm(vectors, axis=1, keepdims=True)
    return [
        Face(f"{i:08x}", f"person-{i // per_person:05d}", vectors[i], identity).item()
        for i in range(len(vectors))
    ]


def _timed(work: Callable[[], Any]) -> tuple[Any, float, float]:
    """``work()``, its milliseconds, and its peak traced memory (MiB) from a second run
    (tracing slows allocations: never timed)."""
    start = time.perf_counter()
    value = work()
    took = (time.perf_counter() - start) * 1000
    tracemalloc.start()
    work()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return value, took, peak


def library_scale(people: int = 10_000, per_person: int = 5) -> dict[str, Any]:
    """Load and match figures of a library of ``people`` x ``per_person`` embeddings."""
    spec = get_spec(BACKBONE)
    identity = Identity(BACKBONE, "0" * 64)
    items = _library_items(people, per_person, identity)

    def load() -> Gallery:
        faces = [Face.from_item(item) for item in items]
        gallery, _ = build_gallery(faces, [], identity, dim=spec.feature_dim, metric=spec.metric)
        gallery.centroids()  # the per-person index the first match would build
        return gallery

    gallery, load_ms, load_peak = _timed(load)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gallery.npz"
        gallery.save(path)

        def baseline() -> Gallery:
            loaded = Gallery.load(path)
            loaded.centroids()
            return loaded

        _, npz_ms, npz_peak = _timed(baseline)
    probes = gallery.embeddings[:: max(1, len(gallery.labels) // PROBES)][:PROBES]
    gallery.match(probes[:1], spec.default_threshold)
    start = time.perf_counter()
    for probe in probes:
        gallery.match(probe[None], spec.default_threshold)
    match_ms = (time.perf_counter() - start) * 1000 / len(probes)
    return {
        "people": people,
        "embeddings": people * per_person,
        "load_ms": round(load_ms, 1),
        "load_peak_mib": round(load_peak, 1),
        "artifact_load_ms": round(npz_ms, 1),
        "artifact_load_peak_mib": round(npz_peak, 1),
        "load_vs_artifact": round(load_ms / npz_ms, 2) if npz_ms else None,
        "match_ms_per_face": round(match_ms, 3),
        "note": "items decoded in memory: the Query's pages (about 30 for 50,000 embeddings) "
        "come on top, once per change, never per clip",
    }


def change_to_warm(trials: int = 5) -> dict[str, Any]:
    """Seconds from a committed enrollment to a warm reader matching with it (moto server,
    real clock, the reader's own poll interval)."""
    from cloud_handler.library import POLL_S, LibraryReader
    from cloud_handler.observability import logger
    from face_model import Recognizer
    from rollcall_tools.aws import AwsTarget
    from rollcall_tools.faces.library import Library, new_id
    from rollcall_tools.local.moto import local_aws
    from rollcall_tools.stack.deploy import Stack
    from rollcall_tools.stack.settings import StackSettings

    spec = get_spec(BACKBONE)
    identity = Identity(BACKBONE, "0" * 64)
    recognizer = Recognizer(
        name="bench",
        version="0",
        spec=spec,
        pretrained=True,
        threshold=spec.default_threshold,
        gallery=Gallery.empty(spec.feature_dim, spec.metric),
        manifest={"files": {"embedding.onnx": identity.embedder}},
    )
    seen: list[float] = []
    logger.setLevel("WARNING")  # stdout carries only the report
    with local_aws() as url:
        target = AwsTarget(region="us-east-1", endpoint_url=url)
        stack = Stack.resolve(target, "bench", StackSettings(local=True))
        stack.deploy()
        library = Library(target, stack.names)
        reader = LibraryReader(
            target.client("dynamodb"), stack.names.library_table, recognizer, identity
        )
        reader.refresh()
        rng = np.random.default_rng(1)
        for trial in range(trials):
            time.sleep(rng.uniform(0, POLL_S))  # changes land anywhere in the poll cycle
            vector = rng.normal(size=spec.feature_dim).astype(np.float32)
            library.add([Face(new_id(), f"p{trial}", vector, identity)])
            committed = time.perf_counter()
            while f"p{trial}" not in recognizer.people:
                reader.refresh()
                time.sleep(0.02)
            seen.append(time.perf_counter() - committed)
    return {
        "poll_s": POLL_S,
        "trials": trials,
        "change_to_warm_s_max": round(max(seen), 2),
        "change_to_warm_s_mean": round(sum(seen) / len(seen), 2),
    }


def warm_with_library(
    endpoint: str, artifact: Path, timed: Callable[[], list[float]]
) -> dict[str, Any]:
    """The handler's warm times (``timed()``) with the artifact's gallery read from a face
    library in the stack instead (imported, as `tools faces import` does), then the
    environment as it was."""
    import os

    from cloud_handler.runtime import get_runtime
    from rollcall_tools.aws import AwsTarget
    from rollcall_tools.bench.stack import REGION
    from rollcall_tools.faces.actions import import_artifact
    from rollcall_tools.faces.library import Library
    from rollcall_tools.stack.library import library_resources
    from rollcall_tools.stack.names import StackNames
    from rollcall_tools.stack.settings import StackSettings
    from rollcall_tools.stats import latency_stats

    target = AwsTarget(region=REGION, endpoint_url=endpoint)
    names = StackNames("benchlib", REGION, target.account_id())
    for resource in library_resources(target, names, StackSettings(local=True)):
        resource.create()
    import_artifact(Library(target, names), artifact)
    os.environ["ROLLCALL_LIBRARY_TABLE"] = names.library_table
    try:
        get_runtime.cache_clear()
        runtime = get_runtime()
        assert runtime.library is not None and runtime.library.version > 0
        return latency_stats(timed())
    finally:
        os.environ.pop("ROLLCALL_LIBRARY_TABLE", None)
        get_runtime.cache_clear()
