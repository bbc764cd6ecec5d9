"""The gate: relays to moto, refuses and resets while shut (even a blocked long poll), and
moto's state is intact when it reopens."""

from __future__ import annotations

import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError

from rollcall_tools.reliability.gate import Gate


@pytest.fixture(scope="module")
def moto_port(moto_endpoint: str) -> int:
    return int(moto_endpoint.rsplit(":", 1)[1])


def _sqs(url: str) -> object:
    return boto3.client(
        "sqs",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=30),
    )


def test_shut_gate_refuses_then_reopens_with_state_intact(moto_port: int) -> None:
    gate = Gate(moto_port)
    gate.open()
    try:
        sqs = _sqs(gate.url)
        url = sqs.create_queue(QueueName="gate-test")["QueueUrl"]  # type: ignore[attr-defined]
        sqs.send_message(QueueUrl=url, MessageBody="before")  # type: ignore[attr-defined]
        gate.shut()
        with pytest.raises(BotoCoreError):
            sqs.get_queue_url(QueueName="gate-test")  # type: ignore[attr-defined]
        gate.open()
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)  # type: ignore[attr-defined]
        assert [m["Body"] for m in got["Messages"]] == ["before"]
    finally:
        gate.close()


def test_shutting_resets_a_long_poll_in_progress(moto_port: int) -> None:
    """A request blocked in a long poll must fail at once, not hang until its read timeout."""
    import threading

    gate = Gate(moto_port)
    gate.open()
    try:
        sqs = _sqs(gate.url)
        url = sqs.create_queue(QueueName="gate-poll")["QueueUrl"]  # type: ignore[attr-defined]
        outcome: list[object] = []

        def poll() -> None:
            start = time.monotonic()
            try:
                sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)  # type: ignore[attr-defined]
                outcome.append("answered")
            except BotoCoreError as exc:
                outcome.append(exc)
            outcome.append(time.monotonic() - start)

        thread = threading.Thread(target=poll)
        thread.start()
        time.sleep(0.5)
        gate.shut()
        thread.join(10)
        assert not thread.is_alive(), "the long poll hung through the outage"
        assert isinstance(outcome[0], BotoCoreError)
        assert outcome[1] < 5
    finally:
        gate.close()
