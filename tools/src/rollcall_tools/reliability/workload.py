"""The reliability runs' workload: one real face clip (made by :mod:`rollcall_tools.clips`, as
edge-capture encodes) reused under many keys, a longer face video for edge-capture's
``--source FILE``; keys as the edge writes them."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from rollcall_tools.clips import make_clip, place_faces, write_video
from shared_schema import ClipId, format_key


@lru_cache(maxsize=8)
def face_clip(width: int = 640, height: int = 480, fps: int = 15, seconds: float = 0.5) -> bytes:
    """An MP4 (H.264, starts on a keyframe) of ``seconds`` showing one face."""
    return make_clip(width, height, faces=1, duration_s=seconds, fps=fps)


def write_face_video(path: Path, seconds: float = 4.0, fps: int = 15) -> None:
    """A longer face video on disk, for edge-capture's ``--source FILE``."""
    count = max(1, round(seconds * fps))
    frames = (place_faces(640, 480, 1, shift=i % 40) for i in range(count))
    write_video(path, frames, fps=fps)


def clip_key(device: str, session: str, seq: int, captured_at: datetime) -> str:
    """The S3 key the edge would use for this clip."""
    return format_key(
        ClipId(device_id=device, session_id=session, seq=seq, captured_at=captured_at)
    )


def utc_from_epoch(seconds: float) -> datetime:
    """An aware UTC datetime at millisecond precision (what keys carry)."""
    return datetime.fromtimestamp(round(seconds, 3), UTC)
