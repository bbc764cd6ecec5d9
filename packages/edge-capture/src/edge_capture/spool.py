"""The spool: a bounded directory of finished clips waiting for upload, safe across crashes.

Layout under the spool root: ``clips/<device>/<session>/<seq>-<ms>.mp4`` (the S3 key) with
a sidecar ``.json`` (a :class:`SpoolRecord`: key, capture end, edge version), and ``tmp/`` for
clips being written.
A clip is committed by writing the sidecar (temp name, fsync, rename) and then renaming the
finished, fsynced MP4 into place; only committed MP4s with a sidecar are ever uploaded.
At start-up anything in ``tmp/`` (a clip cut short by a crash) and orphan sidecars are deleted.
``sessions/<device>/<session>.seq`` holds the highest clip number a session committed, so a
run that resumes the session (after a crash, with its clips uploaded and gone from the
spool) continues the numbering instead of reusing keys.

When the spool is over its bound, the policy decides:

* ``pause``: no new clip is started until uploads make room (capture pauses; nothing
  already recorded is ever deleted without being uploaded).
* ``drop-oldest``: the oldest clip not being uploaded right now is deleted, with a
  warning, to make room; it is reported as missing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from edge_capture.errors import ConfigError
from edge_capture.version import edge_version
from shared_schema import parse_key

log = logging.getLogger(__name__)


class SpoolRecord(BaseModel):
    """A committed clip's sidecar: what the spool needs to upload the clip and account for it
    after a restart. Edge-internal (never sent anywhere); sidecars written by 0.1, which
    also carried the clip's S3 metadata, still load."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    key: str
    capture_end: float
    """Wall-clock time (epoch seconds) the clip's last frame was captured."""
    edge_version: str | None = None
    """The edge-capture version that recorded the clip."""

    @field_validator("key")
    @classmethod
    def _is_a_clip_key(cls, key: str) -> str:
        parse_key(key)
        return key


