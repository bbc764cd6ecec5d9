"""The capture loop: frames -> clips (encoded as they arrive) -> committed to the spool."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from edge_capture.config import EdgeConfig
from edge_capture.encoder import ClipWriter, EncoderSettings
from edge_capture.sources import CapturedFrame, FrameSource
from edge_capture.spool import Spool, SpoolEntry
from edge_capture.version import __version__
from shared_schema import ClipId, ClipMetadata, format_key

log = logging.getLogger(__name__)


class _OpenClip:
    def __init__(self, spool: Spool, config: EdgeConfig, settings: EncoderSettings) -> None:
        self.temp = spool.temp_path()
        self.writer = ClipWriter(self.temp, config.width, config.height, settings)
        self.start: float | None = None
        self.last = 0.0

    def add(self, frame: CapturedFrame) -> None:
        if self.start is None:
            self.start = frame.wall
        self.writer.add(frame.image)
        self.last = frame.wall

    def discard(self) -> None:
        self.writer.abort()
        with contextlib.suppress(FileNotFoundError):
            self.temp.unlink()


class CaptureLoop:
    """Cuts a source's frames into clips of ``config.frames_per_clip`` frames.

    ``--duration`` counts recorded video: capture ends after ``duration * fps`` frames
    (wall-clock time in real-time mode), at the end of a file (unless looping), or when
    ``stop`` is set. A final partial clip is kept.
    """

    def __init__(
        self,
        config: EdgeConfig,
        spool: Spool,
        *,
        first_seq: int = 0,
        on_clip: Callable[[SpoolEntry, int], None] = lambda e, s: None,
        on_dropped: Callable[[SpoolEntry], None] = lambda e: None,
        on_paused: Callable[[int], None] = lambda n: None,
        on_encode_error: Callable[[Exception], None] = lambda exc: None,
    ) -> None:
        self.config, self.spool, self.seq = config, spool, first_seq
        self.on_clip, self.on_dropped = on_clip, on_dropped
        self.on_paused, self.on_encode_error = on_paused, on_encode_error
        self.settings = EncoderSettings(
            fps=config.fps, preset=config.preset, tune=config.tune or None, crf=config.crf
        )
        self.frames_seen = 0
        self.clips = 0

    def run(self, source: FrameSource, stop: threading.Event) -> None:
        """Record until the duration is reached, the source ends, or ``stop`` is set."""
        limit = round(self.config.duration_s * self.config.fps)
        self._current: _OpenClip | None = None
        self._paused = False
        try:
            if limit == 0:
                return
            for frame in source.frames():
                if stop.is_set():
                    break
                self.frames_seen += 1
                self._take(frame)
                if self.frames_seen >= limit:
                    break
            if self._current is not None and self._current.writer.frames > 0:
                current, self._current = self._current, None
                self._finish(current)
        finally:
            if self._current is not None:
                self._current.discard()
                self._current = None

    def _take(self, frame: CapturedFrame) -> None:
        """Add one frame to the open clip (opening one if the spool has room)."""
        if self._current is None:
            if self.config.spool_policy == "pause" and self.spool.full():
                if not self._paused:
                    log.warning("spool full: capture paused until uploads make room")
                    self._paused = True
                self.on_paused(1)
                return
            if self._paused:
                log.warning("spool has room again: capture resumed")
                self._paused = False
            try:
                self._current = _OpenClip(self.spool, self.config, self.settings)
            except Exception as exc:
                self.on_encode_error(exc)
                log.exception("could not start a clip; frame skipped")
                return
        current = self._current
        try:
            current.add(frame)
        except Exception as exc:
            current.discard()
            self._current = None
            self.on_encode_error(exc)
            log.exception("encoding failed; clip discarded")
            return
        if current.writer.frames >= self.config.frames_per_clip:
            self._current = None
            self._finish(current)

    def _finish(self, clip: _OpenClip) -> None:
        config = self.config
        try:
            frames = clip.writer.close()
        except Exception as exc:
            with contextlib.suppress(FileNotFoundError):
                clip.temp.unlink()
            self.on_encode_error(exc)
            log.exception("finishing a clip failed; clip discarded")
            return
        assert clip.start is not None
        captured_at = datetime.fromtimestamp(clip.start, UTC)
        clip_id = ClipId(
            device_id=config.device_id,
            session_id=config.session_id,
            seq=self.seq,
            captured_at=captured_at,
        )
        metadata = ClipMetadata(
            captured_at=captured_at,
            duration_ms=max(1, round(frames / config.fps * 1000)),
            fps=config.fps,
            width=config.width,
            height=config.height,
            codec="h264",
            edge_version=__version__,
        )
        entry, evicted = self.spool.commit(clip.temp, format_key(clip_id), metadata, clip.last)
        self.on_clip(entry, self.seq)
        for victim in evicted:
            self.on_dropped(victim)
        self.seq += 1
        self.clips += 1
