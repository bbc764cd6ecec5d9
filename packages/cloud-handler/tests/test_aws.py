"""Retry with backoff: transient errors are retried, then reported for redelivery."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from cloud_handler.aws import TransientAWSError, is_transient, with_retries


def _client_error(code: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "Op",
    )


def test_transient_classification() -> None:
    assert is_transient(_client_error("ProvisionedThroughputExceededException"))
    assert is_transient(_client_error("SlowDown", 503))
    assert is_transient(_client_error("Whatever", 500))
    assert is_transient(EndpointConnectionError(endpoint_url="http://x"))
    assert not is_transient(_client_error("AccessDenied", 403))
    assert not is_transient(ValueError("x"))


def test_retries_with_growing_backoff_then_gives_up() -> None:
    calls: list[int] = []
    sleeps: list[float] = []

    def call() -> str:
        calls.append(1)
        raise _client_error("ThrottlingException")

    with pytest.raises(TransientAWSError, match="still failing after 4 attempts"):
        with_retries(call, what="op", attempts=4, base_s=0.1, sleep=sleeps.append)
    assert len(calls) == 4
    assert len(sleeps) == 3
    assert all(0 <= s <= 0.1 * 2 ** (i + 1) for i, s in enumerate(sleeps))


def test_success_after_throttling_and_permanent_errors_pass_through() -> None:
    state = {"n": 0}

    def flaky() -> str:
        state["n"] += 1
        if state["n"] < 3:
            raise _client_error("ThrottlingException")
        return "ok"

    assert with_retries(flaky, what="op", attempts=4, base_s=0, sleep=lambda _: None) == "ok"

    def denied() -> str:
        raise _client_error("AccessDenied", 403)

    with pytest.raises(ClientError):
        with_retries(denied, what="op", attempts=4, base_s=0, sleep=lambda _: None)
