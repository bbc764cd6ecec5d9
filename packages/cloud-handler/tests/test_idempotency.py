"""Duplicates, workers dying mid-clip and throttling: every object is answered exactly once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cloud_handler.context import LocalContext
from cloud_handler.events import ClipTask
from cloud_handler.handler import lambda_handler
from cloud_handler.runtime import get_runtime
from rollcall_testkit.handler_stack import (
    Stack,
    body,
    clip_key,
    expire_in_progress,
    invoke,
    leave_in_progress,
    s3_event,
    sqs_event,
    throttle,
)
from shared_schema import ResultStatus

pytestmark = pytest.mark.slow


def _processed(logs: list[dict[str, Any]]) -> int:
    return sum(1 for line in logs if line["message"] in ("clip processed", "clip failed"))


def _records(stack: Stack) -> list[dict[str, Any]]:
    return stack.dynamodb.scan(TableName=stack.idempotency_table)["Items"]


def test_duplicate_deliveries_give_one_answer(
    stack: Stack, clip_bytes: Callable[..., bytes], logs: list[dict[str, Any]]
) -> None:
    record = stack.put(clip_key(20), clip_bytes(320, 240, faces=0))
    message = body(s3_event(record))
    assert invoke(sqs_event(message)) == {"batchItemFailures": []}
    assert invoke(sqs_event(message, receive_count=2)) == {"batchItemFailures": []}
    assert invoke(sqs_event(message, message)) == {"batchItemFailures": []}  # twice in one batch
    [result] = stack.results()
    assert result.status is ResultStatus.NO_FACE
    assert result.attempt == 1
    assert _processed(logs) == 1
    assert sum(1 for line in logs if line["message"].startswith("duplicate delivery")) == 3
    # one idempotency record per object, completed, holding the published message's id
    [item] = _records(stack)
    assert item["status"]["S"] == "COMPLETED"
    assert '"message_id"' in item["data"]["S"]


def test_a_new_version_of_the_object_is_a_new_clip(
    stack: Stack, clip_bytes: Callable[..., bytes]
) -> None:
    first = stack.put(clip_key(21), clip_bytes(320, 240, faces=0))
    invoke(sqs_event(body(s3_event(first))))
    second = stack.put(clip_key(21), b"now it is not a video" * 10)
    assert second["s3"]["object"]["eTag"] != first["s3"]["object"]["eTag"]
    invoke(sqs_event(body(s3_event(second))))
    statuses = sorted(r.status.value for r in stack.results())
    assert statuses == ["error", "no_face"]


def test_worker_killed_mid_clip_is_redelivered_and_answered_once(
    stack: Stack, clip_bytes: Callable[..., bytes], logs: list[dict[str, Any]]
) -> None:
    record = stack.put(clip_key(22), clip_bytes(320, 240, faces=0))
    obj = record["s3"]["object"]
    task = ClipTask(
        stack.bucket, clip_key(22), obj["eTag"], None, obj["size"], None, record["eventTime"]
    )
    leave_in_progress(stack, task.as_payload(), remaining_ms=60_000)
    message = body(s3_event(record))
    # redelivered while the dead worker's record is still "in progress": retried later
    failed = invoke(sqs_event(message, receive_count=2))["batchItemFailures"]
    assert len(failed) == 1
    assert not stack.results()
    assert expire_in_progress(stack) == 1  # the dead worker's deadline passes
    assert invoke(sqs_event(message, receive_count=3)) == {"batchItemFailures": []}
    assert invoke(sqs_event(message, receive_count=4)) == {"batchItemFailures": []}
    [result] = stack.results()
    assert result.attempt == 3
    assert _processed(logs) == 1


def test_the_in_progress_record_expires_at_the_invocation_deadline(
    stack: Stack, clip_bytes: Callable[..., bytes]
) -> None:
    """While the clip is being computed its record says INPROGRESS until the Lambda
    context's deadline: what a worker killed at that moment leaves behind."""
    import time

    record = stack.put(clip_key(26), clip_bytes(320, 240, faces=0))
    seen: list[dict[str, Any]] = []
    sns = get_runtime().sns
    sns.meta.events.register(
        "before-call.sns.Publish", lambda **_: seen.extend(_records(stack)) and None
    )
    context = LocalContext(timeout_s=42)
    before_ms = time.time() * 1000
    assert lambda_handler(sqs_event(body(s3_event(record))), context) == {"batchItemFailures": []}
    [item] = seen
    assert item["status"]["S"] == "INPROGRESS"
    expiry = int(item["in_progress_expiration"]["N"])
    assert before_ms + 40_000 < expiry <= time.time() * 1000 + 42_000


def test_s3_throttling_is_retried_by_botocore(
    stack: Stack, clip_bytes: Callable[..., bytes]
) -> None:
    record = stack.put(clip_key(23), clip_bytes(320, 240, faces=0))
    calls = throttle(get_runtime().s3, "s3.GetObject", 2, "SlowDown")
    assert invoke(sqs_event(body(s3_event(record)))) == {"batchItemFailures": []}
    assert calls[0] == 3
    [result] = stack.results()
    assert result.status is ResultStatus.NO_FACE


def test_a_publish_that_keeps_failing_is_recomputed_on_redelivery(
    stack: Stack, clip_bytes: Callable[..., bytes], logs: list[dict[str, Any]]
) -> None:
    """SNS throttled past botocore's retries: that record fails, its batch mate is answered,
    the idempotency record is deleted (nothing was published) and the redelivery computes
    and publishes the answer once."""
    good = stack.put(clip_key(24), clip_bytes(320, 240, faces=0))
    throttled = stack.put(clip_key(25), clip_bytes(320, 240, faces=0, duration_s=0.4))
    calls = throttle(get_runtime().sns, "sns.Publish", 3, "Throttling")  # 3 attempts
    event = sqs_event(body(s3_event(throttled)), body(s3_event(good)))
    response = invoke(event)
    assert response["batchItemFailures"] == [{"itemIdentifier": event["Records"][0]["messageId"]}]
    assert calls[0] == 4  # three throttled attempts, then the good clip's publish
    assert [r.clip.key for r in stack.results()] == [clip_key(24)]
    assert [i["status"]["S"] for i in _records(stack)] == ["COMPLETED"]
    [line] = [line for line in logs if line["message"].startswith("clip not answered")]
    assert line["error_code"] == "transient" and "Throttling" in line["reason"]
    assert invoke(sqs_event(body(s3_event(throttled)), receive_count=2)) == {
        "batchItemFailures": []
    }
    [result] = stack.results()
    assert result.clip.key == clip_key(25)
    assert result.attempt == 2
    assert _processed(logs) == 2
