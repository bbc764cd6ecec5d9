"""Decode a clip from memory with PyAV and sample a few frames spread over it."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field

import av
import av.error
import numpy as np

from cloud_handler.errors import ClipError
from shared_schema import ErrorCode

SUPPORTED_CODECS = frozenset({"h264", "hevc"})
"""What edge devices record (H.264; HEVC for newer cameras). Anything else is refused."""

_IMAGE_CODECS = frozenset(
    {"gif", "png", "apng", "mjpeg", "jpegls", "bmp", "webp", "tiff", "jpeg2000", "ppm", "pgm"}
)
"""Still-image codecs: such an upload is "not a video", not a video in a foreign codec."""
_VIDEO_MAGIC = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip")
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SampledFrames:
    """RGB frames picked evenly over a clip, with their times and the clip's geometry."""

    frames: list[np.ndarray]
    times_ms: list[int]
    width: int
    height: int
    codec: str
    decoded: int
    bad_packets: int = 0
    notes: list[str] = field(default_factory=list)


def sample_frames(
    data: bytes,
    *,
    count: int,
    max_frame_pixels: int,
    max_decode_frames: int,
    where: str = "clip",
) -> SampledFrames:
    """Decode ``data`` and return ``count`` RGB frames spread evenly over the clip.

    With a known frame count the picks are the centres of ``count`` equal segments and
    decoding stops after the last pick; otherwise a bounded buffer keeps every k-th
    frame (k doubling as needed) so memory stays flat for any length.

    Raises:
        ClipError: not a video, corrupt, unsupported codec, frames too large, or nothing
            decodable.
    """
    try:
        container = av.open(io.BytesIO(data), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        code = ErrorCode.CORRUPT_VIDEO if _looks_like_video(data) else ErrorCode.NOT_A_VIDEO
        what = "a damaged or truncated video" if code is ErrorCode.CORRUPT_VIDEO else "no video"
        raise ClipError(code, f"{where}: {what} ({_reason(exc)})", "decode") from None
    with container:
        stream = _video_stream(container, where, max_frame_pixels)
        codec = stream.codec_context.name
        width, height = stream.codec_context.width, stream.codec_context.height
        stream.thread_type = "AUTO"
        total = min(stream.frames, max_decode_frames) if stream.frames > 0 else 0
        picker = _IndexPicker(total, count) if total else _StridePicker(count)
        decoded = bad = read = 0
        error: str | None = None
        packets = container.demux(stream)
        while decoded < max_decode_frames and not picker.done(decoded):
            try:
                packet = next(packets)
            except StopIteration:
                break
            except (av.error.FFmpegError, OSError) as exc:
                error = _reason(exc)  # demuxing failed: the file ends or breaks here
                break
            read += 1
            try:
                frames = packet.decode()
            except (av.error.FFmpegError, ValueError) as exc:
                bad += 1
                error = _reason(exc)
                continue
            for frame in frames:
                _check_size(frame.width, frame.height, max_frame_pixels, where)
                picker.offer(decoded, frame)
                decoded += 1
        if error and not picker.done(decoded):
            decoded = _flush(stream, picker, decoded, max_frame_pixels, where)
        picked = picker.result()
        frames = [frame.to_ndarray(format="rgb24") for _, frame in picked]
        times = [_time_ms(frame, index, stream) for index, frame in picked]
    if not picked:
        if error or bad:
            raise ClipError(
                ErrorCode.CORRUPT_VIDEO,
                f"{where}: no frame could be decoded ({bad} bad packets; {error})",
                "decode",
            )
        raise ClipError(
            ErrorCode.NO_DECODABLE_FRAME,
            f"{where}: no frame of the video stream could be decoded ({read} packets read)",
            "decode",
        )
    notes = [f"{bad} undecodable packets skipped ({error})"] if bad else []
    if error and not bad:
        notes.append(f"stopped early: {error}")
    return SampledFrames(
        frames=frames,
        times_ms=times,
        width=width or picked[0][1].width,
        height=height or picked[0][1].height,
        codec=codec,
        decoded=decoded,
        bad_packets=bad,
        notes=notes,
    )


def _video_stream(
    container: av.container.InputContainer, where: str, max_frame_pixels: int
) -> av.video.stream.VideoStream:
    """The clip's video stream, refusing images, audio-only files and foreign codecs."""
    fmt = container.format.name
    video = container.streams.video
    if (
        fmt in ("image2", "gif")
        or fmt.endswith("_pipe")
        or not video
        or video[0].codec_context.name in _IMAGE_CODECS
    ):
        raise ClipError(
            ErrorCode.NOT_A_VIDEO, f"{where}: no video stream (container {fmt!r})", "decode"
        )
    stream = container.streams.video[0]
    codec = stream.codec_context.name
    if codec not in SUPPORTED_CODECS:
        raise ClipError(
            ErrorCode.UNSUPPORTED_CODEC,
            f"{where}: codec {codec!r} is not supported "
            f"(expected one of {sorted(SUPPORTED_CODECS)})",
            "decode",
        )
    _check_size(stream.codec_context.width, stream.codec_context.height, max_frame_pixels, where)
    return stream


def _flush(
    stream: av.video.stream.VideoStream,
    picker: _IndexPicker | _StridePicker,
    decoded: int,
    max_frame_pixels: int,
    where: str,
) -> int:
    """Drain frames the decoder still holds after the input broke off."""
    try:
        for frame in stream.codec_context.decode(None):
            _check_size(frame.width, frame.height, max_frame_pixels, where)
            picker.offer(decoded, frame)
            decoded += 1
    except (av.error.FFmpegError, ValueError):
        pass
    return decoded


def _check_size(width: int, height: int, limit: int, where: str) -> None:
    if width * height > limit:
        raise ClipError(
            ErrorCode.FRAME_TOO_LARGE,
            f"{where}: frames are {width}x{height} ({width * height} pixels), over the "
            f"{limit}-pixel limit (ROLLCALL_MAX_FRAME_PIXELS)",
            "decode",
        )


def _time_ms(frame: av.VideoFrame, index: int, stream: av.video.stream.VideoStream) -> int:
    start = stream.start_time or 0
    if frame.pts is not None and stream.time_base is not None:
        return max(0, round(float((frame.pts - start) * stream.time_base) * 1000))
    rate = float(stream.average_rate or 0) or 30.0
    return round(index * 1000 / rate)


def _looks_like_video(data: bytes) -> bool:
    head = data[:64]
    return (
        head[4:8] in _VIDEO_MAGIC
        # H.264/HEVC Annex B start codes, Matroska/WebM's EBML magic
        or head.startswith((b"\x00\x00\x00\x01", b"\x00\x00\x01", b"\x1a\x45\xdf\xa3"))
    )


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).splitlines()[0][:300] if text else type(exc).__name__


