"""Decode a video from memory with PyAV and sample frames spread over its full length.

Two passes over the bytes: the first demuxes the video stream without decoding it (cheap)
to learn its frame count, keyframes and timestamps; the second decodes only what the
picks need, jumping from keyframe to keyframe, so that a long video costs about
``count`` groups of pictures rather than every frame. A short clip (one group of
pictures) is decoded straight through up to its last pick. Picks lie within the first
:data:`HORIZON_MS` (a result's frame times stop there), at most :data:`MAX_DECODE_FRAMES`
frames are decoded, and no frame side may exceed the schema's ``MAX_FRAME_SIDE`` (a result's
boxes stop there).

:class:`FrameStream` hands the picks out one at a time as they are decoded, so that a caller
that has seen enough stops decoding there and never holds more than one frame.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import NamedTuple

import av
import av.error
import numpy as np
from av.video.reformatter import VideoReformatter

from cloud_handler.errors import ClipError
from shared_schema import MAX_FRAME_SIDE, MAX_FRAME_TIME_MS, ErrorCode

VIDEO_FORMATS = frozenset(
    {
        *("mov", "mp4", "m4a", "3gp", "3g2", "mj2"),  # FFmpeg's "mov,mp4,m4a,3gp,3g2,mj2"
        *("matroska", "webm", "avi", "flv", "asf", "mpegts", "mpeg", "ivf"),
        *("h264", "hevc", "m4v"),  # raw elementary streams (picamera writes .h264)
    }
)
"""Containers (FFmpeg demuxer names) read as videos. Anything else FFmpeg can open - an
image, a GIF, audio, text its ``tty`` demuxer would render - is "not a video"."""
_VIDEO_MAGIC = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip")
MAX_DECODE_FRAMES = 1800
"""At most this many frames are decoded per object (60 s at 30 fps without a keyframe)."""
THREAD_TYPE = "AUTO"
"""FFmpeg's decoding threads: slices and frames."""
_PROBE = {"skip_frame": "all"}
"""Opening a container probes its streams (FFmpeg's ``avformat_find_stream_info``), which
decodes the first frame by default - a second decode of it, at full size (23 ms of a 1080p
video's CPU time); nothing here needs what only decoding tells (the pixel format is read
from each decoded frame), so the probe's decoder skips every frame. The decoding pass's own
decoder is unaffected (the same frames, byte for byte)."""
HORIZON_MS = MAX_FRAME_TIME_MS
"""Picks lie within a video's first hour: a result's ``frame_time_ms`` holds at most this."""


@dataclass(frozen=True)
class SampledFrames:
    """RGB frames picked evenly over a video, with their times."""

    frames: list[np.ndarray]
    times_ms: list[int]
    codec: str
    decoded: int
    """Frames decoded to get the picks."""
    total: int = 0
    """Frames (packets) in the video stream."""
    bad_packets: int = 0
    notes: list[str] = field(default_factory=list)


class Pick(NamedTuple):
    """One picked frame: RGB at full size, its time, and (when asked for) an RGB copy
    scaled down by the decoder's scaler (swscale) so that its longer side is at most
    ``scaled_side`` (None where the frame is no larger)."""

    frame: np.ndarray
    time_ms: int
    small: np.ndarray | None = None


@dataclass
class _Index:
    """What the first (demux-only) pass learned about the video stream."""

    pts: list[int | None] = field(default_factory=list)
    keyframes: list[int] = field(default_factory=list)
    time_base: Fraction | None = None
    rate: float = 30.0
    """Frames per second (raw elementary streams are timed by frame numbers)."""
    corrupt: int = 0
    """Packets the demuxer flagged as damaged (e.g. cut off by a truncated upload)."""
    error: str | None = None

    @property
    def timed(self) -> bool:
        """Every packet has a timestamp (a scan of them all: read it once per pass)."""
        return self.time_base is not None and all(p is not None for p in self.pts)


