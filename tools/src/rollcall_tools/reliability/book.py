"""The answer book: every result message seen per clip key, and the exactly-once verdict."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shared_schema import RecognitionResult


@dataclass
class Answer:
    """One result message for a clip."""

    received_at: float
    status: str
    digest: str
    error_code: str | None = None
    attempt: int = 1
    """The delivery attempt that produced it (2 and more: the event was redelivered)."""
    computed: str = ""
    """Which computation produced it (its processed_at and attempt): two messages of one
    computation are one publish sent twice by a transport retry, not two answers."""


@dataclass
class Verdict:
    """Exactly-once accounting of a set of clips (the keys that were captured)."""

    clips: int
    answered_once: int
    lost: int
    duplicates: int
    """Answers beyond the first for a clip: the clip was computed and published again."""
    conflicting: int
    """Clips answered more than once with different answers (ignoring timing fields)."""
    unexpected: int
    """Results for keys that were never captured in this run."""
    malformed: int
    lost_keys: list[str] = field(default_factory=list)
    duplicate_keys: list[str] = field(default_factory=list)
    republished: int = 0
    """Messages that repeat one computation's answer (the same processed_at and attempt): a
    publish whose response a cut connection lost, retried by botocore. A standard SNS topic
    is at-least-once in the same way; edge-capture keeps the first."""

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicates == 0 and self.answered_once == self.clips

    def to_json(self) -> dict[str, Any]:
        return {
            "clips": self.clips,
            "answered_once": self.answered_once,
            "lost": self.lost,
            "duplicates": self.duplicates,
            "conflicting": self.conflicting,
            "unexpected": self.unexpected,
            "malformed": self.malformed,
            "lost_keys": self.lost_keys[:20],
            "duplicate_keys": self.duplicate_keys[:20],
            "republished": self.republished,
            "ok": self.ok,
        }


def answer_digest(result: RecognitionResult) -> str:
    """What must agree between two answers for the same clip (timings and stamps excluded)."""
    data = result.model_dump(mode="json", exclude={"timings", "processed_at", "attempt"})
    return hashlib.sha256(repr(sorted(data.items())).encode()).hexdigest()[:16]


class AnswerBook:
    """Thread-safe record of result messages, keyed by clip key."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self.answers: dict[str, list[Answer]] = {}
        self.malformed = 0

    def add_message(self, body: str, received_at: float | None = None) -> RecognitionResult | None:
        """Record one message body; None (and counted) when it is not a valid result."""
        try:
            result = RecognitionResult.from_message(body)
        except ValueError:
            with self._lock:
                self.malformed += 1
            return None
        answer = Answer(
            received_at=received_at or time.time(),
            status=result.status.value,
            digest=answer_digest(result),
            error_code=result.error.code.value if result.error else None,
            attempt=result.attempt,
            computed=f"{result.processed_at.isoformat()}#{result.attempt}",
        )
        with self._lock:
            self.answers.setdefault(result.clip.key, []).append(answer)
            self._lock.notify_all()
        return result

    def first(self, key: str) -> Answer | None:
        with self._lock:
            found = self.answers.get(key)
            return found[0] if found else None

    def all(self, key: str) -> list[Answer]:
        with self._lock:
            return list(self.answers.get(key, ()))

    def count(self, key: str) -> int:
        with self._lock:
            return len(self.answers.get(key, ()))

    def wait_for(
        self, keys: Iterable[str], timeout_s: float, *, per_key: int = 1, since: float = 0.0
    ) -> bool:
        """Wait until every key has at least ``per_key`` answers (received at or after
        ``since``, epoch seconds); False on timeout."""
        wanted = set(keys)
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while any(n < per_key for n in self._counts(wanted, since).values()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(min(remaining, 0.5))
            return True

    def _counts(self, keys: Iterable[str], since: float) -> dict[str, int]:
        """Answers per key received at or after ``since`` (the lock held)."""
        return {k: sum(1 for a in self.answers.get(k, ()) if a.received_at >= since) for k in keys}

    def answered(self, keys: Iterable[str]) -> int:
        with self._lock:
            return sum(1 for k in keys if k in self.answers)

    def verdict(self, keys: Iterable[str], *, per_key: int = 1, since: float = 0.0) -> Verdict:
        """The accounting for ``keys`` (every clip captured), each uploaded ``per_key`` times
        (a re-upload of a key is a new object: answered again); only answers received at or
        after ``since`` (epoch seconds) count. ``clips`` counts uploads."""
        wanted = sorted(set(keys))
        with self._lock:
            messages = self._counts(wanted, since)
            counts = {  # answers: one per computation
                k: len({a.computed for a in self.answers.get(k, ()) if a.received_at >= since})
                for k in wanted
            }
            conflicting = sum(
                1
                for k in wanted
                if len({a.digest for a in self.answers.get(k, ()) if a.received_at >= since}) > 1
            )
            unexpected = sum(1 for k in self.answers if k not in counts)
            malformed = self.malformed
        lost = [k for k, n in counts.items() if n < per_key]
        dup = [k for k, n in counts.items() if n > per_key]
        return Verdict(
            clips=len(wanted) * per_key,
            answered_once=sum(n for n in counts.values() if n <= per_key),
            lost=sum(max(0, per_key - n) for n in counts.values()),
            duplicates=sum(max(0, n - per_key) for n in counts.values()),
            conflicting=conflicting,
            unexpected=unexpected,
            malformed=malformed,
            lost_keys=lost,
            duplicate_keys=dup,
            republished=sum(messages.values()) - sum(counts.values()),
        )
