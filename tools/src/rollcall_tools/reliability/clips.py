"""Real H.264 clips for load and faults: a face (``skimage.data.astronaut()``) on a moving
background, encoded with PyAV once and reused under many keys; plus keys and S3 metadata."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np

from shared_schema import ClipId, ClipMetadata, format_key

EDGE_VERSION = "reliability-0.1.0"


def _face_frames(width: int, height: int, count: int) -> list[np.ndarray]:
    from skimage.data import astronaut
    from skimage.transform import resize

    face = astronaut()[0:300, 100:360]  # head and shoulders
    side = min(height, width) * 3 // 4
    scale = side / face.shape[0]
    patch = (resize(face, (side, round(face.shape[1] * scale)), anti_aliasing=True) * 255).astype(
        np.uint8
    )
    frames = []
    y, x = np.mgrid[0:height, 0:width]
    for i in range(count):
        canvas = np.stack([(x + 3 * i) % 256, (y + i) % 256, np.full_like(x, 90)], axis=-1)
        canvas = canvas.astype(np.uint8)
        x0 = min(width - patch.shape[1], (width - patch.shape[1]) // 2 + (i % 5) * 2)
        y0 = (height - patch.shape[0]) // 2
        canvas[y0 : y0 + patch.shape[0], x0 : x0 + patch.shape[1]] = patch
        frames.append(canvas)
    return frames


@lru_cache(maxsize=8)
def face_clip(width: int = 640, height: int = 480, fps: int = 15, seconds: float = 0.5) -> bytes:
    """An MP4 (H.264, starts on a keyframe) of ``seconds`` showing one face."""
    import av

    count = max(1, round(fps * seconds))
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "tune": "zerolatency"}
        for image in _face_frames(width, height, count):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def write_face_video(path: str, seconds: float = 4.0, fps: int = 15) -> None:
    """A longer face video on disk, for edge-capture's ``--source FILE``."""
    with open(path, "wb") as fh:  # noqa: PTH123
        fh.write(face_clip(640, 480, fps, seconds))


def clip_key(device: str, session: str, seq: int, captured_at: datetime) -> str:
    """The S3 key the edge would use for this clip."""
    return format_key(
        ClipId(device_id=device, session_id=session, seq=seq, captured_at=captured_at)
    )


def clip_metadata(
    captured_at: datetime, fps: int = 15, width: int = 640, height: int = 480
) -> dict[str, str]:
    """S3 user metadata, as edge-capture attaches it."""
    return ClipMetadata(
        captured_at=captured_at,
        duration_ms=500,
        fps=fps,
        width=width,
        height=height,
        edge_version=EDGE_VERSION,
    ).to_s3_metadata()


def utc_from_epoch(seconds: float) -> datetime:
    """An aware UTC datetime at millisecond precision (what keys carry)."""
    return datetime.fromtimestamp(round(seconds, 3), UTC)
