"""The capture loop: frames -> clips -> the motion gate -> committed to the spool, or skipped.

The gate looks at every frame as it arrives. A clip's frames are held unencoded until the gate
knows the clip will be uploaded (the session's first clip, a keep-alive, or motion in a frame);
from then on they are encoded as they arrive, so a clip with motion early is ready a few ms
after its last frame, as without the gate. A clip the gate skips is dropped from memory
without ever being encoded or written to the spool: the CPU saving is the encoder's, and the
spool's commit protocol is unchanged (only decided clips are ever committed).
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np

from edge_capture.config import EdgeConfig
from edge_capture.encoder import ClipWriter, EncoderSettings
from edge_capture.gate import ClipGate, make_gate
from edge_capture.sources import CapturedFrame, FrameSource
from edge_capture.spool import Spool, SpoolEntry
from shared_schema import ClipId, format_key

log = logging.getLogger(__name__)


def gate_for(config: EdgeConfig) -> ClipGate:
    """The gate ``config`` asks for (its mask loaded).

    Raises:
        ConfigError: the mask cannot be used.
    """
    return make_gate(
        config.gate_settings,
        config.width,
        config.height,
        config.clip_span_s,
        config.load_gate_mask(),
    )


PENDING_BYTES = 64 * 2**20
"""Frames of an undecided clip held unencoded, at most; past it, encoding starts anyway."""


class _OpenClip:
    """A clip being recorded. Its frames are held, unencoded, until the gate decides to upload
    it; from then on they are encoded as they arrive. A clip the gate skips is never encoded
    (or, past ``PENDING_BYTES`` of frames, its temp file is deleted): nothing reaches the
    spool's committed area."""

    def __init__(
        self, spool: Spool, config: EdgeConfig, settings: EncoderSettings, max_pending: int
    ) -> None:
        self.config, self.settings = config, settings
        self.max_pending = max_pending
        self.temp = spool.temp_path()
        self.writer: ClipWriter | None = None
        self.pending: list[np.ndarray] = []
        self.frames = 0
        self.start: float | None = None
        self.last = 0.0

    def add(self, frame: CapturedFrame, *, encode: bool) -> None:
        """Take a frame; encode it (and any held ones) now if ``encode`` or the hold is full."""
        if self.start is None:
            self.start = frame.wall
        self.pending.append(frame.image)
        self.frames += 1
        self.last = frame.wall
        if encode or self.writer is not None or len(self.pending) >= self.max_pending:
            self.encode_pending()

    def encode_pending(self) -> None:
        """Open the encoder if needed and encode the frames held so far."""
        if self.writer is None:
            self.writer = ClipWriter(
                self.temp, self.config.width, self.config.height, self.settings
            )
        for image in self.pending:
            self.writer.add(image)
        self.pending.clear()

    def close(self) -> int:
        """Encode what is held and finish the file; the number of frames written."""
        self.encode_pending()
        assert self.writer is not None
        return self.writer.close()

    def discard(self) -> None:
        self.pending.clear()
        if self.writer is not None:
            self.writer.abort()
        with contextlib.suppress(FileNotFoundError):
            self.temp.unlink()


class CaptureLoop:
    """Cuts a source's frames into clips of ``config.frames_per_clip`` frames.

    ``--duration`` counts recorded video: capture ends after ``duration * fps`` frames
    (wall-clock time in real-time mode; never for ``inf``), at the end of a file (unless
    looping), or when ``stop`` is set. A final partial clip is kept. The gate sees every
    frame of every clip and, at the clip's end, decides whether it is committed to the spool
    or skipped.
    """

    def __init__(
        self,
        config: EdgeConfig,
        spool: Spool,
        *,
        first_seq: int = 0,
        gate: ClipGate | None = None,
        on_clip: Callable[[SpoolEntry, int, str], None] = lambda e, s, r: None,
        on_skipped: Callable[[int], None] = lambda frames: None,
        on_dropped: Callable[[SpoolEntry], None] = lambda e: None,
        on_paused: Callable[[int], None] = lambda n: None,
        on_encode_error: Callable[[Exception], None] = lambda exc: None,
    ) -> None:
        self.config, self.spool, self.seq = config, spool, first_seq
        self.gate: ClipGate = gate or gate_for(config)
        self.on_clip, self.on_skipped, self.on_dropped = on_clip, on_skipped, on_dropped
        self.on_paused, self.on_encode_error = on_paused, on_encode_error
        self.settings = EncoderSettings(
            fps=config.fps, preset=config.preset, tune=config.tune or None, crf=config.crf
        )
        self.max_pending = max(1, PENDING_BYTES // (config.width * config.height * 3))
        self.frames_seen = 0
        self.clips = 0
        self.skipped = 0

    def run(self, source: FrameSource, stop: threading.Event) -> None:
        """Record until the duration is reached, the source ends, or ``stop`` is set."""
        duration = self.config.duration_s
        limit = round(duration * self.config.fps) if math.isfinite(duration) else None
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
                if limit is not None and self.frames_seen >= limit:
                    break
            if self._current is not None and self._current.frames > 0:
                current, self._current = self._current, None
                self._end(current)
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
            self._current = _OpenClip(self.spool, self.config, self.settings, self.max_pending)
            self.gate.begin(frame.t)
        current = self._current
        try:
            current.add(frame, encode=self.gate.observe(frame.image, frame.t))
        except Exception as exc:
            current.discard()
            self._current = None
            self.on_encode_error(exc)
            log.exception("encoding failed; clip discarded")
            return
        if current.frames >= self.config.frames_per_clip:
            self._current = None
            self._end(current)

    def _end(self, clip: _OpenClip) -> None:
        """The gate's verdict: commit the clip, or skip it (never encoded, never spooled)."""
        reason = self.gate.end()
        if reason is None:
            clip.discard()
            self.skipped += 1
            self.on_skipped(clip.frames)
            return
        self._finish(clip, reason)

    def _finish(self, clip: _OpenClip, reason: str) -> None:
        config = self.config
        try:
            clip.close()
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
        entry, evicted = self.spool.commit(clip.temp, format_key(clip_id), clip.last)
        self.gate.uploaded()
        self.on_clip(entry, self.seq, reason)
        for victim in evicted:
            self.on_dropped(victim)
        self.seq += 1
        self.clips += 1
