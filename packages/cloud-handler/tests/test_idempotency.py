"""Duplicates, workers dying mid-clip and throttling: every clip is answered exactly once."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from cloud_handler.context import LocalContext
from cloud_handler.events import ClipTask
from cloud_handler.handler import lambda_handler
from cloud_handler.runtime import get_runtime
from rollcall_tools.testkit.handler_stack import (
    Stack,
    body,
    clip_key,
    leave_in_progress,
    s3_event,
    sqs_event,
    throttle,
)
from shared_schema import ResultStatus

pytestmark = pytest.mark.slow


def run(event: dict[str, Any]) -> dict[str, Any]:
    return lambda_handler(event, LocalContext(timeout_s=30))


def _processed(logs: list[dict[str, Any]]) -> int:
    return sum(1 for line in logs if line["message"] in ("clip processed", "clip failed"))


def test_duplicate_deliveries_give_one_answer(
    stack: Stack, clip_bytes: Callable[..., bytes], logs: list[dict[str, Any]]
) -> None:
    record = stack.put(clip_key(20), clip_bytes(320, 240, faces=0))
    message = body(s3_event(record))
    assert run(sqs_event(message)) == {"batchItemFailures": []}
    assert run(sqs_event(message, receive_count=2)) == {"batchItemFailures": []}
    assert run(s3_event(record))["handled"][0]["duplicate"] is True  # S3 invoking directly too
    [result] = stack.results()
    assert result.status is ResultStatus.NO_FACE
    assert result.attempt == 1
    assert _processed(logs) == 1
    assert sum(1 for line in logs if line["message"].startswith("duplicate delivery")) == 2


def test_a_new_version_of_the_object_is_a_new_clip(
    stack: Stack, clip_bytes: Callable[..., bytes]
) -> None:
    first = stack.put(clip_key(21), clip_bytes(320, 240, faces=0))
    run(sqs_event(body(s3_event(first))))
    second = stack.put(clip_key(21), b"now it is not a video" * 10)
    assert second["s3"]["object"]["eTag"] != first["s3"]["object"]["eTag"]
    run(sqs_event(body(s3_event(second))))
    statuses = sorted(r.status.value for r in stack.results())
    assert statuses == ["error", "no_face"]


def test_worker_killed_mid_clip_is_redelivered_and_answered_once(
    stack: Stack, clip_bytes: Callable[..., bytes], logs: list[dict[str, Any]]
) -> None:
    record = stack.put(clip_key(22), clip_bytes(320, 240, faces=0))
    obj = record["s3"]["object"]
    task = ClipTask(stack.bucket, clip_key(22), obj["eTag"], None, obj["size"])
    leave_in_progress(stack, task.as_payload(), remaining_ms=1500)
    message = body(s3_event(record))
    # redelivered while the dead worker's record is still "in progress": retried later
    failed = run(sqs_event(message, receive_count=2))["batchItemFailures"]
    assert len(failed) == 1
    assert not stack.results()
    time.sleep(1.6)
    assert run(sqs_event(message, receive_count=3)) == {"batchItemFailures": []}
    assert run(sqs_event(message, receive_count=4)) == {"batchItemFailures": []}
    [result] = stack.results()
    assert result.attempt == 3
    assert _processed(logs) == 1


def test_s3_throttling_is_retried_with_backoff(
    stack: Stack, clip_bytes: Callable[..., bytes]
) -> None:
    record = stack.put(clip_key(23), clip_bytes(320, 240, faces=0))
    calls = throttle(get_runtime().clients.s3, "s3.GetObject", 2, "SlowDown")
    assert run(sqs_event(body(s3_event(record)))) == {"batchItemFailures": []}
    assert calls[0] == 3
    [result] = stack.results()
    assert result.status is ResultStatus.NO_FACE


def test_persistent_throttling_fails_the_record_for_redelivery(
    stack: Stack, clip_bytes: Callable[..., bytes], logs: list[dict[str, Any]]
) -> None:
    good = stack.put(clip_key(24), clip_bytes(320, 240, faces=0))
    throttled = stack.put(clip_key(25), clip_bytes(320, 240, faces=0, duration_s=0.4))
    sqs = get_runtime().clients.sqs
    state = {"fail": True}

    def send_hook(params: dict[str, Any], **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        if state["fail"] and clip_key(25) in str(params.get("body", "")):
            return AWSResponse("http://fault", 400, {}, None), {
                "Error": {"Code": "ThrottlingException", "Message": "injected"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
        return None

    sqs.meta.events.register("before-call.sqs.SendMessage", send_hook)
    event = sqs_event(body(s3_event(good)), body(s3_event(throttled)))
    response = run(event)
    assert response["batchItemFailures"] == [{"itemIdentifier": event["Records"][1]["messageId"]}]
    assert [r.clip.key for r in stack.results()] == [clip_key(24)]
    # the redelivery sends the stored answer without recomputing it
    state["fail"] = False
    assert run(sqs_event(body(s3_event(throttled)), receive_count=2)) == {"batchItemFailures": []}
    [result] = stack.results()
    assert result.clip.key == clip_key(25)
    assert result.attempt == 1
    assert _processed(logs) == 2