class _IndexPicker:
    """Known frame count: pick the centres of ``count`` equal segments."""

    def __init__(self, total: int, count: int) -> None:
        n = min(count, total)
        self.wanted = sorted({min(total - 1, int((i + 0.5) * total / n)) for i in range(n)})
        self.picked: list[tuple[int, av.VideoFrame]] = []

    def done(self, decoded: int) -> bool:
        return decoded > self.wanted[-1]

    def offer(self, index: int, frame: av.VideoFrame) -> None:
        if index in self.wanted:
            self.picked.append((index, frame))

    def result(self) -> list[tuple[int, av.VideoFrame]]:
        return self.picked


class _StridePicker:
    """Unknown frame count: keep every k-th frame in a buffer of ``2*count``, doubling k."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.stride = 1
        self.kept: list[tuple[int, av.VideoFrame]] = []

    def done(self, decoded: int) -> bool:
        return False

    def offer(self, index: int, frame: av.VideoFrame) -> None:
        if index % self.stride:
            return
        self.kept.append((index, frame))
        if len(self.kept) > 2 * self.count:
            self.stride *= 2
            self.kept = [(i, f) for i, f in self.kept if i % self.stride == 0]

    def result(self) -> list[tuple[int, av.VideoFrame]]:
        if len(self.kept) <= self.count:
            return self.kept
        n = len(self.kept)
        return [self.kept[int((i + 0.5) * n / self.count)] for i in range(self.count)]
