"""Encoding benchmark: CPU cost of a clip as a fraction of its duration, vs a baseline."""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import av
import numpy as np

from edge_capture.encoder import EncoderSettings, encode_clip
from edge_capture.sources import SourceSpec, open_source

DEFAULT_MODES: tuple[tuple[int, int, float], ...] = (
    (640, 480, 15.0),
    (640, 480, 30.0),
    (1280, 720, 15.0),
    (1280, 720, 30.0),
)


def bench_frames(source: str, width: int, height: int, fps: float, count: int) -> list[np.ndarray]:
    """``count`` frames from ``source`` (looped, as fast as possible).

    The synthetic pattern gets mild per-pixel noise, as a real sensor would, so that the
    encoder is not flattered by perfectly flat areas.
    """
    spec = SourceSpec(source, width, height, fps, fast=True, loop=True)
    src = open_source(spec, threading.Event())
    frames: list[np.ndarray] = []
    try:
        for frame in src.frames():
            frames.append(frame.image)
            if len(frames) >= count:
                break
    finally:
        src.close()
    if source == "test":
        rng = np.random.default_rng(0)
        frames = [
            np.clip(
                f.astype(np.int16) + rng.integers(-6, 7, f.shape, dtype=np.int16), 0, 255
            ).astype(np.uint8)
            for f in frames
        ]
    return frames


def measure(
    frames: list[np.ndarray], per_clip: int, settings: EncoderSettings, workdir: Path
) -> dict[str, float]:
    """Encode ``frames`` as consecutive clips; CPU seconds (all threads) and bytes per clip."""
    clips = [frames[i : i + per_clip] for i in range(0, len(frames) - per_clip + 1, per_clip)]
    encode_clip(workdir / "warmup.mp4", clips[0], settings)  # load codecs, fault in pages
    sizes = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for index, clip in enumerate(clips):
        path = workdir / f"clip{index}.mp4"
        encode_clip(path, clip, settings)
        sizes.append(path.stat().st_size)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    with av.open(str(workdir / "clip0.mp4")) as container:  # sanity: the clip decodes
        decoded = sum(1 for _ in container.decode(video=0))
    if decoded != per_clip:
        raise RuntimeError(f"benchmark clip decoded to {decoded} frames, expected {per_clip}")
    return {
        "cpu_s_per_clip": cpu / len(clips),
        "wall_s_per_clip": wall / len(clips),
        "bytes_per_clip": float(np.mean(sizes)),
        "clips": float(len(clips)),
    }


def run_bench(
    *,
    source: str = "test",
    clip_seconds: float = 0.5,
    clips: int = 8,
    modes: tuple[tuple[int, int, float], ...] = DEFAULT_MODES,
    baseline: EncoderSettings | None = None,
    fast: EncoderSettings | None = None,
) -> dict[str, Any]:
    """For each mode, the encode cost of a clip as a fraction of real time, and the baseline's.

    ``encode_fraction`` = CPU seconds spent encoding (RGB->YUV conversion, x264, MP4 muxing)
    per second of video; ``cameras_per_core`` = ``floor(1 / encode_fraction)``.
    """
    fast = fast or EncoderSettings()
    baseline = baseline or EncoderSettings(preset="medium", tune=None)
    results: dict[str, Any] = {}
    for width, height, fps in modes:
        per_clip = max(1, round(fps * clip_seconds))
        frames = bench_frames(source, width, height, fps, per_clip * clips)
        duration = per_clip / fps
        with tempfile.TemporaryDirectory(prefix="edge-bench-") as tmp:
            fast_m = measure(frames, per_clip, _with_fps(fast, fps), Path(tmp))
            base_m = measure(frames, per_clip, _with_fps(baseline, fps), Path(tmp))
        fraction = fast_m["cpu_s_per_clip"] / duration
        base_fraction = base_m["cpu_s_per_clip"] / duration
        results[f"{width}x{height}@{fps:g}"] = {
            "encode_fraction": round(fraction, 4),
            "cameras_per_core": int(1 / fraction) if fraction > 0 else None,
            "cpu_ms_per_clip": round(fast_m["cpu_s_per_clip"] * 1000, 2),
            "wall_ms_per_clip": round(fast_m["wall_s_per_clip"] * 1000, 2),
            "kbytes_per_clip": round(fast_m["bytes_per_clip"] / 1024, 1),
            "baseline_encode_fraction": round(base_fraction, 4),
            "baseline_kbytes_per_clip": round(base_m["bytes_per_clip"] / 1024, 1),
            "speedup_vs_baseline": round(base_fraction / fraction, 2) if fraction > 0 else None,
            "clip_seconds": round(duration, 3),
            "clips_measured": int(fast_m["clips"]),
        }
    results["_settings"] = {
        "source": source,
        "encoder": {
            "preset": fast.preset,
            "tune": fast.tune,
            "crf": fast.crf,
            "threads": fast.threads,
        },
        "baseline": {
            "preset": baseline.preset,
            "tune": baseline.tune,
            "crf": baseline.crf,
            "threads": baseline.threads,
        },
        "pyav": av.__version__,
    }
    return results


def _with_fps(settings: EncoderSettings, fps: float) -> EncoderSettings:
    return EncoderSettings(
        fps=fps,
        preset=settings.preset,
        tune=settings.tune,
        crf=settings.crf,
        threads=settings.threads,
    )
