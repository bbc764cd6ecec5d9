"""A pool of uploader threads: oldest clip first, delete on confirm, pause after failures.

Capture never waits for an upload: it only commits clips to the spool. A clip leaves the
spool only after S3 answered its PUT with success (the PUT carries Content-MD5, so S3
itself verified the bytes).

Retrying is layered. botocore retries each call (``aws.RETRIES``). When a PUT still fails,
the clip goes back to the spool, keeping its place, and the pool pauses (``Backoff``, shared
by every worker) before the next round: that is how an outage of minutes is survived. Every
PUT is conditional (``If-None-Match: *``), so a retry, botocore's or ours, of a PUT that did
land (its answer was lost) is refused with 412 instead of storing a second object version
and firing a second S3 event; the worker then checks (HEAD) that the object there has the
clip's MD5 and counts the clip as uploaded.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from edge_capture.aws import problem
from edge_capture.backoff import Backoff
from edge_capture.spool import Spool, SpoolEntry

log = logging.getLogger(__name__)


class KeyTakenError(Exception):
    """Another object (other bytes) already holds a clip's key."""


class UploaderPool:
    """``workers`` threads uploading clips from ``spool`` to ``bucket``."""

    def __init__(
        self,
        spool: Spool,
        s3: Any,
        bucket: str,
        *,
        workers: int = 2,
        backoff: Backoff | None = None,
        on_uploaded: Callable[[SpoolEntry, float, int], None] = lambda e, t, n: None,
        on_retry: Callable[[SpoolEntry, Exception], None] = lambda e, exc: None,
        on_taken: Callable[[SpoolEntry], None] = lambda e: None,
    ) -> None:
        self.spool, self.s3, self.bucket, self.workers = spool, s3, bucket, workers
        self.backoff = backoff or Backoff(0.25, 10.0)
        self.on_uploaded, self.on_retry, self.on_taken = on_uploaded, on_retry, on_taken
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._attempts: dict[str, int] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the worker threads."""
        for index in range(self.workers):
            thread = threading.Thread(target=self._run, name=f"uploader-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the workers to stop and wait up to ``timeout`` seconds for them."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self) -> None:
        while not self._stop.wait(self.backoff.remaining()):
            entry = self.spool.claim(self._stop)
            if entry is not None:
                self.upload(entry)

    def upload(self, entry: SpoolEntry) -> bool:
        """One attempt at a claimed clip: True when S3 has it (the clip leaves the spool);
        otherwise it goes back to the spool and the pool pauses."""
        with self._lock:
            attempts = self._attempts[entry.key] = self._attempts.get(entry.key, 0) + 1
        try:
            self._put(entry)
        except KeyTakenError:
            log.error(
                "upload of %s: a different object already has this key (another device with "
                "the same device id?); the clip is dropped",
                entry.key,
            )
            self._forget(entry)
            self.on_taken(entry)
            return False
        except (ClientError, BotoCoreError, OSError) as exc:
            self._failed(entry, exc)
            return False
        except Exception as exc:  # a bug must not kill the worker silently
            log.exception("unexpected error uploading %s", entry.key)
            self._failed(entry, exc)
            return False
        self.backoff.succeeded()
        try:  # before the clip leaves the spool: whoever waits for an empty spool sees it
            self.on_uploaded(entry, time.time(), attempts)
        except Exception:  # bookkeeping must not kill the worker
            log.exception("on_uploaded callback failed for %s", entry.key)
        self._forget(entry)
        return True

    def _put(self, entry: SpoolEntry) -> None:
        """PUT the clip unless it is there already.

        Raises:
            KeyTakenError: another object holds the key.
        """
        body = entry.path.read_bytes()
        digest = hashlib.md5(body, usedforsecurity=False)
        try:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=entry.key,
                Body=body,
                ContentType="video/mp4",
                ContentMD5=base64.b64encode(digest.digest()).decode("ascii"),
                IfNoneMatch="*",
            )
        except ClientError as exc:
            if problem(exc) != "exists":
                raise
            head = self.s3.head_object(Bucket=self.bucket, Key=entry.key)
            if str(head.get("ETag", "")).strip('"') != digest.hexdigest():
                raise KeyTakenError(entry.key) from None
            log.info("upload of %s: an earlier attempt had landed", entry.key)

    def _failed(self, entry: SpoolEntry, exc: Exception) -> None:
        self.spool.release(entry)
        with contextlib.suppress(Exception):
            self.on_retry(entry, exc)
        pause = self.backoff.failed()
        failures = self.backoff.failures
        if failures == 1 or failures % 10 == 0:
            log.warning(
                "upload of %s failed (%s); uploads pause for %.2f s (failure %d in a row)",
                entry.key,
                _brief(exc),
                pause,
                failures,
            )

    def _forget(self, entry: SpoolEntry) -> None:
        with self._lock:
            self._attempts.pop(entry.key, None)
        self.spool.remove(entry)


def _brief(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
