"""A pool of uploader threads: oldest clip first, retry with jittered backoff, delete on confirm.

Capture never waits for an upload: it only commits clips to the spool. A clip leaves the
spool only after S3 answered the PUT with success (the PUT carries Content-MD5, so S3
itself verified the bytes). Before retrying a clip whose earlier attempt failed, the
worker asks S3 (HEAD) whether that attempt did land after all (same MD5 ETag) — a
timeout after the server stored the object then costs no second object version and no
second S3 event.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from edge_capture.spool import Spool, SpoolEntry

log = logging.getLogger(__name__)


def backoff_delay(failures: int, base: float, cap: float) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**failures)]."""
    return random.uniform(0.0, min(cap, base * (2 ** min(failures, 30))))


class UploaderPool:
    """``workers`` threads uploading clips from ``spool`` to ``bucket``."""

    def __init__(
        self,
        spool: Spool,
        s3: Any,
        bucket: str,
        *,
        workers: int = 2,
        retry_base_s: float = 0.25,
        retry_max_s: float = 10.0,
        on_uploaded: Callable[[SpoolEntry, float, int], None] = lambda e, t, n: None,
        on_retry: Callable[[SpoolEntry, Exception], None] = lambda e, exc: None,
    ) -> None:
        self.spool, self.s3, self.bucket = spool, s3, bucket
        self.workers, self.retry_base_s, self.retry_max_s = workers, retry_base_s, retry_max_s
        self.on_uploaded, self.on_retry = on_uploaded, on_retry
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
        failures = 0
        while not self._stop.is_set():
            entry = self.spool.claim(self._stop)
            if entry is None:
                continue
            try:
                attempts = self._upload(entry)
            except (ClientError, BotoCoreError, OSError) as exc:
                self.spool.release(entry)
                with contextlib.suppress(Exception):
                    self.on_retry(entry, exc)
                failures += 1
                delay = backoff_delay(failures, self.retry_base_s, self.retry_max_s)
                if failures == 1 or failures % 10 == 0:
                    log.warning(
                        "upload of %s failed (%s); retrying in %.2f s (failure %d in a row)",
                        entry.key,
                        _brief(exc),
                        delay,
                        failures,
                    )
                self._stop.wait(delay)
                continue
            except Exception:  # a bug must not kill the worker silently
                log.exception("unexpected error uploading %s", entry.key)
                self.spool.release(entry)
                self._stop.wait(self.retry_max_s)
                continue
            failures = 0
            done = time.time()
            with self._lock:
                self._attempts.pop(entry.key, None)
            self.spool.remove(entry)
            try:
                self.on_uploaded(entry, done, attempts)
            except Exception:  # bookkeeping must not kill the worker
                log.exception("on_uploaded callback failed for %s", entry.key)

    def _upload(self, entry: SpoolEntry) -> int:
        """PUT one clip (or confirm an earlier attempt landed); returns the attempt count."""
        with self._lock:
            attempt = self._attempts.get(entry.key, 0) + 1
            self._attempts[entry.key] = attempt
        body = entry.path.read_bytes()
        digest = hashlib.md5(body, usedforsecurity=False)
        if attempt > 1 and self._already_there(entry.key, digest.hexdigest()):
            log.info("upload of %s: an earlier attempt had landed", entry.key)
            return attempt
        self.s3.put_object(
            Bucket=self.bucket,
            Key=entry.key,
            Body=body,
            ContentType="video/mp4",
            ContentMD5=base64.b64encode(digest.digest()).decode("ascii"),
        )
        return attempt

    def _already_there(self, key: str, md5_hex: str) -> bool:
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return str(head.get("ETag", "")).strip('"') == md5_hex


def _brief(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
