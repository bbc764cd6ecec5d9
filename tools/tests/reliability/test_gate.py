"""The gate: relays to moto, refuses and resets while shut (even a blocked long poll), and
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

from rollcall_tools.reliability.gate import Gate


@pytest.fixture
def gate(moto_endpoint: str) -> Iterator[Gate]:
    relay = Gate(int(moto_endpoint.rsplit(":", 1)[1]))
    relay.open()
    yield relay
    relay.close()


def _sqs(gate: Gate) -> Any:
    """A client of its own (its own connections), with one attempt per call: the test sees
    the gate, not botocore's retries."""
    return boto3.client(
        "sqs",
        endpoint_url=gate.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}, read_timeout=60),
    )


def test_shut_gate_refuses_then_reopens_with_state_intact(gate: Gate) -> None:
    sqs = _sqs(gate)
    url = sqs.create_queue(QueueName="gate-test")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="before")
    gate.shut()
    with pytest.raises(BotoCoreError):
        sqs.get_queue_url(QueueName="gate-test")
    gate.open()
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    assert [m["Body"] for m in got["Messages"]] == ["before"]


def test_shutting_resets_a_long_poll_in_progress(gate: Gate) -> None:
    """A request on a relayed connection (a 20 s long poll) fails when the gate shuts; were
    the connection left open, moto would answer it (no message) when the poll ends."""
    url = _sqs(gate).create_queue(QueueName="gate-poll")["QueueUrl"]
    poller = _sqs(gate)
    relayed = gate.relayed
    outcome: list[object] = []

    def poll() -> None:
        try:
            poller.receive_message(QueueUrl=url, WaitTimeSeconds=20)
            outcome.append("answered")
        except BotoCoreError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=poll)
    thread.start()
    while gate.relayed == relayed:  # until the poll's connection goes through the gate
        time.sleep(0.01)
    gate.shut()
    thread.join()
    assert len(outcome) == 1 and isinstance(outcome[0], BotoCoreError), outcome
