"""The session's book of clips: what was captured, uploaded, answered; builds the summary."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from edge_capture.config import EdgeConfig
from edge_capture.spool import SpoolEntry
from edge_capture.summary import (
    ClipOutcome,
    LatencyStats,
    PersonInClip,
    PersonSeen,
    SessionSummary,
)
from shared_schema import RecognitionResult, ResultStatus

log = logging.getLogger(__name__)

Recorded = Literal["new", "duplicate", "unknown", "closed"]


@dataclass
class _Clip:
    key: str
    seq: int
    size: int
    capture_end: float
    resumed: bool
    gate_reason: str | None = None
    uploaded_at: float | None = None
    attempts: int = 0
    dropped: bool = False
    result: RecognitionResult | None = None
    result_at: float | None = None


@dataclass
class Counters:
    """Things counted across the session (all guarded by the ledger's lock)."""

    upload_retries: int = 0
    clips_skipped: int = 0
    frames_paused: int = 0
    encode_errors: int = 0
    duplicate_results: int = 0
    earlier_run_results: int = 0
    foreign_ids: set[str] = field(default_factory=set)
    malformed_ids: set[str] = field(default_factory=set)


def _ms(later: float | None, earlier: float | None) -> float | None:
    if later is None or earlier is None:
        return None
    return round((later - earlier) * 1000.0, 1)


class Ledger:
    """Thread-safe record of every clip; listeners hear about each matched result."""

    def __init__(self, config: EdgeConfig) -> None:
        self.config = config
        self.started_at = time.time()
        self.counters = Counters()
        self._clips: dict[str, _Clip] = {}
        self._order: list[str] = []
        self._early_uploads: dict[str, tuple[float, int]] = {}
        self._lock = threading.Condition()
        self._listeners: list[Callable[[ClipOutcome], None]] = []
        self.capture_error: str | None = None
        self.closed = False
        self.interrupted = False

    def on_result(self, listener: Callable[[ClipOutcome], None]) -> None:
        """Call ``listener`` (from the poller thread) with each newly matched clip outcome."""
        self._listeners.append(listener)

    # -- events -----------------------------------------------------------------------------
    def add(
        self, entry: SpoolEntry, *, resumed: bool, seq: int, gate_reason: str | None = None
    ) -> None:
        """A clip entered the spool (captured now, or found there at start-up), with the
        reason the gate let it through (None for a resumed clip)."""
        with self._lock:
            if entry.key in self._clips:
                return
            clip = _Clip(entry.key, seq, entry.size, entry.capture_end, resumed, gate_reason)
            early = self._early_uploads.pop(entry.key, None)
            if early is not None:  # an uploader confirmed it before we were told of it
                clip.uploaded_at, clip.attempts = early
            self._clips[entry.key] = clip
            self._order.append(entry.key)

    def uploaded(self, key: str, at: float, attempts: int) -> None:
        """S3 confirmed the clip."""
        with self._lock:
            clip = self._clips.get(key)
            if clip is not None:
                clip.uploaded_at, clip.attempts = at, attempts
            else:
                self._early_uploads[key] = (at, attempts)
            self._lock.notify_all()

    def dropped(self, key: str) -> None:
        """The clip was evicted from a full spool, never uploaded."""
        with self._lock:
            clip = self._clips.get(key)
            if clip is not None:
                clip.dropped = True
            self._lock.notify_all()

    def knows(self, key: str) -> bool:
        """Whether the clip is one of this session's."""
        with self._lock:
            return key in self._clips

    def record(self, key: str, result: RecognitionResult, at: float) -> Recorded:
        """Attach a result to its clip; the first result for a clip wins."""
        with self._lock:
            if self.closed:
                return "closed"
            clip = self._clips.get(key)
            if clip is None:
                return "unknown"
            if clip.result is not None:
                self.counters.duplicate_results += 1
                return "duplicate"
            clip.result, clip.result_at = result, at
            if clip.uploaded_at is None:  # the result beat the upload confirmation back
                clip.uploaded_at = at
            outcome = self._outcome(clip)
            self._lock.notify_all()
        for listener in self._listeners:
            try:
                listener(outcome)
            except Exception:  # a caller's bug must not stop result collection
                log.exception("on_result listener failed for %s", key)
        return "new"

    def count(self, **increments: int) -> None:
        """Add to the integer counters by name."""
        with self._lock:
            for name, value in increments.items():
                setattr(self.counters, name, getattr(self.counters, name) + value)

    def note_message(self, kind: Literal["foreign", "malformed"], message_id: str) -> bool:
        """Count a message we leave on the queue; True the first time this id is seen."""
        with self._lock:
            ids = self.counters.foreign_ids if kind == "foreign" else self.counters.malformed_ids
            first = message_id not in ids
            ids.add(message_id)
            return first

    def close(self) -> None:
        """Accept no more results (the summary is being written); they stay on the queue."""
        with self._lock:
            self.closed = True

    # -- waiting ----------------------------------------------------------------------------
    def unanswered_uploaded(self) -> int:
        """Uploaded clips still waiting for their result."""
        with self._lock:
            return sum(1 for c in self._clips.values() if c.uploaded_at and c.result is None)

    def wait_answered(self, timeout: float, abort: Callable[[], bool] = lambda: False) -> bool:
        """Wait until every uploaded clip has its result; False on timeout or abort."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while any(c.uploaded_at and c.result is None for c in self._clips.values()):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or abort():
                    return False
                self._lock.wait(min(remaining, 0.2))
            return True

    # -- reporting --------------------------------------------------------------------------
    def _outcome(self, clip: _Clip) -> ClipOutcome:
        result = clip.result
        if result is None:
            return ClipOutcome(
                key=clip.key,
                seq=clip.seq,
                status="dropped" if clip.dropped else "missing",
                resumed=clip.resumed,
                gate_reason=clip.gate_reason,
                bytes=clip.size,
                capture_end=clip.capture_end,
                uploaded_at=clip.uploaded_at,
                upload_attempts=clip.attempts,
                capture_to_upload_ms=_ms(clip.uploaded_at, clip.capture_end),
            )
        people = [
            PersonInClip(
                name=face.identity,
                similarity=round(face.similarity, 4),
                major=face.record.major if face.record else None,
                year=face.record.year if face.record else None,
            )
            for face in result.faces
            if face.identity is not None
        ]
        return ClipOutcome(
            key=clip.key,
            seq=clip.seq,
            status=result.status.value,
            resumed=clip.resumed,
            gate_reason=clip.gate_reason,
            bytes=clip.size,
            capture_end=clip.capture_end,
            uploaded_at=clip.uploaded_at,
            result_at=clip.result_at,
            upload_attempts=clip.attempts,
            people=people,
            unknown_faces=sum(1 for face in result.faces if face.identity is None),
            error=(
                f"{result.error.code.value}: {result.error.message}"
                if result.status is ResultStatus.ERROR and result.error
                else None
            ),
            handler_ms=result.timings.total_ms,
            capture_to_upload_ms=_ms(clip.uploaded_at, clip.capture_end),
            capture_to_result_ms=_ms(clip.result_at, clip.capture_end),
            upload_to_result_ms=_ms(clip.result_at, clip.uploaded_at),
            result=result.model_dump(mode="json"),
        )

    def outcomes(self) -> list[ClipOutcome]:
        """Every clip's outcome, in the order clips entered the spool."""
        with self._lock:
            return [self._outcome(self._clips[key]) for key in self._order]

    def snapshot(self) -> dict[str, int]:
        """Counts for the live view."""
        with self._lock:
            clips = list(self._clips.values())
            skipped = self.counters.clips_skipped
            return {
                "captured": sum(1 for c in clips if not c.resumed) + skipped,
                "skipped": skipped,
                "resumed": sum(1 for c in clips if c.resumed),
                "uploaded": sum(1 for c in clips if c.uploaded_at is not None),
                "answered": sum(1 for c in clips if c.result is not None),
                "dropped": sum(1 for c in clips if c.dropped),
                "retries": self.counters.upload_retries,
                "foreign": len(self.counters.foreign_ids),
                "malformed": len(self.counters.malformed_ids),
                "paused": self.counters.frames_paused,
            }

    def summary(self) -> SessionSummary:
        """The end-of-session report."""
        outcomes = self.outcomes()
        fresh = [o for o in outcomes if not o.resumed]
        people: dict[str, PersonSeen] = {}
        for outcome in outcomes:
            for name in {p.name for p in outcome.people}:
                best = max(p.similarity for p in outcome.people if p.name == name)
                ref = next(p for p in outcome.people if p.name == name)
                seen = people.get(name)
                people[name] = PersonSeen(
                    name=name,
                    clips=(seen.clips if seen else 0) + 1,
                    best_similarity=max(best, seen.best_similarity if seen else -1.0),
                    major=ref.major or (seen.major if seen else None),
                    year=ref.year or (seen.year if seen else None),
                )
        with self._lock:
            counters = self.counters
            return SessionSummary(
                device_id=self.config.device_id,
                session_id=self.config.session_id,
                bucket=self.config.bucket,
                source=self.config.source,
                started_at=self.started_at,
                ended_at=time.time(),
                clips_captured=len(fresh) + counters.clips_skipped,
                clips_resumed=len(outcomes) - len(fresh),
                clips_uploaded=sum(1 for o in outcomes if o.uploaded_at is not None),
                clips_answered=sum(1 for o in outcomes if o.result_at is not None),
                clips_dropped=sum(1 for o in outcomes if o.status == "dropped"),
                missing_keys=[o.key for o in outcomes if o.result_at is None],
                latency_ms=LatencyStats.of(
                    [o.capture_to_result_ms for o in fresh if o.capture_to_result_ms is not None]
                ),
                upload_to_result_ms=LatencyStats.of(
                    [o.upload_to_result_ms for o in fresh if o.upload_to_result_ms is not None]
                ),
                capture_to_upload_ms=LatencyStats.of(
                    [o.capture_to_upload_ms for o in fresh if o.capture_to_upload_ms is not None]
                ),
                people_seen=sorted(people.values(), key=lambda p: (-p.clips, p.name)),
                outcomes=outcomes,
                gate=self.config.gate,
                clips_skipped=counters.clips_skipped,
                gate_reasons=dict(
                    sorted(Counter(o.gate_reason for o in fresh if o.gate_reason).items())
                ),
                upload_retries=counters.upload_retries,
                frames_paused=counters.frames_paused,
                encode_errors=counters.encode_errors,
                foreign_results=len(counters.foreign_ids),
                malformed_results=len(counters.malformed_ids),
                duplicate_results=counters.duplicate_results,
                earlier_run_results=counters.earlier_run_results,
                capture_error=self.capture_error,
                interrupted=self.interrupted,
            )