@dataclass
class _Plan:
    """Where each pick lies (a pts, or a frame number) and the keyframe to decode it from."""

    targets: list[int]
    starts: list[int]
    origin: int
    cut: bool = False
    """The video lasts longer than :data:`HORIZON_MS`; only its beginning is sampled."""


def sample_frames(
    data: bytes,
    *,
    count: int,
    max_frame_pixels: int,
    max_decode_frames: int = MAX_DECODE_FRAMES,
    where: str = "clip",
) -> SampledFrames:
    """Decode ``data`` and return up to ``count`` RGB frames spread evenly over all of it
    (over its first :data:`HORIZON_MS` when it lasts longer).

    Decoding stops after ``max_decode_frames`` frames (a note says so).

    Raises:
        ClipError: not a video, corrupt, a codec nothing here decodes, frames too large,
            or nothing decodable.
    """
    stream = FrameStream(
        data,
        count=count,
        max_frame_pixels=max_frame_pixels,
        max_decode_frames=max_decode_frames,
        where=where,
    )
    frames: list[np.ndarray] = []
    times_ms: list[int] = []
    for pick in stream:
        frames.append(pick.frame)
        times_ms.append(pick.time_ms)
    return SampledFrames(
        frames=frames,
        times_ms=times_ms,
        codec=stream.codec,
        decoded=stream.decoded,
        total=stream.total,
        bad_packets=stream.bad_packets,
        notes=stream.notes,
    )


