"""Synthetic H.264 clips with 0, 1 or several faces (for tests and the benchmark)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from fractions import Fraction

import av
import numpy as np


def astronaut() -> np.ndarray:
    """scikit-image's astronaut photo (Eileen Collins), RGB uint8 512x512 (dev dependency)."""
    from skimage import data

    return np.asarray(data.astronaut())


def place_faces(
    width: int, height: int, faces: int, *, photo: np.ndarray | None = None, shift: int = 0
) -> np.ndarray:
    """A grey ``width`` x ``height`` frame with ``faces`` copies of ``photo`` side by side."""
    from PIL import Image

    frame = np.full((height, width, 3), 96, np.uint8)
    if faces <= 0:
        # some texture so the encoder has work to do, and nothing face-like
        yy, xx = np.mgrid[0:height, 0:width]
        frame[..., 1] = ((xx // 16 + yy // 16 + shift) % 2 * 60 + 80).astype(np.uint8)
        return frame
    photo = astronaut() if photo is None else photo
    side = min(height * 9 // 10, width * 9 // (10 * faces))
    tile = np.asarray(Image.fromarray(photo).resize((side, side), Image.Resampling.BILINEAR))
    gap = (width - faces * side) // (faces + 1)
    top = (height - side) // 2
    for i in range(faces):
        left = gap + i * (side + gap) + shift
        left = max(0, min(width - side, left))
        frame[top : top + side, left : left + side] = tile
    return frame


def encode_clip(
    frames: Sequence[np.ndarray],
    *,
    fps: int = 30,
    codec: str = "libx264",
    container: str = "mp4",
    fragmented: bool = False,
    gop: int | None = None,
) -> bytes:
    """Encode RGB frames into an in-memory video file (``container="h264"``: a raw Annex B
    elementary stream, what picamera writes); a keyframe every ``gop`` frames if given."""
    buffer = io.BytesIO()
    options = {"movflags": "frag_keyframe+empty_moov"} if fragmented else {}
    height, width = frames[0].shape[:2]
    with av.open(buffer, mode="w", format=container, options=options) as out:
        stream = out.add_stream(codec, rate=Fraction(fps))
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"preset": "ultrafast", "crf": "23"}
            if gop:
                stream.options |= {"g": str(gop), "keyint_min": str(gop), "scenecut": "0"}
        elif gop:
            stream.gop_size = gop
        for rgb in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buffer.getvalue()


def make_clip(
    width: int = 640,
    height: int = 480,
    *,
    faces: int = 1,
    duration_s: float = 0.5,
    fps: int = 30,
    codec: str = "libx264",
    container: str = "mp4",
    fragmented: bool = False,
    photo: np.ndarray | None = None,
) -> bytes:
    """A clip of ``duration_s`` seconds showing ``faces`` astronaut faces that drift slowly."""
    count = max(1, round(duration_s * fps))
    frames = [place_faces(width, height, faces, photo=photo, shift=i * 2) for i in range(count)]
    return encode_clip(frames, fps=fps, codec=codec, container=container, fragmented=fragmented)
