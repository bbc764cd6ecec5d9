"""AWS failures become one clear line (one mapping of error codes); the pause after failed
rounds doubles, is capped and ends with a success (on an injected clock)."""

from __future__ import annotations

from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from edge_capture.aws import RETRIES, describe_failure, make_clients, problem
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