class FrameStream:
    """Frames picked from a video, decoded one at a time as they are asked for: whoever
    stops iterating early (a vote already decided) decodes no further, and holds one frame
    at a time.

    ``lead`` picks come first, spread over the video's first ``lead_ms`` (one moment, a
    clip's worth); the other ``count - lead`` lie at the ends of equal parts of the rest
    (the last at the video's last frame).
    Without a lead, all ``count`` picks lie at the centres of equal parts of the video.
    ``skip_nonref``: the decoder skips frames no other frame refers to (about half of an
    H.264 stream's); a pick landing on one is taken from the next decoded frame (timed
    streams only: raw elementary streams count frames to know where they are).
    ``scaled_side``: each pick also comes scaled down by the decoder's scaler (see
    :class:`Pick`), cheaper than converting at full size and resizing afterwards.

    The demux-only first pass runs here and raises ClipError (no video stream, a codec
    nothing decodes, frames too large, no frames); iterating raises it where no frame at
    all could be decoded.
    """

    def __init__(
        self,
        data: bytes,
        *,
        count: int,
        max_frame_pixels: int,
        lead: int = 0,
        lead_ms: int = 0,
        skip_nonref: bool = False,
        scaled_side: int | None = None,
        max_decode_frames: int = MAX_DECODE_FRAMES,
        where: str = "clip",
    ) -> None:
        self._data, self._where, self._scaled_side = data, where, scaled_side
        self._max_frame_pixels, self._budget = max_frame_pixels, max_decode_frames
        container = _open(data, where)
        try:
            stream = _video_stream(container, where, max_frame_pixels)
            self.codec: str = stream.codec_context.name
            self._index = _index(container, stream)
        except BaseException:
            container.close()
            raise
        index = self._index
        # kept for the decoding pass: opening probes the stream (decodes a frame) again
        self._container: av.container.InputContainer | None = container
        if not index.pts:
            self.close()
            code = ErrorCode.CORRUPT_VIDEO if index.error else ErrorCode.NO_DECODABLE_FRAME
            raise ClipError(
                code, f"{where}: the video stream holds no frames ({index.error})", "decode"
            )
        self._plan = _plan(index, count, lead=lead, lead_ms=lead_ms)
        self._skip_nonref = skip_nonref and index.timed
        self.total = len(index.pts)
        """Frames (packets) in the video stream."""
        self._picker: _Picker | None = None

    @property
    def picks(self) -> int:
        """Frames to be picked (fewer where the video holds fewer)."""
        return len(self._plan.targets)

    @property
    def decoded(self) -> int:
        """Frames decoded so far."""
        return self._picker.decoded if self._picker else 0

    @property
    def bad_packets(self) -> int:
        """Packets the decoder refused so far."""
        return self._picker.bad if self._picker else 0

    @property
    def notes(self) -> list[str]:
        """What a log line should say about the decoding so far."""
        picker, index = self._picker, self._index
        notes = []
        if picker and picker.bad:
            notes.append(f"{picker.bad} undecodable packets skipped ({picker.error})")
        if index.corrupt:
            notes.append(f"{index.corrupt} damaged packets")
        if index.error:
            notes.append(f"stopped early: {index.error}")
        if self._plan.cut:
            notes.append(f"sampled over its first {HORIZON_MS // 60_000} minutes only")
        if picker and picker.out_of_budget:
            notes.append(f"decoding stopped after {picker.decoded} frames (the decode budget)")
        return notes

    def close(self) -> None:
        """Let the container of the first pass go (iterating opens it again)."""
        if self._container is not None:
            self._container.close()
            self._container = None

    def _rewound(
        self,
    ) -> tuple[av.container.InputContainer, Iterator[av.Packet[av.video.stream.VideoStream]]]:
        """The first pass's container back at its first packet, or a new one where it cannot
        seek there exactly (the decoding pass counts packets from the first)."""
        container, self._container = self._container, None
        first_pts = self._index.pts[0]
        if container is not None and self._index.timed:
            stream = container.streams.video[0]
            try:
                container.seek(first_pts or 0, stream=stream, backward=True)
                packets = _packets(container, stream)
                first = next(packets, None)
            except (av.error.FFmpegError, ValueError, OSError):
                first = None
            if first is not None and first.pts == first_pts and first.is_keyframe:
                return container, itertools.chain([first], packets)
        if container is not None:
            container.close()
        container = _open(self._data, self._where)
        return container, _packets(container, container.streams.video[0])

    def __iter__(self) -> Iterator[Pick]:
        """Each pick (RGB frame, milliseconds from the video's start), in order."""
        index, where = self._index, self._where
        yielded = 0
        container, packets = self._rewound()
        with container:
            stream = container.streams.video[0]
            stream.thread_type = THREAD_TYPE
            if self._skip_nonref:
                stream.codec_context.skip_frame = "NONREF"
            picker = _Picker(self._plan, stream, index, self._max_frame_pixels, where)
            picker.scaled_side = self._scaled_side
            self._picker = picker
            for picked in picker.run(packets, self._budget):
                yielded += 1
                yield picked
        if yielded:
            return
        if index.error or index.corrupt or picker.bad:
            raise ClipError(
                ErrorCode.CORRUPT_VIDEO,
                f"{where}: no frame could be decoded ({picker.bad} bad packets, "
                f"{index.corrupt} damaged; {picker.error or index.error or 'truncated'})",
                "decode",
            )
        raise ClipError(
            ErrorCode.NO_DECODABLE_FRAME,
            f"{where}: no frame of the video stream could be decoded ({len(index.pts)} packets)",
            "decode",
        )


def _open(data: bytes, where: str) -> av.container.InputContainer:
    try:
        return av.open(io.BytesIO(data), mode="r", metadata_errors="ignore", options=_PROBE)
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        code = ErrorCode.CORRUPT_VIDEO if _looks_like_video(data) else ErrorCode.NOT_A_VIDEO
        what = "a damaged or truncated video" if code is ErrorCode.CORRUPT_VIDEO else "no video"
        raise ClipError(code, f"{where}: {what} ({_reason(exc)})", "decode") from None


def _video_stream(
    container: av.container.InputContainer, where: str, max_frame_pixels: int
) -> av.video.stream.VideoStream:
    """The first video stream, refusing non-video containers and codecs nothing decodes."""
    fmt = container.format.name
    video = container.streams.video
    if not VIDEO_FORMATS.intersection(fmt.split(",")) or not video:
        raise ClipError(
            ErrorCode.NOT_A_VIDEO, f"{where}: no video stream (container {fmt!r})", "decode"
        )
    stream = video[0]
    context = stream.codec_context
    if context is None or context.codec is None or not context.codec.is_decoder:
        raise ClipError(
            ErrorCode.UNSUPPORTED_CODEC,
            f"{where}: the video stream's codec cannot be decoded here (container {fmt!r})",
            "decode",
        )
    _check_size(context.width, context.height, max_frame_pixels, where)
    return stream


