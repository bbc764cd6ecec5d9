"""End to end against the test kit's moto server: capture, upload, results matched, messages
handled."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edge_testkit import STUDENT, Responder, Stack, make_result
from typer.testing import CliRunner

from edge_capture import ClipOutcome, EdgeConfig, run_session
from edge_capture.cli import app
from shared_schema import (
    ClipId,
    ClipRef,
    ModelInfo,
    RecognitionResult,
    ResultStatus,
    format_key,
    parse_key,
)


def config(stack: Stack, tmp_path: Path, **changes: Any) -> EdgeConfig:
    values: dict[str, Any] = {
        "bucket": stack.bucket,
        "results_queue": stack.queue_name,
        "endpoint_url": stack.url,
        "device_id": "pi-1",
        "session_id": "lecture",
        "source": "test",
        "resolution": (160, 120),
        "duration_s": 3.0,
        "fast": True,
        "spool_dir": tmp_path / "spool",
        "poll_wait_s": 1,
        "result_wait_s": 20,
        "flush_timeout_s": 20,
        "retry_base_s": 0.05,
        "retry_max_s": 0.5,
    }
    values.update(changes)
    return EdgeConfig(**values)


def test_every_clip_is_uploaded_and_answered(stack: Stack, tmp_path: Path) -> None:
    heard: list[ClipOutcome] = []
    with Responder(stack) as responder:
        summary = run_session(config(stack, tmp_path), on_result=heard.append)
    assert responder.errors == []
    # 3 s at 15 fps = 45 frames: five 8-frame clips and a final 5-frame one.
    assert summary.clips_captured == summary.clips_uploaded == summary.clips_answered == 6
    assert summary.missing_keys == []
    assert summary.ok
    assert sorted(responder.decoded_frames.values()) == [5, 8, 8, 8, 8, 8]
    assert stack.keys() == sorted(o.key for o in summary.outcomes)
    assert all(count == 1 for count in stack.versions().values())
    assert [o.status for o in summary.outcomes] == ["recognized", "no_face"] * 3
    first = summary.outcomes[0]
    assert first.people[0].name == "mr_bean"
    assert (first.people[0].major, first.people[0].year) == (STUDENT.major, STUDENT.year)
    assert first.capture_to_result_ms is not None and first.upload_to_result_ms is not None
    assert first.capture_to_result_ms >= first.upload_to_result_ms >= 0
    assert summary.latency_ms.count == 6
    assert summary.latency_ms.median is not None and summary.latency_ms.max is not None
    assert summary.latency_ms.median <= summary.latency_ms.max
    assert [(p.name, p.clips, p.major) for p in summary.people_seen] == [("mr_bean", 3, "Physics")]
    assert sorted(o.key for o in heard) == stack.keys()
    assert stack.drain_queue() == []  # every matched result was deleted
    assert not list((tmp_path / "spool" / "clips").rglob("*.mp4"))  # spool flushed
    data = json.loads(summary.to_json())
    assert data["clips_missing"] == 0 and len(data["outcomes"]) == 6


def test_a_resumed_session_continues_its_clip_numbers(stack: Stack, tmp_path: Path) -> None:
    """A second run of one --session-id (after a crash, or not) whose first run's clips were
    all uploaded numbers its clips after them: no key is used twice."""
    with Responder(stack):
        first = run_session(config(stack, tmp_path, duration_s=1.0))
        second = run_session(config(stack, tmp_path, duration_s=1.0))
    assert first.clips_captured == second.clips_captured == 2
    seqs = [parse_key(o.key).seq for o in (*first.outcomes, *second.outcomes)]
    assert seqs == [0, 1, 2, 3]
    assert all(count == 1 for count in stack.versions().values())


def _post(stack: Stack, body: str) -> None:
    stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=body)


def test_foreign_malformed_duplicate_and_earlier_results(stack: Stack, tmp_path: Path) -> None:
    cfg = config(stack, tmp_path)
    foreign_key = format_key(
        ClipId(device_id="pi-2", session_id="lecture", seq=0, captured_at=_now())
    )
    other_session_key = format_key(
        ClipId(device_id="pi-1", session_id="other", seq=0, captured_at=_now())
    )
    earlier_key = format_key(
        ClipId(device_id="pi-1", session_id="lecture", seq=999, captured_at=_now())
    )
    _post(stack, make_result(stack.bucket, foreign_key).to_message())
    _post(stack, make_result(stack.bucket, other_session_key).to_message())
    _post(stack, make_result(stack.bucket, earlier_key).to_message())
    _post(stack, "this is not JSON")
    _post(stack, json.dumps({"schema_version": 2, "clip": {"key": "clips/pi-1/lecture/x"}}))
    not_ours = RecognitionResult(
        clip=ClipRef(bucket=stack.bucket, key="uploads/photo.jpg", clip=None),
        status=ResultStatus.NO_FACE,
        model=ModelInfo(name="m", version="1", backbone="none", pretrained=False),
        processed_at=_now(),
    )
    _post(stack, not_ours.to_message())

    def answer_twice(bucket: str, key: str) -> RecognitionResult:
        result = make_result(bucket, key)
        if key.endswith(".mp4") and "/00000000-" in key:
            _post(stack, result.to_message())  # a duplicate delivery for clip 0
        return result

    with Responder(stack, make=answer_twice):
        summary = run_session(cfg)
    assert summary.ok, summary.missing_keys
    assert summary.clips_answered == 6
    assert summary.duplicate_results == 1
    assert summary.earlier_run_results == 1
    assert summary.foreign_results == 3
    assert summary.malformed_results == 2
    left = sorted(m["Body"] for m in stack.drain_queue())
    assert len(left) == 5, "foreign and malformed messages must stay on the queue"
    assert any(foreign_key in body for body in left)
    assert any(other_session_key in body for body in left)
    assert "this is not JSON" in left
    assert not any(earlier_key in body for body in left)


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def test_cli_reports_missing_clips_and_writes_outputs(stack: Stack, tmp_path: Path) -> None:
    def skip_clip_1(bucket: str, key: str) -> RecognitionResult | None:
        return None if "/00000001-" in key else make_result(bucket, key)

    results, plot = tmp_path / "out" / "results.jsonl", tmp_path / "latency.png"
    args = [
        "run",
        "--source", "test",
        "--bucket", stack.bucket,
        "--endpoint-url", stack.url,
        "--resolution", "160x120",
        "--duration", "2",
        "--fast",
        "--spool-dir", str(tmp_path / "spool"),
        "--poll-wait", "1",
        "--result-wait", "4",
        "--json",
        "--results", str(results),
        "--plot", str(plot),
        "--session-id", "cli",
    ]  # fmt: skip
    env = {"ROLLCALL_RESULTS_QUEUE": stack.queue_url, "ROLLCALL_DEVICE_ID": "pi-9"}
    with Responder(stack, make=skip_clip_1):
        outcome = CliRunner().invoke(app, args, env=env)
    assert outcome.exit_code == 1, outcome.output
    summary = json.loads(outcome.stdout)
    assert summary["clips_captured"] == 4
    assert summary["clips_answered"] == 3
    assert len(summary["missing_keys"]) == 1
    assert summary["missing_keys"][0].startswith("clips/pi-9/cli/00000001-")
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert len(lines) == 4
    assert {line["status"] for line in lines} == {"recognized", "no_face", "missing"}
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "clips missing" in outcome.stderr


def test_a_failing_on_result_callback_does_not_stop_collection(
    stack: Stack, tmp_path: Path
) -> None:
    def explode(outcome: ClipOutcome) -> None:
        raise RuntimeError("caller bug")

    with Responder(stack):
        summary = run_session(config(stack, tmp_path, duration_s=1.0), on_result=explode)
    assert summary.ok
    assert summary.clips_answered == summary.clips_captured == 2
