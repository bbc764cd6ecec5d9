"""A new PUT of a key is a new object (answered again, even with identical bytes); a duplicate
delivery of one S3 event is not.

moto (server mode) sends the notifications here, as S3 would: its records carry no
``sequencer`` nor ``versionId``, so these tests rely on ``eventTime`` (asserted in each
through the parsed task's ``upload_marker``). The AWS shape, where the ``sequencer`` decides,
is :func:`test_aws_records_are_told_apart_by_their_sequencer` (and ``test_events.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from cloud_handler.events import ClipTask, parse_record
from rollcall_testkit.handler_stack import Stack, body, invoke, s3_event, sqs_event
from shared_schema import ErrorCode, ResultStatus

pytestmark = pytest.mark.slow
KEY = "test_0.mp4"  # at the bucket root, as the course's workload generator uploads


def _upload(stack: Stack, data: bytes) -> tuple[str, str]:
    """PUT ``data`` at :data:`KEY`; (its ETag, the body of the notification moto sent)."""
    etag = stack.s3.put_object(Bucket=stack.bucket, Key=KEY, Body=data)["ETag"].strip('"')
    [record] = stack.received_events(1)["Records"]
    stack.sqs.delete_message(QueueUrl=stack.events_queue_url, ReceiptHandle=record["receiptHandle"])
    return etag, str(record["body"])


def _task(message: str) -> ClipTask:
    [task] = parse_record(SQSRecord(sqs_event(message)["Records"][0]))
    assert isinstance(task, ClipTask)
    return task


def _answer(message: str, receive_count: int = 1) -> None:
    assert invoke(sqs_event(message, receive_count=receive_count)) == {"batchItemFailures": []}


@pytest.fixture
def notified(stack: Stack) -> Stack:
    stack.notify_events()
    return stack


def test_the_same_bytes_uploaded_twice_are_answered_twice(
    notified: Stack, clip_bytes: Callable[..., bytes]
) -> None:
    data = clip_bytes(320, 240, faces=0)
    etag, first = _upload(notified, data)
    _answer(first)
    again, second = _upload(notified, data)
    assert again == etag
    # relied on: moto's eventTime (no sequencer, no versionId in its records)
    assert _task(first).upload_marker == ("eventTime", json.loads(first)["Records"][0]["eventTime"])
    assert _task(first).idempotency_id != _task(second).idempotency_id
    _answer(second)
    results = notified.results()
    assert [(r.clip.key, r.clip.etag, r.status) for r in results] == [
        (KEY, etag, ResultStatus.NO_FACE)
    ] * 2


def test_a_b_a_gives_three_answers_the_last_one_a(
    notified: Stack, clip_bytes: Callable[..., bytes]
) -> None:
    a, b = clip_bytes(320, 240, faces=0), clip_bytes(320, 240, faces=0, duration_s=0.4)
    etags = []
    for data in (a, b, a):
        etag, message = _upload(notified, data)
        assert _task(message).upload_marker is not None
        assert _task(message).upload_marker[0] == "eventTime"  # type: ignore[index]
        _answer(message)
        etags.append(etag)
    assert etags[0] == etags[2] != etags[1]
    results = notified.results()
    assert [r.clip.etag for r in results] == etags
    assert all(r.status is ResultStatus.NO_FACE for r in results)
    assert results[-1].clip.etag == etags[0]  # the last answer is A's: what the bucket holds
    head = notified.s3.head_object(Bucket=notified.bucket, Key=KEY)
    assert head["ETag"].strip('"') == results[-1].clip.etag


def test_one_event_delivered_three_times_is_answered_once(
    notified: Stack, clip_bytes: Callable[..., bytes], logs: list[dict[str, Any]]
) -> None:
    _, message = _upload(notified, clip_bytes(320, 240, faces=0))
    assert _task(message).upload_marker[0] == "eventTime"  # type: ignore[index]
    for attempt in (1, 2, 3):  # three SQS messages carrying the same notification record
        _answer(message, receive_count=attempt)
    [result] = notified.results()
    assert result.attempt == 1
    assert sum(1 for line in logs if line["message"].startswith("duplicate delivery")) == 2


def test_a_delayed_event_for_a_replaced_object_is_not_answered_with_the_new_bytes(
    notified: Stack, clip_bytes: Callable[..., bytes]
) -> None:
    """A's event is processed after B replaced A: the GET's If-Match on A's ETag fails, and A
    is answered ``object_missing`` (its bytes are gone), never with B's bytes under A's name."""
    a, b = clip_bytes(320, 240, faces=0), clip_bytes(320, 240, faces=0, duration_s=0.4)
    etag_a, late = _upload(notified, a)
    etag_b, current = _upload(notified, b)
    _answer(current)
    _answer(late)
    first, second = notified.results()
    assert (first.clip.etag, first.status) == (etag_b, ResultStatus.NO_FACE)
    assert second.clip.etag == etag_a and second.error is not None
    assert second.error.code is ErrorCode.OBJECT_MISSING
    assert "replaced by a later upload" in second.error.message


def test_aws_records_are_told_apart_by_their_sequencer(
    stack: Stack, clip_bytes: Callable[..., bytes]
) -> None:
    """AWS's shape: same bytes, same event time (to the millisecond), different sequencers:
    two uploads, two answers; the first event delivered again: no third."""
    data = clip_bytes(320, 240, faces=0)
    records = []
    for sequencer in ("0055AED6DCD90281E5", "0055AED6DCD90281F0"):
        record = stack.put(KEY, data)
        record["s3"]["object"]["sequencer"] = sequencer
        records.append(record)
    assert records[0]["eventTime"] == records[1]["eventTime"]
    for record in (records[0], records[1], records[0]):
        _answer(body(s3_event(record)))
    assert _task(body(s3_event(records[0]))).upload_marker == ("sequencer", "0055AED6DCD90281E5")
    assert len(stack.results()) == 2
