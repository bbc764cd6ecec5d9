"""`tools dlq` against a moto server: events dead-lettered by the events queue's redrive
policy are listed (and left), then re-driven to the events queue."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

import pytest

from rollcall_tools import dlq
from rollcall_tools.aws import AwsTarget
from rollcall_tools.stack.deploy import Stack

pytestmark = pytest.mark.slow
KEYS = ("test_0.mp4", "clips/cam1/s1/00000003-1764000001500.mp4", "with space.h264")


@pytest.fixture
def stack(deploy: Callable[..., Stack]) -> Stack:
    return deploy(max_receives=2)


def _url(target: AwsTarget, queue: str) -> str:
    return str(target.client("sqs").get_queue_url(QueueName=queue)["QueueUrl"])


def _dead_letter(target: AwsTarget, stack: Stack) -> None:
    """Upload KEYS; receive each event max-receives times without deleting it (a handler
    that keeps failing), so that the queue's redrive policy moves it to the DLQ."""
    s3, sqs = target.client("s3"), target.client("sqs")
    events = _url(target, stack.names.events_queue)
    for message in sqs.receive_message(QueueUrl=events, WaitTimeSeconds=1).get("Messages", []):
        assert json.loads(message["Body"])["Event"] == "s3:TestEvent"  # S3 sends one on setup
        sqs.delete_message(QueueUrl=events, ReceiptHandle=message["ReceiptHandle"])
    for key in KEYS:
        s3.put_object(Bucket=stack.names.bucket, Key=key, Body=b"x")
    for _ in range(3 * stack.settings.max_receives):
        sqs.receive_message(
            QueueUrl=events, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0
        )
    assert dlq.depth(sqs, _url(target, stack.names.events_dlq)) == len(KEYS)
    assert dlq.depth(sqs, events) == 0


def _keys(letters: list[dict[str, Any]]) -> list[str]:
    return sorted(o["key"] for letter in letters for o in letter["objects"])


def test_list_shows_the_dead_lettered_objects_and_leaves_them(
    target: AwsTarget, stack: Stack, tools: Callable[..., tuple[int, str, str]]
) -> None:
    _dead_letter(target, stack)
    sqs, dlq_url = target.client("sqs"), _url(target, stack.names.events_dlq)
    sqs.send_message(QueueUrl=dlq_url, MessageBody="garbage")
    letters = [letter.to_json() for letter in dlq.peek(sqs, dlq_url, wait_s=0)]
    assert _keys(letters) == sorted(KEYS)
    (garbage,) = [letter for letter in letters if not letter["objects"]]
    assert garbage["note"] == "not an S3 notification"
    dead = [letter for letter in letters if letter["objects"]]
    assert all(letter["receives"] >= stack.settings.max_receives for letter in dead)
    assert all(o["bucket"] == stack.names.bucket for letter in dead for o in letter["objects"])

    code, out, _ = tools("dlq", "list", "--json")  # listing leaves every message in place
    assert code == 0
    assert _keys(json.loads(out)) == sorted(KEYS)
    assert dlq.depth(sqs, dlq_url) == len(KEYS) + 1
    code, out, _ = tools("dlq", "list")
    assert "with space.h264" in out


def test_redrive_moves_them_back_to_the_events_queue(
    target: AwsTarget, stack: Stack, tools: Callable[..., tuple[int, str, str]]
) -> None:
    _dead_letter(target, stack)
    sqs = target.client("sqs")
    dlq_url, events = _url(target, stack.names.events_dlq), _url(target, stack.names.events_queue)

    code, out, err = tools("dlq", "redrive", "--dry-run", "--json")
    assert code == 0
    assert json.loads(out)["moved"] == len(KEYS)
    assert "would move 3" in err
    assert (dlq.depth(sqs, dlq_url), dlq.depth(sqs, events)) == (len(KEYS), 0)

    code, out, err = tools("dlq", "redrive", "--max", "1", "--json")
    assert code == 0
    assert json.loads(out)["moved"] == 1
    assert (dlq.depth(sqs, dlq_url), dlq.depth(sqs, events)) == (len(KEYS) - 1, 1)

    report = dlq.redrive(sqs, dlq_url, events, wait_s=0)
    assert len(report.moved) == len(KEYS) - 1 and report.failed == []
    assert dlq.depth(sqs, dlq_url) == 0
    bodies = sqs.receive_message(QueueUrl=events, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    records = [r for m in bodies["Messages"] for r in json.loads(m["Body"])["Records"]]
    assert sorted(unquote_plus(r["s3"]["object"]["key"]) for r in records) == sorted(KEYS)

    code, out, err = tools("dlq", "redrive")
    assert code == 0
    assert "moved 0 event(s)" in err
