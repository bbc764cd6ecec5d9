"""`tools results` against a moto server: follows a route, prints JSON Lines or a table,
consumes what it printed, leaves malformed messages, stops on --count or --timeout."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest

from rollcall_testkit.handler_stack import clip_key
from rollcall_testkit.results import publish, result
from rollcall_tools import dlq
from rollcall_tools.aws import AwsTarget
from rollcall_tools.follow import Follower
from rollcall_tools.stack.deploy import Stack

pytestmark = pytest.mark.slow


@pytest.fixture
def stack(stack: Stack) -> Stack:
    stack.devices.add(["cam1"])
    return stack


def _depth(target: AwsTarget, queue: str) -> int:
    sqs = target.client("sqs")
    return dlq.depth(sqs, sqs.get_queue_url(QueueName=queue)["QueueUrl"])


def test_json_lines_of_the_foreign_route_consume_what_they_print(
    target: AwsTarget, stack: Stack, tools: Callable[..., tuple[int, str, str]]
) -> None:
    names, sns, sqs = stack.names, target.client("sns"), target.client("sqs")
    sqs.send_message(  # first: moto hands messages out in the order they came
        QueueUrl=sqs.get_queue_url(QueueName=names.foreign_queue)["QueueUrl"],
        MessageBody='{"not": "a result"}',
    )
    publish(sns, names.results_topic_arn, result(names.bucket, "test_0.mp4", "vin_diesel"))
    publish(sns, names.results_topic_arn, result(names.bucket, "pi/rec.h264"))
    publish(
        sns, names.results_topic_arn, result(names.bucket, clip_key(device="cam1"))
    )  # not foreign

    code, out, err = tools("results", "--json", "--count", "2", "--timeout", "30")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    by_key = {line["key"]: line for line in lines}
    assert set(by_key) == {"test_0.mp4", "pi/rec.h264"}
    assert by_key["test_0.mp4"]["people"] == [
        {"name": "vin_diesel", "major": "physics", "year": "senior", "similarity": 0.9}
    ]
    assert by_key["test_0.mp4"]["route"] == "foreign"
    assert by_key["test_0.mp4"]["device"] is None
    assert by_key["pi/rec.h264"]["status"] == "no_face"
    assert by_key["pi/rec.h264"]["people"] == []
    assert "not a result" in err
    assert _depth(target, names.foreign_queue) == 1  # only the malformed one is left

    code, out, err = tools("results", "--device", "cam1", "--count", "1", "--timeout", "30")
    assert code == 0, err
    assert clip_key(device="cam1") in out
    assert "no_face" in out
    assert _depth(target, names.device_queue("cam1")) == 0


def test_a_table_row_names_the_people(
    target: AwsTarget, stack: Stack, tools: Callable[..., tuple[int, str, str]]
) -> None:
    names = stack.names
    key = clip_key(4, device="cam1")
    publish(target.client("sns"), names.results_topic_arn, result(names.bucket, key, "ada"))
    code, out, _ = tools("results", "--device", "cam1", "--count", "1", "--timeout", "30")
    assert code == 0
    assert "object" in out.splitlines()[0]  # the header
    assert "ada (physics, senior) 0.90" in out


@pytest.mark.usefixtures("stack")
def test_a_count_not_reached_by_the_timeout_fails(
    tools: Callable[..., tuple[int, str, str]],
) -> None:
    code, out, err = tools("results", "--json", "--count", "1", "--timeout", "0")
    assert code == 1
    assert out == ""
    assert "0 of 1 result(s) arrived within 0 s" in err


def test_the_timeout_is_measured_on_the_injected_clock(target: AwsTarget, stack: Stack) -> None:
    sqs = target.client("sqs")
    url = sqs.get_queue_url(QueueName=stack.names.foreign_queue)["QueueUrl"]
    ticks = itertools.count(step=4.0)
    calls: list[dict[str, Any]] = []

    class Recording:
        def receive_message(self, **kwargs: Any) -> dict[str, Any]:
            calls.append(kwargs)
            return dict(sqs.receive_message(**kwargs))

        def delete_message_batch(self, **kwargs: Any) -> dict[str, Any]:
            return dict(sqs.delete_message_batch(**kwargs))

    follower = Follower(Recording(), url, clock=lambda: next(ticks), poll_s=0)
    stats = follower.follow(lambda line: None, timeout_s=10)
    assert stats.results == 0
    # the clock reads 0 at the start, then 4 and 8 before polls, 12 ends it
    assert len(calls) == 2
    assert all(c["WaitTimeSeconds"] == 0 for c in calls)
