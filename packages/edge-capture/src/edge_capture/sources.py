"""Frame sources: a Pi camera, a video file, a V4L2 webcam, a network camera, a test pattern.

Every source yields RGB ``uint8`` frames of exactly the configured size at the configured
frame rate, each stamped with the wall-clock time it was captured and with its time on the
source's own clock (media time for files and the test pattern, so that ``--fast`` behaves
like real time; monotonic time for cameras). Sources that play media (files, the test
pattern) are paced to real time unless ``fast`` is set. A yielded image is never modified
afterwards (the capture loop may hold it until its clip is decided).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import av
import numpy as np

from edge_capture.errors import SourceError, UnreachableError

log = logging.getLogger(__name__)

_NETWORK = re.compile(r"^(rtsps?|rtmp|https?)://", re.IGNORECASE)
NETWORK_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class CapturedFrame:
    """One frame: RGB ``uint8`` HxWx3, the wall-clock time (epoch seconds) it was taken, and
    ``t``, its capture time in seconds on the source's clock (see the module docstring)."""

    image: np.ndarray
    wall: float
    t: float


class FrameSource(Protocol):
    """Anything that yields frames until it ends or is closed."""

    description: str

    def frames(self) -> Iterator[CapturedFrame]:
        """Frames at the configured size and rate; ends at end of input."""
        ...

    def close(self) -> None:
        """Release the device or file."""
        ...


@dataclass(frozen=True)
class SourceSpec:
    """What to open and how."""

    source: str
    width: int
    height: int
    fps: float
    fast: bool = False
    loop: bool = False


class _Pacer:
    """Sleeps until tick ``k`` is due (real time), or never (fast mode)."""

    def __init__(self, fps: float, fast: bool, stop: threading.Event) -> None:
        self.fps, self.fast, self.stop = fps, fast, stop
        self.start = time.monotonic()

    def wait(self, tick: int) -> bool:
        """False when asked to stop while waiting."""
        if self.fast:
            return not self.stop.is_set()
        delay = self.start + tick / self.fps - time.monotonic()
        if delay > 0:
            return not self.stop.wait(delay)
        return not self.stop.is_set()


