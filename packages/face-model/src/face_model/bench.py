"""Time per face for detection, alignment and embedding (both backbones), and artifact load."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from face_model.backbones import BACKBONES, get_spec
from face_model.detect import Detection


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def sample_image() -> np.ndarray:
    """skimage's astronaut (one face), the standard self-contained test photo."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


def run_bench(
    *,
    repeats: int = 5,
    threads: int = 2,
    weights: dict[str, Path] | None = None,
    image: np.ndarray | None = None,
    backbones: tuple[str, ...] = tuple(BACKBONES),
) -> dict[str, Any]:
    """Benchmark figures (JSON-ready). Weights do not change timings; without them the
    backbones run with random weights, which is fine for timing and nothing else."""
    import torch

    from face_model.detect import FaceDetector

    torch.set_num_threads(threads)
    weights = weights or {}
    frame = sample_image() if image is None else image
    detector = FaceDetector()
    faces = detector.detect([frame], max_side=None)[0]
    if not faces:
        raise RuntimeError("benchmark image has no detectable face")
    face = faces[0]
    report: dict[str, Any] = {"threads": threads, "repeats": repeats, "image": list(frame.shape)}
    detect: dict[str, float] = {}
    for batch in (1, 8):
        frames = [frame] * batch
        ms = _median_ms(lambda frames=frames: detector.detect(frames, max_side=None), repeats)
        detect[f"batch{batch}_ms_per_frame"] = ms / batch
    report["detect"] = detect
    report["backbones"] = {}
    for name in backbones:
        report["backbones"][name] = _bench_backbone(
            name,
            frame=frame,
            face=face,
            weights=weights.get(name),
            threads=threads,
            repeats=repeats,
        )
    ratios = {
        "detect_batch8_vs_batch1": detect["batch8_ms_per_frame"] / detect["batch1_ms_per_frame"]
    }
    if {"mobilefacenet", "inception-resnet-v1"} <= set(report["backbones"]):
        mfn = report["backbones"]["mobilefacenet"]
        irv = report["backbones"]["inception-resnet-v1"]
        for batch in (1, 8):
            key = f"embed_onnx_batch{batch}_ms_per_face"
            ratios[f"inception_vs_mobilefacenet_batch{batch}"] = irv[key] / mfn[key]
    report["ratios"] = ratios
    return report


def _bench_backbone(
    name: str,
    *,
    frame: np.ndarray,
    face: Detection,
    weights: Path | None,
    threads: int,
    repeats: int,
) -> dict[str, Any]:
    """Align, embed (onnx vs torch, batch 1 and 8) and artifact-load timings of one backbone."""
    from face_model.align import align_face
    from face_model.artifact import export_model
    from face_model.embed import TorchEmbedder
    from face_model.recognizer import Recognizer
    from face_model.training import new_model

    spec = get_spec(name)
    entry: dict[str, Any] = {}
    entry["align_ms_per_face"] = _median_ms(
        lambda spec=spec: align_face(frame, face, spec), repeats
    )
    crop = align_face(frame, face, spec)
    with tempfile.TemporaryDirectory(prefix="face-model-bench-") as tmp:
        model = new_model(name, weights)
        model.gallery.add("astronaut", TorchEmbedder(model.net, spec)([crop]), ["astronaut"])
        model.save(Path(tmp) / "model")
        export_model(Path(tmp) / "model", Path(tmp) / "artifact", allow_untrained=True)
        start = time.perf_counter()
        rec = Recognizer.load(Path(tmp) / "artifact", threads=threads)
        entry["artifact_load_ms"] = (time.perf_counter() - start) * 1000
        entry["pretrained_weights"] = model.config.pretrained
        onnx_embed = rec.embedder
        torch_embed = TorchEmbedder(model.net, spec)
        assert onnx_embed is not None
        for batch in (1, 8):
            crops = [crop] * batch
            onnx_ms = _median_ms(lambda c=crops, f=onnx_embed: f(c), repeats) / batch
            torch_ms = _median_ms(lambda c=crops, f=torch_embed: f(c), repeats) / batch
            entry[f"embed_onnx_batch{batch}_ms_per_face"] = onnx_ms
            entry[f"embed_torch_batch{batch}_ms_per_face"] = torch_ms
            entry[f"onnx_vs_torch_batch{batch}"] = onnx_ms / torch_ms
        entry["flip_doubles_passes"] = spec.flip
    return entry
