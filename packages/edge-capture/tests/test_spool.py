"""The spool: atomic commits, recovery after a crash, the bound and its two policies."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

import pytest

from edge_capture.errors import ConfigError
from edge_capture.spool import Spool
from shared_schema import ClipId, format_key

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _commit(spool: Spool, seq: int, size: int = 1000, session: str = "s1") -> str:
    captured = T0 + timedelta(seconds=seq / 2)
    key = format_key(ClipId(device_id="pi", session_id=session, seq=seq, captured_at=captured))
    temp = spool.temp_path()
    temp.write_bytes(bytes([seq % 256]) * size)
    spool.commit(temp, key, captured.timestamp() + 0.5)
    return key


def test_commit_is_atomic_and_recoverable(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 10**6)
    keys = [_commit(spool, seq) for seq in (2, 0, 1)]
    assert not list(spool.tmp_dir.iterdir()), "temp files must be renamed away"
    for key in keys:
        assert (tmp_path / key).is_file()
        assert (tmp_path / key).with_suffix(".json").is_file()
    # A crash mid-write leaves a temp file, and a clip whose sidecar never landed.
    (spool.tmp_dir / "partial.mp4").write_bytes(b"half a clip")
    orphan = tmp_path / "clips/pi/s1/00000009-1795000000000.mp4"
    orphan.write_bytes(b"no sidecar")
    again = Spool(tmp_path, 10**6)
    found = again.recover()
    assert [e.key for e in found] == sorted(keys)  # oldest first
    assert not (spool.tmp_dir / "partial.mp4").exists()
    assert not orphan.exists()
    assert again.used_bytes == 3000
    assert found[0].capture_end == T0.timestamp() + 0.5


def test_claim_release_remove(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 10**6)
    first, second = _commit(spool, 0), _commit(spool, 1)
    stop = threading.Event()
    a = spool.claim(stop)
    b = spool.claim(stop)
    assert a is not None and b is not None
    assert (a.key, b.key) == (first, second)
    assert spool.claim(stop, timeout=0.05) is None
    spool.release(b)
    spool.remove(a)
    assert not a.path.exists()
    assert spool.counts() == (1, 0)
    again = spool.claim(stop)
    assert again is not None and again.key == second
    spool.remove(again)
    assert spool.wait_empty(0.1)
    assert spool.used_bytes == 0


def test_release_puts_every_waiting_clip_in_age_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 10**6)
    k1, k3, k2 = _commit(spool, 1), _commit(spool, 3), _commit(spool, 2)  # k2 older than k3
    stop = threading.Event()
    failed = spool.claim(stop)
    assert failed is not None and failed.key == k1
    spool.release(failed)  # the failed upload goes back: the waiting clips are sorted by age
    claimed = [spool.claim(stop) for _ in range(3)]
    assert [e.key for e in claimed if e is not None] == [k1, k2, k3]


def test_drop_oldest_evicts_the_oldest_waiting_clip(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 2500, policy="drop-oldest")
    k0, k1 = _commit(spool, 0), _commit(spool, 1)
    busy = spool.claim(threading.Event())  # k0 is being uploaded: never evicted
    assert busy is not None and busy.key == k0
    k2 = _commit(spool, 2)
    assert spool.dropped == [k1]
    assert not (tmp_path / k1).exists()
    assert (tmp_path / k0).exists() and (tmp_path / k2).exists()


def test_pause_policy_reports_full_and_never_deletes(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 2500, policy="pause")
    assert not spool.full()
    keys = [_commit(spool, 0), _commit(spool, 1)]
    assert spool.full()  # a third clip of the same size would not fit
    entry = spool.claim(threading.Event())
    assert entry is not None
    spool.remove(entry)
    assert not spool.full()
    assert spool.dropped == []
    assert (tmp_path / keys[1]).exists()


def test_unwritable_spool_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="spool-dir"):
        Spool(blocker / "spool", 1000)


def test_sidecars_are_edge_records_and_those_of_0_1_still_load(tmp_path: Path) -> None:
    """A sidecar holds the key, the capture end and the edge version, nothing for S3; one
    written by edge-capture 0.1 (which also held the clip's S3 metadata) is still uploaded."""
    spool = Spool(tmp_path, 10**6)
    key = _commit(spool, 0)
    record = json.loads((tmp_path / key).with_suffix(".json").read_text())
    assert set(record) == {"key", "capture_end", "edge_version"}
    assert record["edge_version"] == metadata.version("edge-capture")
    old_key = _commit(spool, 1)
    (tmp_path / old_key).with_suffix(".json").write_text(
        json.dumps(
            {
                "key": old_key,
                "metadata": {"schema_version": 1, "fps": 15.0, "edge_version": "0.1.0"},
                "capture_end": 1.5,
            }
        )
    )
    found = Spool(tmp_path, 10**6).recover()
    assert [(e.key, e.capture_end) for e in found][1] == (old_key, 1.5)


def test_a_sidecar_with_a_foreign_key_is_ignored(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 10**6)
    key = _commit(spool, 0)
    sidecar = (tmp_path / key).with_suffix(".json")
    sidecar.write_text(json.dumps({"key": "uploads/photo.jpg", "capture_end": 1.0}))
    assert Spool(tmp_path, 10**6).recover() == []


def test_a_session_continues_its_numbering_after_its_clips_left(tmp_path: Path) -> None:
    """Clip numbers survive the clips: uploaded (removed) clips still count on restart."""
    spool = Spool(tmp_path, 10**6)
    assert spool.next_seq("pi", "s1") == 0
    for seq in (0, 1, 2):
        _commit(spool, seq)
    _commit(spool, 0, session="s2")
    while (entry := spool.claim(threading.Event(), timeout=0)) is not None:
        spool.remove(entry)  # all uploaded: the spool holds nothing of s1 any more
    assert not list(spool.clips_dir.rglob("*.mp4"))
    again = Spool(tmp_path, 10**6)  # a restart (after SIGKILL the files are the same)
    again.recover()
    assert again.next_seq("pi", "s1") == 3
    assert again.next_seq("pi", "s2") == 1
    assert again.next_seq("pi", "s3") == 0
    _commit(again, 7)  # a clip still waiting counts too
    assert Spool(tmp_path, 10**6).next_seq("pi", "s1") == 8
    (tmp_path / "sessions" / "pi" / "s1.seq").write_text("garbage")
    with pytest.raises(ConfigError, match=r"unreadable clip number in .*s1\.seq"):
        Spool(tmp_path, 10**6).next_seq("pi", "s1")
