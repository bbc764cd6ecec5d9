"""Real video for tests, benchmarks and tools, the one place that makes it.

rollcall's own clips (H.264 in MP4, starting on a keyframe) come from edge-capture's
encoder, exactly as a device makes them; other containers and codecs (raw Annex B streams,
Matroska, MPEG-4 Part 2...) from PyAV directly, for the handler's decode tests.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from edge_capture import encoder
from edge_capture.encoder import EncoderSettings


def astronaut() -> np.ndarray:
    """scikit-image's astronaut photo (Eileen Collins), RGB uint8 512x512 (dev dependency)."""
    from skimage import data

    return np.asarray(data.astronaut())  # type: ignore[no-untyped-call]


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


def write_video(
    path: Path, frames: Iterable[np.ndarray], *, fps: float, settings: EncoderSettings | None = None
) -> Path:
    """RGB frames as an H.264 MP4 file, written by edge-capture's encoder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    encoder.encode_clip(path, list(frames), settings or EncoderSettings(fps=fps))
    return path


def encode_mp4(frames: Sequence[np.ndarray], *, fps: float = 30) -> bytes:
    """A rollcall clip's bytes: ``frames`` encoded as edge-capture encodes a clip."""
    with tempfile.TemporaryDirectory(prefix="rollcall-clip-") as tmp:
        return write_video(Path(tmp) / "clip.mp4", frames, fps=fps).read_bytes()


def encode_clip(
    frames: Sequence[np.ndarray],
    *,
    fps: int = 30,
    codec: str = "libx264",
    container: str = "mp4",
    fragmented: bool = False,
    gop: int | None = None,
) -> bytes:
    """Encode RGB frames into an in-memory video file in any container and codec
    (``container="h264"``: a raw Annex B elementary stream, what picamera writes); a keyframe
    every ``gop`` frames if given. rollcall's own clips: :func:`encode_mp4`."""
    buffer = io.BytesIO()
    options = {"movflags": "frag_keyframe+empty_moov"} if fragmented else {}
    height, width = frames[0].shape[:2]
    with av.open(buffer, mode="w", format=container, options=options) as out:
        stream = out.add_stream(codec, rate=Fraction(fps))
        assert isinstance(stream, av.VideoStream)
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
    """A clip of ``duration_s`` seconds showing ``faces`` astronaut faces that drift slowly:
    as edge-capture records it, unless another codec, container or fragmenting is asked for."""
    count = max(1, round(duration_s * fps))
    frames = [place_faces(width, height, faces, photo=photo, shift=i * 2) for i in range(count)]
    if (codec, container, fragmented) == ("libx264", "mp4", False):
        return encode_mp4(frames, fps=fps)
    return encode_clip(frames, fps=fps, codec=codec, container=container, fragmented=fragmented)
