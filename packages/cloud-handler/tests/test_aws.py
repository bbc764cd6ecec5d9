"""AWS clients: botocore's retries, endpoint resolution; the one mapping of AWS errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
)

from cloud_handler.aws import client, result_code, session
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


@pytest.fixture
def no_aws_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No retry or endpoint settings from the machine's environment or profile."""
    for name in os.environ:
        if name.startswith(("AWS_RETRY", "AWS_MAX", "AWS_ENDPOINT", "AWS_IGNORE")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))


@pytest.mark.usefixtures("no_aws_config")
def test_clients_use_botocore_retries_with_the_package_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    aws = session("eu-west-1")
    for service in ("s3", "dynamodb", "sns", "sqs"):
        made = client(aws, service, endpoint_url="http://127.0.0.1:9")
        assert made.meta.config.retries == {"mode": "standard", "total_max_attempts": 4}
        assert made.meta.endpoint_url == "http://127.0.0.1:9"
        assert made.meta.region_name == "eu-west-1"
    # botocore's own variables change it, as for any AWS SDK
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "5")
    made = client(session("eu-west-1"), "dynamodb", endpoint_url=None)
    assert made.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 5}


@pytest.mark.usefixtures("no_aws_config")
def test_without_an_endpoint_botocore_resolves_each_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No ROLLCALL_ENDPOINT_URL: a service-specific AWS_ENDPOINT_URL_DYNAMODB redirects only
    the DynamoDB client (students and idempotency tables), the others stay on AWS."""

    def endpoints(endpoint_url: str | None) -> dict[str, str]:
        aws = session("us-east-1")
        services = ("s3", "dynamodb", "sns")
        return {s: client(aws, s, endpoint_url=endpoint_url).meta.endpoint_url for s in services}

    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    assert endpoints(None) == {
        "s3": "https://s3.amazonaws.com",
        "dynamodb": "http://127.0.0.1:9",
        "sns": "https://sns.us-east-1.amazonaws.com",
    }
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:7")
    assert endpoints(None) == {  # the specific one wins
        "s3": "http://127.0.0.1:7",
        "dynamodb": "http://127.0.0.1:9",
        "sns": "http://127.0.0.1:7",
    }
    # ROLLCALL_ENDPOINT_URL, when set, points every client at one endpoint
    assert set(endpoints("http://127.0.0.1:5").values()) == {"http://127.0.0.1:5"}
