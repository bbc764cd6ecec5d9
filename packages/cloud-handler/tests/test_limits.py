"""Where a value could outgrow the result's schema: checked once (the event against the
schema when parsed), or answered at the schema's bound (a stage's duration, the attempt, an
error message); never clamped at call sites. Frame sizes and times: ``test_decode``."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from cloud_handler.errors import ClipError
from cloud_handler.events import ClipTask
from cloud_handler.pipeline import process_clip
from cloud_handler.runtime import get_runtime
from rollcall_testkit.handler_stack import (
    Stack,
    body,
    clip_key,
    invoke,
    s3_event,
    s3_record,
    sqs_event,
)
from shared_schema import (
    MAX_ATTEMPT,
    MAX_MESSAGE_LENGTH,
    MAX_STAGE_MS,
    ErrorCode,
    RecognitionResult,
    ResultStatus,
    StageTimings,
)

pytestmark = pytest.mark.slow


def test_the_bounds_are_the_schemas() -> None:
    StageTimings(total_ms=MAX_STAGE_MS)
    with pytest.raises(ValidationError):
        StageTimings(total_ms=MAX_STAGE_MS + 1)
    with pytest.raises(ValidationError):
        RecognitionResult.model_validate(
            {"clip": {"bucket": "bkt", "key": "k", "clip": None}, "status": "no_face",
             "processed_at": "2026-11-29T00:00:00Z", "attempt": MAX_ATTEMPT + 1}
        )  # fmt: skip
    detail = ClipError(ErrorCode.INTERNAL, "x" * (MAX_MESSAGE_LENGTH + 100), "decode").detail()
    assert len(detail.message) == MAX_MESSAGE_LENGTH


def test_a_stage_longer_than_an_hour_still_answers(
    stack: Stack, clip_bytes: Callable[..., bytes]
) -> None:
    """Every stage "takes" two hours (an injected clock: a machine suspended mid-clip): the
    result says the schema's maximum, and the object is answered."""
    record = stack.put(clip_key(60), clip_bytes(640, 480, faces=1))
    obj = record["s3"]["object"]
    task = ClipTask(stack.bucket, clip_key(60), obj["eTag"], None, obj["size"])
    hours = itertools.count(0.0, 7200.0)
    outcome = process_clip(task, get_runtime(), clock=lambda: next(hours))
    result = RecognitionResult.from_message(outcome.result.to_message())
    assert result.status is ResultStatus.UNKNOWN
    timings = result.timings
    assert timings.download_ms == timings.decode_ms == timings.lookup_ms == MAX_STAGE_MS
    assert timings.total_ms == MAX_STAGE_MS
    missing = ClipTask(stack.bucket, clip_key(61))
    outcome = process_clip(missing, get_runtime(), clock=lambda: next(hours))
    assert outcome.result.error is not None
    assert outcome.result.error.code is ErrorCode.OBJECT_MISSING
    assert outcome.result.timings.total_ms == MAX_STAGE_MS


def test_a_queue_without_redrive_delivering_past_1000_times(stack: Stack) -> None:
    record = stack.put(clip_key(62), b"not a video" * 10)
    assert invoke(sqs_event(body(s3_event(record)), receive_count=1500)) == {
        "batchItemFailures": []
    }
    [result] = stack.results()
    assert result.attempt == MAX_ATTEMPT


def test_an_event_naming_what_no_result_can_hold(stack: Stack, logs: list[dict[str, Any]]) -> None:
    """A bucket S3 never names (too short) cannot be answered: refused and logged. An
    impossible ETag on a real bucket and key: one malformed_event result."""
    refused = s3_record("b", clip_key(63))
    impossible = s3_record(stack.bucket, clip_key(64), etag="e" * 200)
    event = sqs_event(body(s3_event(refused)), body(s3_event(impossible)))
    assert invoke(event) == {"batchItemFailures": []}
    [result] = stack.results()
    assert result.clip.key == clip_key(64) and result.clip.etag is None
    assert result.error is not None and result.error.code is ErrorCode.MALFORMED_EVENT
    assert "etag" in result.error.message
    reasons = [line["reason"] for line in logs if line["message"] == "malformed event"]
    assert len(reasons) == 2 and reasons[0].startswith("S3 record bucket 'b'")
