"""The uploader under faults: endpoint outage, a killed process, a full spool.

Each fault starts and ends on a condition (clips uploaded, spooled, retried), never after a
sleep; nothing asserts on wall time. The outages are real: the edge's endpoint is a gate in
front of the test kit's moto server that refuses connections while down."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from edge_testkit import Responder, Stack
from rich.console import Console
from test_session import config

from edge_capture import SessionSummary, run_session
from edge_capture.ledger import Ledger
from edge_capture.live import summary_table
from edge_capture.spool import Spool
from shared_schema import parse_key

pytestmark = pytest.mark.slow


def _wait_for(condition: Any, timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; ``timeout`` only bounds a hung test."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_endpoint_outage_every_clip_arrives_exactly_once(
    outage_stack: Stack, tmp_path: Path
) -> None:
    """The endpoint goes away mid-capture and comes back: nothing lost, nothing doubled."""
    stack = outage_stack
    cfg = config(stack, tmp_path, duration_s=4.0, fast=False, uploaders=3)
    box: dict[str, SessionSummary] = {}

    problems: list[BaseException] = []

    def outage(ledger: Ledger, spool: Spool) -> None:
        def run() -> None:
            try:
                _wait_for(lambda: ledger.snapshot()["uploaded"] >= 1, 30, "the first upload")
                stack.down()
                during = min(ledger.snapshot()["captured"] + 3, 8)
                _wait_for(
                    lambda: (
                        ledger.snapshot()["retries"] >= 1
                        and ledger.snapshot()["captured"] >= during
                    ),
                    30,
                    "a failed upload and three clips captured during the outage",
                )
            except BaseException as exc:
                problems.append(exc)
            finally:
                stack.up()

        threading.Thread(target=run, daemon=True).start()

    with Responder(stack) as responder:
        runner = threading.Thread(target=lambda: box.update(s=run_session(cfg, on_start=outage)))
        runner.start()
        runner.join(90)
        assert not runner.is_alive()
    summary = box["s"]
    assert problems == []
    assert responder.errors == []
    assert summary.upload_retries > 0, "the outage should have made uploads fail"
    assert summary.clips_captured == 8
    assert summary.missing_keys == []
    keys = stack.keys()
    assert keys == sorted(o.key for o in summary.outcomes)
    versions = stack.versions()
    assert all(versions[key] == 1 for key in keys), f"a clip was stored twice: {versions}"
    assert sorted(responder.decoded_frames.values()) == [4] + [8] * 7  # 60 frames
    assert not list((tmp_path / "spool" / "clips").rglob("*.mp4"))


def test_killed_process_resumes_its_spool(outage_stack: Stack, tmp_path: Path) -> None:
    """SIGKILL while uploads fail; a restart with the same spool uploads every clip it held."""
    stack = outage_stack
    spool_dir = tmp_path / "spool"
    env = {
        **os.environ,
        "ROLLCALL_BUCKET": stack.bucket,
        "ROLLCALL_RESULTS_QUEUE": stack.queue_name,
        "ROLLCALL_ENDPOINT_URL": stack.url,
        "ROLLCALL_DEVICE_ID": "pi-1",
        "ROLLCALL_SPOOL_DIR": str(spool_dir),
        "ROLLCALL_RESOLUTION": "160x120",
    }
    args = [sys.executable, "-m", "edge_capture", "run", "--duration", "60", "--no-live"]
    args += ["--session-id", "lecture", "--poll-wait", "1"]
    log = tmp_path / "child.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=sink)
    try:
        _wait_for(lambda: len(stack.keys()) >= 1 or proc.poll() is not None, 30, "an upload")
        assert proc.poll() is None, log.read_text()
        stack.down()
        sidecars = lambda: sorted(spool_dir.joinpath("clips").rglob("*.json"))  # noqa: E731
        _wait_for(lambda: len(sidecars()) >= 3, 15, "three clips spooled during the outage")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        stack.up()
    spooled = sorted(str(p.relative_to(spool_dir).with_suffix(".mp4")) for p in sidecars())
    uploaded_before = stack.keys()
    assert not set(spooled) & set(uploaded_before)
    cfg = config(stack, tmp_path, duration_s=0)  # upload the spool, collect results, stop
    with Responder(stack) as responder:
        summary = run_session(cfg)
    assert responder.errors == []
    assert summary.clips_captured == 0
    assert summary.clips_resumed == len(spooled) >= 3
    # --duration 0 drained the spool: the one-line account counts what it uploaded
    n = len(spooled)
    line = f"uploaded {n} of {n} clips (0 of 0 captured, gate: {summary.gate}; {n} of {n} "
    assert summary.upload_line == line + "resumed from the spool)"
    assert json.loads(summary.to_json())["clips_uploaded"] == n
    console = Console(file=io.StringIO(), width=300)
    console.print(summary_table(summary))
    assert summary.upload_line in console.file.getvalue()  # type: ignore[attr-defined]
    assert sorted(o.key for o in summary.outcomes) == spooled
    assert summary.missing_keys == []
    assert all(o.resumed for o in summary.outcomes)
    assert set(stack.keys()) == set(spooled) | set(uploaded_before)
    assert all(count == 1 for count in stack.versions().values())
    assert not list(spool_dir.joinpath("clips").rglob("*.mp4"))
    assert not list(spool_dir.joinpath("tmp").iterdir()), "the partial clip must be cleaned up"
    # the session resumed again (every clip uploaded now) numbers its next clip after them
    stored = stack.keys()
    last = max(parse_key(key).seq for key in stored)
    assert Spool(spool_dir, 10**6).next_seq("pi-1", "lecture") == last + 1


def _full_spool_run(stack: Stack, tmp_path: Path, policy: str) -> tuple[SessionSummary, int]:
    """Capture while the bucket is gone (uploads fail) until the spool is full, then restore it."""
    bound_mb = 0.02  # about four 160x120 test-pattern clips
    cfg = config(
        stack, tmp_path, duration_s=20.0, spool_max_mb=bound_mb, spool_policy=policy, uploaders=1
    )
    peak = {"bytes": 0}

    def break_bucket(ledger: Ledger, spool: Spool) -> None:
        stack.s3.delete_bucket(Bucket=stack.bucket)

        def restore() -> None:
            counter = "paused" if policy == "pause" else "dropped"
            _wait_for(lambda: ledger.snapshot()[counter] > 0, 30, f"the full spool {counter}")
            peak["bytes"] = spool.used_bytes
            stack.s3.create_bucket(Bucket=stack.bucket)
            stack.s3.put_bucket_versioning(
                Bucket=stack.bucket, VersioningConfiguration={"Status": "Enabled"}
            )

        threading.Thread(target=restore, daemon=True).start()

    with Responder(stack):
        summary = run_session(cfg, on_start=break_bucket)
    return summary, peak["bytes"]


def test_full_spool_pause_policy_loses_nothing(stack: Stack, tmp_path: Path) -> None:
    summary, peak = _full_spool_run(stack, tmp_path, "pause")
    assert summary.frames_paused > 0, "capture should have paused on the full spool"
    assert summary.clips_dropped == 0
    assert summary.missing_keys == []
    assert summary.ok
    assert summary.clips_captured == summary.clips_answered < 38
    assert peak <= 0.02 * 2**20 + max(o.bytes for o in summary.outcomes)
    assert all(count == 1 for count in stack.versions().values())


def test_full_spool_drop_oldest_reports_what_it_dropped(stack: Stack, tmp_path: Path) -> None:
    summary, peak = _full_spool_run(stack, tmp_path, "drop-oldest")
    assert summary.frames_paused == 0
    assert summary.clips_dropped > 0
    dropped = [o.key for o in summary.outcomes if o.status == "dropped"]
    assert len(dropped) == summary.clips_dropped
    assert set(dropped) <= set(summary.missing_keys)
    assert not summary.ok
    assert not set(dropped) & set(stack.keys()), "a dropped clip must never be uploaded"
    kept = [o for o in summary.outcomes if o.status != "dropped"]
    assert all(o.result_at is not None for o in kept)
    assert summary.clips_captured == 38  # capture never paused: 300 frames / 8 per clip
    assert peak <= 0.02 * 2**20 + max(o.bytes for o in summary.outcomes)


def test_sigterm_stops_capture_flushes_and_summarises(stack: Stack, tmp_path: Path) -> None:
    """SIGTERM: capture stops, the spool is flushed, results are awaited; exit 0, none missing."""
    env = {
        **os.environ,
        "ROLLCALL_BUCKET": stack.bucket,
        "ROLLCALL_RESULTS_QUEUE": stack.queue_name,
        "ROLLCALL_ENDPOINT_URL": stack.url,
        "ROLLCALL_DEVICE_ID": "pi-3",
        "ROLLCALL_SPOOL_DIR": str(tmp_path / "spool"),
        "ROLLCALL_RESOLUTION": "160x120",
    }
    args = [sys.executable, "-m", "edge_capture", "run", "--duration", "300", "--json"]
    args += ["--session-id", "term", "--poll-wait", "1"]
    with Responder(stack):
        proc = subprocess.Popen(
            args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            _wait_for(lambda: len(stack.keys()) >= 2 or proc.poll() is not None, 30, "uploads")
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    summary = json.loads(out)
    assert summary["interrupted"] is True
    assert summary["clips_captured"] >= 2
    assert summary["clips_captured"] == summary["clips_answered"]
    assert summary["missing_keys"] == []
    assert "SIGTERM: stopping capture" in err
    assert not list((tmp_path / "spool" / "clips").rglob("*.mp4"))