class SyntheticSource:
    """A moving test pattern (``--source test``): no camera needed, deterministic content."""

    def __init__(self, spec: SourceSpec, stop: threading.Event) -> None:
        self.spec, self.stop = spec, stop
        self.description = f"test pattern {spec.width}x{spec.height}@{spec.fps:g}"
        h, w = spec.height, spec.width
        y, x = np.mgrid[0:h, 0:w]
        self._base = np.stack(
            [(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)), ((x + y) % 256)], axis=-1
        ).astype(np.uint8)

    def frame_at(self, tick: int) -> np.ndarray:
        """The pattern at tick ``tick``: a scrolling gradient with a moving white square."""
        img = np.roll(self._base, tick * 4, axis=1)
        side = max(8, self.spec.height // 6)
        x0 = (tick * 7) % max(1, self.spec.width - side)
        y0 = (tick * 3) % max(1, self.spec.height - side)
        img[y0 : y0 + side, x0 : x0 + side] = 255
        return img

    def frames(self) -> Iterator[CapturedFrame]:
        pacer = _Pacer(self.spec.fps, self.spec.fast, self.stop)
        tick = 0
        while pacer.wait(tick):
            yield CapturedFrame(self.frame_at(tick), time.time(), tick / self.spec.fps)
            tick += 1

    def close(self) -> None:
        return None


def _to_rgb(frame: av.VideoFrame, width: int, height: int) -> np.ndarray:
    return frame.to_ndarray(width=width, height=height, format="rgb24")


class FileSource:
    """A video file played at its own timeline, resampled to the configured frame rate."""

    def __init__(self, spec: SourceSpec, stop: threading.Event) -> None:
        self.spec, self.stop = spec, stop
        self.path = Path(spec.source).expanduser()
        if self.path.is_dir():
            raise SourceError(f"source {spec.source!r}: is a directory, not a video file")
        if not self.path.is_file():
            raise SourceError(f"source {spec.source!r}: no such file")
        self.description = f"file {self.path.name}{' (fast)' if spec.fast else ''}"
        self._check_readable()

    def _check_readable(self) -> None:
        try:
            with av.open(str(self.path)) as container:
                if not container.streams.video:
                    raise SourceError(f"source {self.spec.source!r}: has no video stream")
        except av.FFmpegError as exc:
            raise SourceError(
                f"source {self.spec.source!r}: not a readable video ({exc})"
            ) from None

    def _decoded(self) -> Iterator[tuple[float, av.VideoFrame]]:
        """(media time in seconds from the first frame, frame), over and over when looping."""
        offset = 0.0
        while True:
            last = None
            first: float | None = None
            step = 0.0
            try:
                with av.open(str(self.path)) as container:
                    stream = container.streams.video[0]
                    stream.thread_type = "AUTO"
                    rate = float(stream.average_rate or stream.guessed_rate or self.spec.fps)
                    step = 1.0 / rate
                    for index, frame in enumerate(container.decode(stream)):
                        t = frame.time if frame.time is not None else index * step
                        first = t if first is None else first
                        last = t - first
                        yield offset + last, frame
            except av.FFmpegError as exc:
                raise SourceError(f"source {self.spec.source!r}: decoding failed: {exc}") from None
            if last is None:
                raise SourceError(f"source {self.spec.source!r}: no decodable frame")
            if not self.spec.loop:
                return
            offset += last + step

    def frames(self) -> Iterator[CapturedFrame]:
        spec = self.spec
        pacer = _Pacer(spec.fps, spec.fast, self.stop)
        tick = 0
        previous: tuple[float, av.VideoFrame] | None = None
        rgb: np.ndarray | None = None
        for t, frame in self._decoded():
            # Output tick k shows the latest input frame whose time is <= k / fps.
            while previous is not None and tick / spec.fps < t - 1e-6:
                if rgb is None:
                    rgb = _to_rgb(previous[1], spec.width, spec.height)
                if not pacer.wait(tick):
                    return
                yield CapturedFrame(rgb, time.time(), tick / spec.fps)
                tick += 1
            previous, rgb = (t, frame), None
        last_due = previous is not None and tick / spec.fps <= previous[0] + 1e-6
        if previous is not None and last_due and pacer.wait(tick):
            yield CapturedFrame(
                _to_rgb(previous[1], spec.width, spec.height), time.time(), tick / spec.fps
            )

    def close(self) -> None:
        return None


class LiveSource:
    """A V4L2 webcam (``/dev/videoN``) or a network camera (rtsp/http) read through PyAV."""

    def __init__(self, spec: SourceSpec, stop: threading.Event) -> None:
        self.spec, self.stop = spec, stop
        self.network = bool(_NETWORK.match(spec.source))
        self.description = ("camera " if self.network else "webcam ") + spec.source
        self.container = self._open()

    def _open(self) -> Any:
        spec = self.spec
        try:
            if self.network:
                options = (
                    {"rtsp_transport": "tcp"} if spec.source.lower().startswith("rtsp") else {}
                )
                return av.open(spec.source, options=options, timeout=NETWORK_TIMEOUT_S)
            if not Path(spec.source).exists():
                raise SourceError(f"source {spec.source!r}: no such device")
            wanted = {"video_size": f"{spec.width}x{spec.height}", "framerate": f"{spec.fps:g}"}
            try:
                return av.open(spec.source, format="v4l2", options=wanted)
            except av.FFmpegError:
                log.warning("%s refused %s; opening with its own mode", spec.source, wanted)
                return av.open(spec.source, format="v4l2")
        except av.FFmpegError as exc:
            error = UnreachableError if self.network else SourceError
            raise error(f"source {spec.source!r}: cannot be opened: {exc}") from None

    def frames(self) -> Iterator[CapturedFrame]:
        spec = self.spec
        interval = 1.0 / spec.fps
        due = 0.0
        try:
            for frame in self.container.decode(video=0):
                if self.stop.is_set():
                    return
                now = time.monotonic()
                if now + 0.25 * interval < due:  # faster than wanted: drop this frame
                    continue
                due = max(due + interval, now)
                yield CapturedFrame(_to_rgb(frame, spec.width, spec.height), time.time(), now)
        except av.FFmpegError as exc:
            error = UnreachableError if self.network else SourceError
            raise error(f"source {spec.source!r}: read failed: {exc}") from None

    def close(self) -> None:
        self.container.close()


class PicameraSource:
    """The Raspberry Pi camera through picamera2 (install edge-capture with the ``pi`` extra)."""

    def __init__(self, spec: SourceSpec, stop: threading.Event) -> None:
        self.spec, self.stop = spec, stop
        self.description = f"picamera {spec.width}x{spec.height}@{spec.fps:g}"
        try:
            from picamera2 import Picamera2
        except Exception as exc:
            raise picamera_import_error(exc) from None
        try:
            self.camera = Picamera2()
            config = self.camera.create_video_configuration(
                main={"size": (spec.width, spec.height), "format": "RGB888"},
                controls={"FrameRate": spec.fps},
            )
            self.camera.configure(config)
            self.camera.start()
        except Exception as exc:  # picamera2 raises plain RuntimeError/IndexError
            raise SourceError(f"source 'picamera': camera cannot be started: {exc}") from None

    def frames(self) -> Iterator[CapturedFrame]:
        while not self.stop.is_set():
            # picamera2's "RGB888" is B, G, R in memory: flip to RGB.
            bgr = self.camera.capture_array("main")
            yield CapturedFrame(
                np.ascontiguousarray(bgr[..., 2::-1]), time.time(), time.monotonic()
            )

    def close(self) -> None:
        self.camera.stop()
        self.camera.close()


PI_CONSTRAINTS = "packages/edge-capture/pi-constraints.txt"
"""What the Pi install pins so that Raspberry Pi OS's picamera2 imports (numpy 1.x)."""


def picamera_import_error(exc: BaseException) -> SourceError:
    """One line for a failed ``from picamera2 import Picamera2``: missing, or present but
    broken, most often apt's simplejpeg (built for numpy 1.x) under a pip-installed numpy 2
    ("ValueError: numpy.dtype size changed")."""
    if isinstance(exc, ModuleNotFoundError) and exc.name == "picamera2":
        return SourceError(
            "source 'picamera': picamera2 is not installed (on Raspberry Pi OS: "
            "sudo apt install python3-picamera2, in a venv made with --system-site-packages)"
        )
    first = (str(exc).strip().splitlines() or [""])[0]
    hint = "see packages/edge-capture/README.md (Raspberry Pi)"
    if isinstance(exc, ValueError) or "numpy" in first:
        hint = (
            "Raspberry Pi OS's picamera2 and simplejpeg are built for numpy 1.x: in the venv, "
            f"pip install -c {PI_CONSTRAINTS} 'numpy<2'"
        )
    return SourceError(
        f"source 'picamera': picamera2 is installed but cannot be imported "
        f"({type(exc).__name__}: {first}): {hint}"
    )


def open_source(spec: SourceSpec, stop: threading.Event) -> FrameSource:
    """The source that ``spec.source`` names.

    Raises:
        SourceError: the file/device is missing or unreadable, picamera2 is not installed.
        UnreachableError: a network camera cannot be reached.
    """
    name = spec.source.strip()
    if name == "test":
        return SyntheticSource(spec, stop)
    if name == "picamera":
        return PicameraSource(spec, stop)
    if name.startswith("/dev/video") or _NETWORK.match(name):
        return LiveSource(spec, stop)
    return FileSource(spec, stop)
