"""AWS clients: botocore's retries, endpoint resolution; the one mapping of AWS errors."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
)

from cloud_handler.aws import Clients, result_code
from cloud_handler.errors import TransientError
from shared_schema import ErrorCode


def _client_error(code: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "Op",
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_client_error("NoSuchKey", 404), ErrorCode.OBJECT_MISSING),
        (_client_error("404", 404), ErrorCode.OBJECT_MISSING),  # HEAD-style, no body
        (_client_error("AccessDenied", 403), ErrorCode.ACCESS_DENIED),  # S3 (no ListBucket)
        (_client_error("AccessDeniedException"), ErrorCode.ACCESS_DENIED),  # DynamoDB
        (_client_error("AuthorizationError", 403), ErrorCode.ACCESS_DENIED),  # SNS
        (_client_error("ValidationException"), ErrorCode.INTERNAL),
        (ParamValidationError(report="bad"), ErrorCode.INTERNAL),
        (ValueError("x"), ErrorCode.INTERNAL),
        # transient: the delivery is retried, nothing is answered
        (_client_error("ProvisionedThroughputExceededException"), None),
        (_client_error("SlowDown", 503), None),
        (_client_error("Whatever", 500), None),
        (_client_error("TooManyRequests", 429), None),
        (EndpointConnectionError(endpoint_url="http://x"), None),
        (NoCredentialsError(), None),
        (TransientError("unprocessed keys"), None),
    ],
)
def test_aws_failures_map_to_one_result_code(error: Exception, expected: ErrorCode | None) -> None:
    assert result_code(error) is expected


def test_clients_use_botocore_retries() -> None:
    clients = Clients.create(
        endpoint_url="http://127.0.0.1:9", region="eu-west-1", max_attempts=5, retry_mode="adaptive"
    )
    for client in (clients.s3, clients.dynamodb, clients.sns):
        assert client.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 5}
        assert client.meta.endpoint_url == "http://127.0.0.1:9"
        assert client.meta.region_name == "eu-west-1"


def test_without_an_endpoint_botocore_resolves_each_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No ROLLCALL_ENDPOINT_URL: a service-specific AWS_ENDPOINT_URL_DYNAMODB redirects only
    the DynamoDB client (students and idempotency tables), the others stay on AWS."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    clients = Clients.create(endpoint_url=None, region="us-east-1")
    assert clients.dynamodb.meta.endpoint_url == "http://127.0.0.1:9"
    assert clients.s3.meta.endpoint_url == "https://s3.amazonaws.com"
    assert clients.sns.meta.endpoint_url == "https://sns.us-east-1.amazonaws.com"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:7")
    clients = Clients.create(endpoint_url=None, region="us-east-1")
    assert clients.dynamodb.meta.endpoint_url == "http://127.0.0.1:9"  # the specific one wins
    assert clients.s3.meta.endpoint_url == "http://127.0.0.1:7"
    assert clients.sns.meta.endpoint_url == "http://127.0.0.1:7"
    # ROLLCALL_ENDPOINT_URL, when set, points every client at one endpoint
    clients = Clients.create(endpoint_url="http://127.0.0.1:5", region="us-east-1")
    assert {c.meta.endpoint_url for c in (clients.s3, clients.dynamodb, clients.sns)} == {
        "http://127.0.0.1:5"
    }
