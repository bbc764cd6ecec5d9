"""H.264-in-MP4 clip encoding with PyAV: a fresh encoder per clip, so each starts on a keyframe."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np


@dataclass(frozen=True)
class EncoderSettings:
    """x264 settings. The defaults are the fast, no-lookahead kind a small device can afford."""

    fps: float = 15.0
    preset: str = "ultrafast"
    tune: str | None = "zerolatency"
    crf: int = 23
    threads: int = 1

    def options(self) -> dict[str, str]:
        """The libx264 private options."""
        opts = {"preset": self.preset, "crf": str(self.crf)}
        if self.tune:
            opts["tune"] = self.tune
        return opts


def _rate(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(1001)


class ClipWriter:
    """Encodes frames, as they arrive, into one MP4 file; :meth:`close` finishes it.

    The encoder is created per clip, so the first frame is an IDR keyframe and the clip
    decodes on its own. Frames are RGB ``uint8`` HxWx3 of one size.
    """

    def __init__(self, path: Path, width: int, height: int, settings: EncoderSettings) -> None:
        self.path, self.width, self.height = path, width, height
        self.frames = 0
        self._container: Any = av.open(str(path), "w", format="mp4")
        try:
            stream = self._container.add_stream(
                "libx264", rate=_rate(settings.fps), options=settings.options()
            )
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.codec_context.thread_count = settings.threads
            self._stream = stream
        except Exception:
            self._container.close()
            raise

    def add(self, image: np.ndarray) -> None:
        """Encode one RGB frame."""
        if image.shape != (self.height, self.width, 3):
            raise ValueError(
                f"frame of shape {image.shape}, expected {(self.height, self.width, 3)}"
            )
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = self.frames
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> int:
        """Flush the encoder and finish the file; returns the number of frames written."""
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
        finally:
            self._container.close()
        return self.frames

    def abort(self) -> None:
        """Close without flushing (the file is discarded by the caller)."""
        with contextlib.suppress(av.FFmpegError):  # best effort on an already broken file
            self._container.close()


def encode_clip(path: Path, frames: list[np.ndarray], settings: EncoderSettings) -> int:
    """Encode ``frames`` into ``path``; returns the frame count."""
    height, width = frames[0].shape[:2]
    writer = ClipWriter(path, width, height, settings)
    try:
        for image in frames:
            writer.add(image)
    except BaseException:
        writer.abort()
        raise
    return writer.close()
