"""AWS failures become one clear line (one mapping of error codes); the pause after failed
rounds doubles, is capped and ends with a success (on an injected clock)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from edge_capture import EdgeConfig, run_session
from edge_capture.aws import RETRIES, TIMEOUT_S, describe_failure, make_clients, problem
from edge_capture.backoff import Backoff
from edge_capture.errors import ServiceError, UnreachableError


def _client_error(code: str, message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "HeadBucket")


def test_refused_credentials() -> None:
    for code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"):
        exc = describe_failure(_client_error(code, "nope"), "bucket 'b'", "AWS (us-east-1)")
        assert isinstance(exc, ServiceError)
        assert "credentials refused" in str(exc) and code in str(exc)


def test_forbidden_head() -> None:
    exc = describe_failure(_client_error("403"), "bucket 'b'", "AWS (us-east-1)")
    assert isinstance(exc, ServiceError) and "access denied" in str(exc)


def test_missing_and_unreachable() -> None:
    assert "does not exist" in str(describe_failure(_client_error("404"), "bucket 'b'", "e"))
    queue = _client_error("AWS.SimpleQueueService.NonExistentQueue")
    assert "does not exist" in str(describe_failure(queue, "results queue 'q'", "e"))
    down = describe_failure(EndpointConnectionError(endpoint_url="http://x"), "bucket 'b'", "e")
    assert isinstance(down, UnreachableError)
    assert "no AWS credentials" in str(describe_failure(NoCredentialsError(), "bucket 'b'", "e"))


def test_one_mapping_of_error_codes() -> None:
    assert problem(_client_error("NoSuchKey")) == problem(_client_error("404")) == "missing"
    assert problem(_client_error("PreconditionFailed")) == "exists"
    assert problem(_client_error("ExpiredToken")) == "credentials"
    assert problem(_client_error("SlowDown")) == "other"


def test_botocore_does_the_retrying() -> None:
    clients = make_clients("http://127.0.0.1:9", "us-east-1")
    for client in (clients.s3, clients.sqs):
        retries = client.meta.config.retries
        assert (retries["mode"], retries["total_max_attempts"]) == ("standard", 3)
    assert RETRIES == {"mode": "standard", "total_max_attempts": 3}


def test_a_silent_endpoint_fails_within_15_s_by_default() -> None:
    """Connect and read timeouts on every client: three attempts of TIMEOUT_S each plus
    standard mode's backoff (under 1 s, then under 2 s) stay under 15 s; the long poll
    reads for its wait longer."""
    clients = make_clients("http://127.0.0.1:9", "us-east-1", long_poll_s=5)
    for client in (clients.s3, clients.sqs):
        config = client.meta.config
        assert (config.connect_timeout, config.read_timeout) == (TIMEOUT_S, TIMEOUT_S)
    assert clients.poll_sqs.meta.config.read_timeout == 5 + TIMEOUT_S
    assert RETRIES["total_max_attempts"] * TIMEOUT_S + 1 + 2 <= 15


@contextmanager
def silent_endpoint() -> Iterator[str]:
    """A TCP listener on 127.0.0.1 that accepts every connection and never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        server.close()


def test_an_endpoint_that_never_answers_is_unreachable_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with silent_endpoint() as url:
        config = EdgeConfig(
            bucket="b", results_queue="q", endpoint_url=url, spool_dir=tmp_path / "spool",
            duration_s=0, aws_timeout_s=0.2,
        )  # fmt: skip
        start = time.monotonic()
        with pytest.raises(UnreachableError) as caught:
            run_session(config)
        elapsed = time.monotonic() - start
    assert str(caught.value) == (
        f"bucket 'b': endpoint {url} accepted the connection but never answered "
        "(read timeout, 3 attempts)"
    )
    assert elapsed < 15  # 3 x 0.2 s and the backoff; the default bound is checked above


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_backoff_doubles_is_capped_and_ends_with_a_success() -> None:
    clock = FakeClock()
    backoff = Backoff(0.25, 2.0, clock=clock)
    assert backoff.remaining() == 0.0
    assert [backoff.failed() for _ in range(6)] == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    assert backoff.failures == 6
    assert backoff.remaining() == 2.0
    clock.now += 1.5
    assert backoff.remaining() == 0.5
    clock.now += 1.0
    assert backoff.remaining() == 0.0
    backoff.failed()
    backoff.succeeded()
    assert (backoff.failures, backoff.remaining()) == (0, 0.0)
    assert backoff.failed() == 0.25
