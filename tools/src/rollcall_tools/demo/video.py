"""The demo video: the astronaut of ``skimage.data.astronaut()`` moving and zooming over a
background, encoded as H.264 with PyAV. Deterministic: same frames on every run."""

from __future__ import annotations

import math
from pathlib import Path

import av
import numpy as np
from PIL import Image

WIDTH, HEIGHT, FPS = 640, 480, 15


def astronaut() -> np.ndarray:
    """The public-domain NASA portrait bundled with scikit-image (512x512 RGB)."""
    from skimage import data

    return np.asarray(data.astronaut(), dtype=np.uint8)  # type: ignore[no-untyped-call]


def save_portrait(path: Path) -> Path:
    """Write the portrait as a PNG (the demo's enrollment photo)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(astronaut()).save(path)
    return path


def background(width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """A soft diagonal gradient with a faint grid: a plain room, no faces."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 70 + 60 * (x / width) + 40 * (y / height)
    grid = ((x.astype(int) % 64 < 2) | (y.astype(int) % 64 < 2)) * 25.0
    rgb = np.stack([base + grid, base * 0.9 + grid, base * 0.8 + 30 + grid], axis=-1)
    return np.asarray(np.clip(rgb, 0, 255), dtype=np.uint8)


def frame_at(t: float, duration: float, portrait: np.ndarray, room: np.ndarray) -> np.ndarray:
    """Frame at time ``t``: the portrait slides left to right and zooms in and out."""
    phase = t / max(duration, 1e-6)
    scale = 0.55 + 0.25 * (0.5 - 0.5 * math.cos(2 * math.pi * phase))
    size = int(portrait.shape[0] * scale)
    face = np.asarray(Image.fromarray(portrait).resize((size, size), Image.Resampling.BILINEAR))
    height, width = room.shape[:2]
    left = int((width - size) * (0.5 + 0.45 * math.sin(2 * math.pi * phase)))
    top = int((height - size) * (0.5 + 0.3 * math.sin(4 * math.pi * phase)))
    left, top = max(0, min(left, width - size)), max(0, min(top, height - size))
    out = room.copy()
    crop = face[: height - top, : width - left]
    out[top : top + crop.shape[0], left : left + crop.shape[1]] = crop
    return out


def write_demo_video(path: Path, seconds: float = 4.0, fps: int = FPS) -> Path:
    """Encode the demo video (H.264, yuv420p) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    portrait, room = astronaut(), background()
    frames = max(1, round(seconds * fps))
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "20"}
        for index in range(frames):
            image = frame_at(index / fps, seconds, portrait, room)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