def _packets(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream
) -> Iterator[av.Packet[av.video.stream.VideoStream]]:
    """The stream's packets (not the empty flush packets demuxing ends with); stops where
    demuxing breaks (a truncated file)."""
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except (StopIteration, av.error.FFmpegError, OSError):
            return
        if packet.size:
            yield packet


def _index(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> _Index:
    rate = float(stream.guessed_rate or stream.average_rate or 0) or 30.0
    index = _Index(time_base=stream.time_base, rate=rate)
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return index
        except (av.error.FFmpegError, OSError) as exc:
            index.error = _reason(exc)  # demuxing failed: the file ends or breaks here
            return index
        if not packet.size:
            continue
        if packet.is_keyframe:
            index.keyframes.append(len(index.pts))
        index.corrupt += packet.is_corrupt
        index.pts.append(packet.pts)


def _plan(index: _Index, count: int, *, lead: int = 0, lead_ms: int = 0) -> _Plan:
    """Picks at the centres of ``count`` equal segments of the first :data:`HORIZON_MS`,
    in presentation order; or ``lead`` picks over its first ``lead_ms`` and the rest at
    the ends of equal segments of what follows (the last one at the last frame)."""
    keyframes = index.keyframes or [0]
    if index.timed and index.time_base is not None:
        order = sorted(p for p in index.pts if p is not None)
        origin = order[0]
        horizon = origin + int(Fraction(HORIZON_MS, 1000) / index.time_base)
        key_at = [(index.pts[k] or 0, k) for k in keyframes]
    else:  # raw elementary streams: no timestamps, frame numbers instead
        order = list(range(len(index.pts)))
        origin = 0
        horizon = int(HORIZON_MS / 1000 * index.rate)
        key_at = [(k, k) for k in keyframes]
    within = [p for p in order if p <= horizon]
    total = len(within)
    positions = _positions(total, count, lead, round(lead_ms / 1000 * index.rate))
    targets = [within[p] for p in positions]
    starts: list[int] = []
    for target in targets:
        start = max((k for at, k in key_at if at <= target), default=0)
        starts.append(max(start, starts[-1] if starts else 0))
    return _Plan(targets, starts, origin, cut=total < len(order))


def _positions(total: int, count: int, lead: int, lead_frames: int) -> list[int]:
    """Which of ``total`` frames to pick (see :func:`_plan`)."""
    n = min(count, total)
    lead = min(lead, n)
    if lead <= 0:
        return sorted({min(total - 1, int((i + 0.5) * total / n)) for i in range(n)})
    span = min(total, lead_frames + 1)  # frames 0 .. lead_frames
    first = {round(i * (span - 1) / max(1, lead - 1)) for i in range(lead)}
    rest, left = n - lead, total - span
    # the ends of equal parts of what follows the lead: the last pick is the last frame
    later = {span + (i + 1) * left // rest - 1 for i in range(rest)} if rest and left else set()
    return sorted(first | later)


class _Picker:
    """The second pass: decode from each pick's keyframe until a frame reaches the pick."""

    def __init__(
        self,
        plan: _Plan,
        stream: av.video.stream.VideoStream,
        index: _Index,
        max_frame_pixels: int,
        where: str,
    ) -> None:
        self.plan, self.stream, self.index = plan, stream, index
        self.max_frame_pixels, self.where = max_frame_pixels, where
        self.decoded = self.bad = 0
        self.scaled_side: int | None = None
        self.error: str | None = None
        self.out_of_budget = False
        self._next = 0  # the pick being looked for
        self._base = 0  # frame number of the keyframe decoding started from
        self._produced = 0  # frames out of the decoder since then
        # one scaler each for the full-size and the small copies, kept from frame to frame
        # (a frame's own to_ndarray sets a scaler up anew for every frame)
        self._full, self._scaler = VideoReformatter(), VideoReformatter()
        # timestamps to go by, or None: frame numbers (read per frame, so found out once)
        self._time_base = index.time_base if index.timed else None

    def run(
        self, packets: Iterator[av.Packet[av.video.stream.VideoStream]], budget: int
    ) -> Iterator[Pick]:
        """Feed ``packets``, skipping those before the next pick's keyframe; yields each
        pick as it is decoded."""
        context = self.stream.codec_context
        active = False
        for number, packet in enumerate(packets):
            if self._next >= len(self.plan.targets):
                return
            if self.decoded >= budget:
                self.out_of_budget = True
                return
            if number < self.plan.starts[self._next]:
                if active:  # jump: the next pick lies in a later group of pictures
                    context.flush_buffers()
                    active = False
                continue
            if not active:
                active, self._base, self._produced = True, number, 0
            try:
                frames = packet.decode()
            except (av.error.FFmpegError, ValueError) as exc:
                self.bad += 1
                self.error = _reason(exc)
                continue
            yield from self._picks(frames)
        if active and self._next < len(self.plan.targets):
            try:  # the frames the decoder still holds at the end of the stream
                yield from self._picks(context.decode(None))
            except (av.error.FFmpegError, ValueError) as exc:
                self.bad += 1
                self.error = _reason(exc)

    def _picks(self, frames: Iterable[av.VideoFrame]) -> Iterator[Pick]:
        for frame in frames:
            if (picked := self._offer(frame)) is not None:
                yield picked

    def _offer(self, frame: av.VideoFrame) -> Pick | None:
        _check_size(frame.width, frame.height, self.max_frame_pixels, self.where)
        self.decoded += 1
        position = frame.pts if self._time_base is not None else self._base + self._produced
        self._produced += 1
        targets = self.plan.targets
        if position is None or self._next >= len(targets) or position < targets[self._next]:
            return None
        while self._next < len(targets) and position >= targets[self._next]:
            self._next += 1
        full = self._full.reformat(frame, format="rgb24").to_ndarray()
        return Pick(full, self._time_ms(position), self._small(frame))

    def _small(self, frame: av.VideoFrame) -> np.ndarray | None:
        side, longest = self.scaled_side, max(frame.width, frame.height)
        if side is None or longest <= side:
            return None
        scale = side / longest
        width = max(1, round(frame.width * scale))
        height = max(1, round(frame.height * scale))
        return self._scaler.reformat(frame, width, height, "rgb24").to_ndarray()

    def _time_ms(self, position: int) -> int:
        if self._time_base is not None:
            return round(float((position - self.plan.origin) * self._time_base) * 1000)
        return round(position * 1000 / self.index.rate)


def _check_size(width: int, height: int, limit: int, where: str) -> None:
    if width * height > limit:
        over = (
            f"({width * height} pixels), over the {limit}-pixel limit (ROLLCALL_MAX_FRAME_PIXELS)"
        )
    elif max(width, height) > MAX_FRAME_SIDE:
        over = f"wider or taller than the {MAX_FRAME_SIDE} pixels a result's box can hold"
    else:
        return
    raise ClipError(
        ErrorCode.FRAME_TOO_LARGE, f"{where}: frames are {width}x{height} {over}", "decode"
    )


def _looks_like_video(data: bytes) -> bool:
    head = data[:64]
    return (
        head[4:8] in _VIDEO_MAGIC
        # H.264/HEVC Annex B start codes, Matroska/WebM's EBML magic, AVI's RIFF header
        or head.startswith((b"\x00\x00\x00\x01", b"\x00\x00\x01", b"\x1a\x45\xdf\xa3"))
        or (head.startswith(b"RIFF") and head[8:12] == b"AVI ")
    )


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).splitlines()[0][:300] if text else type(exc).__name__
