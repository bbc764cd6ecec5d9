"""The uploader's conditional PUT against a real S3 endpoint (moto): a retry of a PUT that
landed stores nothing twice, another object under the key is never overwritten, a failure
puts the clip back and pauses the pool."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from edge_testkit import Stack

from edge_capture.backoff import Backoff
from edge_capture.spool import Spool, SpoolEntry
from edge_capture.uploader import UploaderPool
from shared_schema import ClipId, format_key

KEY = format_key(
    ClipId(device_id="pi", session_id="s1", seq=0, captured_at=datetime(2026, 11, 24, tzinfo=UTC))
)


def _claimed(tmp_path: Path, body: bytes = b"clip bytes") -> tuple[Spool, SpoolEntry]:
    spool = Spool(tmp_path / "spool", 10**6)
    temp = spool.temp_path()
    temp.write_bytes(body)
    spool.commit(temp, KEY, 0.0)
    entry = spool.claim(threading.Event())
    assert entry is not None
    return spool, entry


def _pool(spool: Spool, stack: Stack, events: list[str]) -> UploaderPool:
    return UploaderPool(
        spool,
        stack.s3,
        stack.bucket,
        backoff=Backoff(0.25, 10.0),
        on_uploaded=lambda e, t, n: events.append(f"uploaded {n}"),
        on_retry=lambda e, exc: events.append("retry"),
        on_taken=lambda e: events.append("taken"),
    )


def test_a_put_that_had_landed_counts_as_uploaded_once(stack: Stack, tmp_path: Path) -> None:
    """The first attempt's PUT landed but its answer was lost: the next attempt's conditional
    PUT is refused (412), the object has the clip's MD5, the clip is uploaded: one version."""
    spool, entry = _claimed(tmp_path)
    stack.s3.put_object(Bucket=stack.bucket, Key=KEY, Body=b"clip bytes")
    events: list[str] = []
    assert _pool(spool, stack, events).upload(entry) is True
    assert events == ["uploaded 1"]
    assert stack.versions() == {KEY: 1}
    assert spool.counts() == (0, 0) and not entry.path.exists()


def test_another_object_under_the_key_is_never_overwritten(stack: Stack, tmp_path: Path) -> None:
    spool, entry = _claimed(tmp_path)
    stack.s3.put_object(Bucket=stack.bucket, Key=KEY, Body=b"someone else's clip")
    events: list[str] = []
    assert _pool(spool, stack, events).upload(entry) is False
    assert events == ["taken"]
    body = stack.s3.get_object(Bucket=stack.bucket, Key=KEY)["Body"].read()
    assert body == b"someone else's clip" and stack.versions() == {KEY: 1}
    assert spool.counts() == (0, 0), "a clip that can never be uploaded leaves the spool"


def test_a_failed_put_goes_back_to_the_spool_and_pauses_the_pool(
    stack: Stack, tmp_path: Path
) -> None:
    spool, entry = _claimed(tmp_path)
    stack.s3.delete_bucket(Bucket=stack.bucket)
    events: list[str] = []
    pool = _pool(spool, stack, events)
    assert pool.upload(entry) is False
    assert events == ["retry"]
    assert spool.counts() == (1, 0) and entry.path.exists()
    assert pool.backoff.failures == 1 and pool.backoff.remaining() > 0
    stack.s3.create_bucket(Bucket=stack.bucket)
    again = spool.claim(threading.Event())
    assert again is not None and pool.upload(again) is True
    assert events == ["retry", "uploaded 2"] and pool.backoff.failures == 0
