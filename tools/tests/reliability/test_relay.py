"""The relay: relays to moto, refuses and resets while shut (even a blocked long poll), and
moto's state is intact when it reopens."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError

from rollcall_tools.reliability.relay import Relay


@pytest.fixture
def relay(moto_endpoint: str) -> Iterator[Relay]:
    r = Relay(int(moto_endpoint.rsplit(":", 1)[1]))
    r.open()
    yield r
    r.close()


def _sqs(relay: Relay) -> Any:
    """A client of its own (its own connections), with one attempt per call: the test sees
    the relay, not botocore's retries."""
    return boto3.client(
        "sqs",
        endpoint_url=relay.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}, read_timeout=60),
    )


def test_shut_relay_refuses_then_reopens_with_state_intact(relay: Relay) -> None:
    sqs = _sqs(relay)
    url = sqs.create_queue(QueueName="relay-test")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="before")
    relay.shut()
    with pytest.raises(BotoCoreError):
        sqs.get_queue_url(QueueName="relay-test")
    relay.open()
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    assert [m["Body"] for m in got["Messages"]] == ["before"]


def test_shutting_resets_a_long_poll_in_progress(relay: Relay) -> None:
    """A request on a relayed connection (a 20 s long poll) fails when the relay shuts; were
    the connection left open, moto would answer it (no message) when the poll ends."""
    url = _sqs(relay).create_queue(QueueName="relay-poll")["QueueUrl"]
    poller = _sqs(relay)
    relayed = relay.relayed
    outcome: list[object] = []

    def poll() -> None:
        try:
            poller.receive_message(QueueUrl=url, WaitTimeSeconds=20)
            outcome.append("answered")
        except BotoCoreError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=poll)
    thread.start()
    while relay.relayed == relayed:  # until the poll's connection goes through the relay
        time.sleep(0.01)
    relay.shut()
    thread.join()
    assert len(outcome) == 1 and isinstance(outcome[0], BotoCoreError), outcome