@dataclass(frozen=True)
class SpoolEntry:
    """A committed clip waiting for upload."""

    key: str
    path: Path
    meta_path: Path
    size: int
    capture_end: float
    """Wall-clock time (epoch seconds) the clip's last frame was captured."""

    @cached_property
    def captured_at(self) -> datetime:
        """When the clip's first frame was captured (from its key; parsed once)."""
        return parse_key(self.key).captured_at

    @cached_property
    def order(self) -> tuple[datetime, str]:
        """Upload order: oldest clip first."""
        return self.captured_at, self.key


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be fsynced
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """A thread-safe, bounded queue of clips on disk (see the module docstring)."""

    def __init__(self, root: Path, max_bytes: int, policy: str = "pause") -> None:
        self.root, self.max_bytes, self.policy = Path(root), max_bytes, policy
        self.clips_dir, self.tmp_dir = self.root / "clips", self.root / "tmp"
        self.sessions_dir = self.root / "sessions"
        try:
            self.clips_dir.mkdir(parents=True, exist_ok=True)
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
            probe = self.tmp_dir / f".probe-{uuid.uuid4().hex}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(f"spool-dir {self.root}: not writable: {exc.strerror}") from None
        self._lock = threading.Condition()
        self._pending: list[SpoolEntry] = []
        self._claimed: dict[str, SpoolEntry] = {}
        self._used = 0
        self._last_size = 0
        self.dropped: list[str] = []

    # -- start-up ---------------------------------------------------------------------------
    def recover(self) -> list[SpoolEntry]:
        """Load the clips a previous run left behind (oldest first); clean up partial writes."""
        for leftover in self.tmp_dir.iterdir():
            log.warning("spool: deleting partial file %s from an interrupted run", leftover.name)
            with contextlib.suppress(OSError):
                leftover.unlink()
        found: list[SpoolEntry] = []
        for meta_path in sorted(self.clips_dir.rglob("*.json")):
            entry = self._load(meta_path)
            if entry is not None:
                found.append(entry)
        for mp4 in self.clips_dir.rglob("*.mp4"):
            if not mp4.with_suffix(".json").exists():
                log.warning("spool: deleting %s, it has no sidecar (interrupted commit)", mp4)
                with contextlib.suppress(OSError):
                    mp4.unlink()
        found.sort(key=lambda e: e.order)
        with self._lock:
            known = {e.key for e in self._pending} | set(self._claimed)
            for entry in found:
                if entry.key not in known:
                    self._pending.append(entry)
                    self._used += entry.size
            self._pending.sort(key=lambda e: e.order)
            self._lock.notify_all()
        return found

    def _load(self, meta_path: Path) -> SpoolEntry | None:
        mp4 = meta_path.with_suffix(".mp4")
        try:
            record = SpoolRecord.model_validate_json(meta_path.read_bytes())
            size = mp4.stat().st_size
        except FileNotFoundError:
            log.warning("spool: deleting orphan sidecar %s (its clip is gone)", meta_path)
            with contextlib.suppress(OSError):
                meta_path.unlink()
            return None
        except (OSError, ValidationError) as exc:
            first = str(exc).splitlines()[0]
            log.warning("spool: ignoring %s: unreadable sidecar (%s)", meta_path, first)
            return None
        if self.path_for(record.key) != mp4:
            log.warning("spool: ignoring %s: key %s is not its place", meta_path, record.key)
            return None
        return SpoolEntry(record.key, mp4, meta_path, size, record.capture_end)

    # -- clip numbers -----------------------------------------------------------------------
    def _seq_path(self, device_id: str, session_id: str) -> Path:
        return self.sessions_dir / device_id / f"{session_id}.seq"

    def _recorded_seq(self, device_id: str, session_id: str) -> int:
        """The highest clip number recorded for the session (-1: none)."""
        path = self._seq_path(device_id, session_id)
        try:
            return int(path.read_text().strip())
        except FileNotFoundError:
            return -1
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"spool-dir {self.root}: unreadable clip number in {path} ({exc}); "
                "delete it to start the session's numbering from the clips in the spool"
            ) from None

    def next_seq(self, device_id: str, session_id: str) -> int:
        """The first clip number a run of this session may use: one past the highest it
        committed to this spool in any earlier run, uploaded since or not (0 for a new one)."""
        with self._lock:
            entries = [*self._pending, *self._claimed.values()]
        waiting = [
            clip.seq
            for clip in (parse_key(e.key) for e in entries)
            if (clip.device_id, clip.session_id) == (device_id, session_id)
        ]
        return max([self._recorded_seq(device_id, session_id), *waiting]) + 1

    def _record_seq(self, key: str) -> None:
        """Remember ``key``'s clip number as its session's highest, durably, before the clip
        is committed (a crash in between leaves a gap in the numbers, never a reuse)."""
        clip = parse_key(key)
        if clip.seq <= self._recorded_seq(clip.device_id, clip.session_id):
            return
        path = self._seq_path(clip.device_id, clip.session_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.tmp_dir / f"{uuid.uuid4().hex}.seq"
        with temp.open("w") as fh:
            fh.write(f"{clip.seq}\n")
            fh.flush()
            os.fsync(fh.fileno())
        temp.replace(path)

    # -- writing ----------------------------------------------------------------------------
    def path_for(self, key: str) -> Path:
        """Where the committed clip with S3 key ``key`` lives."""
        return self.root / key

    def temp_path(self) -> Path:
        """A fresh temporary file name for a clip being written (same filesystem as the spool)."""
        return self.tmp_dir / f"{uuid.uuid4().hex}.mp4"

    def full(self) -> bool:
        """True when another clip like the last one would not fit."""
        with self._lock:
            return self._used + self._last_size > self.max_bytes

    def commit(
        self, temp: Path, key: str, capture_end: float
    ) -> tuple[SpoolEntry, list[SpoolEntry]]:
        """Move a finished clip into the spool atomically; returns it and any clips evicted."""
        self._record_seq(key)  # first: a crash after the clip lands must not lose its number
        final = self.path_for(key)
        meta_path = final.with_suffix(".json")
        final.parent.mkdir(parents=True, exist_ok=True)
        size = temp.stat().st_size
        _fsync_file(temp)
        meta_tmp = self.tmp_dir / f"{uuid.uuid4().hex}.json"
        record = SpoolRecord(key=key, capture_end=capture_end, edge_version=edge_version())
        with meta_tmp.open("wb") as fh:
            fh.write(record.model_dump_json().encode())
            fh.flush()
            os.fsync(fh.fileno())
        meta_tmp.replace(meta_path)
        temp.replace(final)
        _fsync_dir(final.parent)
        entry = SpoolEntry(key, final, meta_path, size, capture_end)
        evicted: list[SpoolEntry] = []
        with self._lock:
            if self.policy == "drop-oldest":
                while self._used + size > self.max_bytes and self._pending:
                    victim = self._pending.pop(0)
                    self._used -= victim.size
                    self._delete(victim)
                    evicted.append(victim)
                    self.dropped.append(victim.key)
            self._pending.append(entry)
            self._used += size
            self._last_size = size
            self._lock.notify_all()
        for victim in evicted:
            log.warning(
                "spool full (%.2f MiB bound): dropped the oldest waiting clip %s unuploaded",
                self.max_bytes / 2**20,
                victim.key,
            )
        return entry, evicted

    @staticmethod
    def _delete(entry: SpoolEntry) -> None:
        for path in (entry.path, entry.meta_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    # -- uploading --------------------------------------------------------------------------
    def claim(self, stop: threading.Event, timeout: float = 0.5) -> SpoolEntry | None:
        """The oldest clip nobody is uploading, marked as claimed; None after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or stop.is_set():
                    return None
                self._lock.wait(remaining)
            entry = self._pending.pop(0)
            self._claimed[entry.key] = entry
            return entry

    def release(self, entry: SpoolEntry) -> None:
        """Put a claimed clip back (its upload failed); it keeps its place by age."""
        with self._lock:
            if self._claimed.pop(entry.key, None) is None:
                return
            self._pending.append(entry)
            self._pending.sort(key=lambda e: e.order)
            self._lock.notify_all()

    def remove(self, entry: SpoolEntry) -> None:
        """Delete a claimed clip: S3 has confirmed it (or it can never be uploaded)."""
        with self._lock:
            if self._claimed.pop(entry.key, None) is not None:
                self._used -= entry.size
            self._delete(entry)
            self._lock.notify_all()

    # -- state ------------------------------------------------------------------------------
    @property
    def used_bytes(self) -> int:
        """Bytes of committed clips in the spool."""
        with self._lock:
            return self._used

    def counts(self) -> tuple[int, int]:
        """(clips waiting, clips being uploaded)."""
        with self._lock:
            return len(self._pending), len(self._claimed)

    def wait_empty(self, timeout: float, abort: Callable[[], bool] = lambda: False) -> bool:
        """Wait until every clip is uploaded; False on timeout or abort."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._pending or self._claimed:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or abort():
                    return False
                self._lock.wait(min(remaining, 0.2))
            return True
