"""AWS failures become one clear line; backoff stays within its bounds."""

from __future__ import annotations

from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from edge_capture.aws import describe_failure
from edge_capture.errors import ServiceError, UnreachableError
from edge_capture.uploader import backoff_delay


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


def test_backoff_is_jittered_and_capped() -> None:
    delays = [backoff_delay(n, 0.25, 10.0) for n in range(1, 40) for _ in range(20)]
    assert all(0.0 <= d <= 10.0 for d in delays)
    assert len({round(d, 6) for d in delays}) > 100  # jittered, not a fixed schedule
    assert max(backoff_delay(1, 0.25, 10.0) for _ in range(200)) <= 0.5
