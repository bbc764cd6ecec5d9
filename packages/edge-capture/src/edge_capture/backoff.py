"""The pause between rounds of AWS calls that failed even after botocore's own retries.

Each AWS call is retried by botocore (``aws.RETRIES``: standard mode, jittered exponential
backoff). What edge-capture adds is durability across outages longer than a call: the spool
keeps a clip until S3 confirms it, and the uploaders (and the results poller) pause between
rounds of attempts so that an outage of minutes costs a few calls a minute, not a busy loop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Backoff:
    """A pause that doubles from ``base_s`` to at most ``max_s`` with each failure in a row,
    and ends with the first success. Thread-safe; ``clock`` (seconds) is injectable."""

    def __init__(
        self, base_s: float, max_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.base_s, self.max_s, self.clock = base_s, max_s, clock
        self._lock = threading.Lock()
        self._failures = 0
        self._resume_at = 0.0

    @property
    def failures(self) -> int:
        """Failures since the last success."""
        with self._lock:
            return self._failures

    def failed(self) -> float:
        """Record a failure; the pause it starts, in seconds."""
        with self._lock:
            self._failures += 1
            pause = min(self.max_s, self.base_s * 2.0 ** min(self._failures - 1, 30))
            self._resume_at = self.clock() + pause
            return pause

    def succeeded(self) -> None:
        """Record a success: no pause."""
        with self._lock:
            self._failures = 0
            self._resume_at = 0.0

    def remaining(self) -> float:
        """Seconds until the next round may start (0 when not paused)."""
        with self._lock:
            return max(0.0, self._resume_at - self.clock())
