"""Time per frame and per face: detection (MTCNN on onnxruntime; facenet-pytorch's MTCNN on
torch for comparison when torch is installed), alignment, embedding, artifact load."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from face_model.backbones import BACKBONES, get_spec
from face_model.detect import Detection
from face_model.torch_support import require_torch, torch_available


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def sample_image() -> np.ndarray:
    """skimage's astronaut (one face), the standard self-contained test photo."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut())  # type: ignore[no-untyped-call]


def default_backbones() -> tuple[str, ...]:
    """Every backbone this install can run: the built-in one, torch ones with torch."""
    return tuple(n for n, s in BACKBONES.items() if not s.needs_torch or torch_available())


def run_bench(
    *,
    repeats: int = 5,
    threads: int = 1,
    weights: dict[str, Path] | None = None,
    image: np.ndarray | None = None,
    backbones: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Benchmark figures (JSON-ready). Torch backbones without weights run with random
    weights: fine for timing, meaningless for anything else."""
    from face_model.detectors import create_detector
    from face_model.threads import set_threads

    set_threads(threads)
    weights = weights or {}
    frame = sample_image() if image is None else image
    detector = create_detector(threads=threads)
    faces = detector.detect([frame], max_side=None)[0]
    if not faces:
        raise RuntimeError("benchmark image has no detectable face")
    report: dict[str, Any] = {"threads": threads, "repeats": repeats, "image": list(frame.shape)}
    report["detect"] = _bench_detect(detector, frame, repeats)
    report["backbones"] = {
        name: _bench_backbone(
            name, frame, faces[0], weights=weights.get(name), threads=threads, repeats=repeats
        )
        for name in (backbones or default_backbones())
    }
    return report


def _bench_detect(detector: Any, frame: np.ndarray, repeats: int) -> dict[str, float | None]:
    """ms per frame at batch 1 and 8, onnxruntime and (when installed) torch."""
    out: dict[str, float | None] = {}
    for batch in (1, 8):
        frames = [frame] * batch
        ms = _median_ms(partial(detector.detect, frames, max_side=None), repeats)
        out[f"onnx_batch{batch}_ms_per_frame"] = round(ms / batch, 2)
    if not torch_available():
        out |= {"torch_batch1_ms_per_frame": None, "torch_vs_onnx_batch1": None}
        return out
    from facenet_pytorch import MTCNN

    require_torch("the torch MTCNN benchmark")  # applies run_bench's thread count to torch
    mtcnn = MTCNN(keep_all=True, device="cpu", min_face_size=detector.min_face_size).eval()
    ms = _median_ms(lambda: mtcnn.detect(frame, landmarks=True), repeats)
    out["torch_batch1_ms_per_frame"] = ms
    out["torch_vs_onnx_batch1"] = round(ms / float(out["onnx_batch1_ms_per_frame"] or 1), 2)
    return out


def _bench_backbone(
    name: str,
    frame: np.ndarray,
    face: Detection,
    *,
    weights: Path | None,
    threads: int,
    repeats: int,
) -> dict[str, Any]:
    """Align, embed (batch 1 and 8; torch too for torch backbones) and artifact load."""
    from face_model.align import align_face
    from face_model.artifact import export_model
    from face_model.recognizer import Recognizer
    from face_model.training import new_model

    spec = get_spec(name)
    entry: dict[str, Any] = {
        "align_ms_per_face": _median_ms(lambda: align_face(frame, face, spec), repeats)
    }
    crop = align_face(frame, face, spec)
    with tempfile.TemporaryDirectory(prefix="face-model-bench-") as tmp:
        model = new_model(name, weights)
        model.gallery.add("astronaut", model.embedder()([crop]), ["astronaut"])
        model.save(Path(tmp) / "model")
        export_model(Path(tmp) / "model", Path(tmp) / "artifact", allow_untrained=True)
        start = time.perf_counter()
        rec = Recognizer.load(Path(tmp) / "artifact", threads=threads)
        entry["artifact_load_ms"] = round((time.perf_counter() - start) * 1000, 1)
        entry["pretrained_weights"] = model.config.pretrained
        assert rec.embedder is not None
        for batch in (1, 8):
            crops = [crop] * batch
            onnx_ms = _median_ms(partial(rec.embedder, crops), repeats) / batch
            entry[f"embed_onnx_batch{batch}_ms_per_face"] = round(onnx_ms, 2)
            if model.net is not None:
                torch_embed = model.embedder()
                torch_ms = _median_ms(partial(torch_embed, crops), repeats) / batch
                entry[f"embed_torch_batch{batch}_ms_per_face"] = round(torch_ms, 2)
        entry["passes_per_face"] = 2 if spec.flip else 1
    return entry
