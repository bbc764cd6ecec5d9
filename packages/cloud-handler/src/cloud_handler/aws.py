"""AWS clients (one set per container, botocore's retries) and the one mapping of AWS errors.

Retries are botocore's (``standard`` or ``adaptive`` mode, ``ROLLCALL_AWS_MAX_ATTEMPTS``
attempts in all). What still fails afterwards is sorted here, once for every call the
handler makes: a missing object and a refused call become error results, throttling,
5xx and transport failures make the delivery fail so that SQS redelivers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from cloud_handler.errors import TransientError
from shared_schema import ErrorCode

MISSING_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "NoSuchBucket", "NotFound", "404"})
"""The object is not there (S3 answers 404 only with s3:ListBucket; otherwise 403)."""
DENIED_CODES = frozenset(
    {
        "AccessDenied",  # S3, SQS
        "AccessDeniedException",  # DynamoDB
        "AuthorizationError",  # SNS
        "KMS.AccessDeniedException",
        "KMSAccessDeniedException",
        "AllAccessDisabled",
        "Forbidden",
        "403",
    }
)
"""IAM refused the call."""
THROTTLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "LimitExceededException",
        "KMS.ThrottlingException",
        "InternalError",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
"""Worth another delivery (after botocore's own retries ran out)."""


def error_code(exc: ClientError) -> str:
    """The AWS error code of a ClientError ("" when absent)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def result_code(exc: BaseException) -> ErrorCode | None:
    """The error code an AWS failure becomes in a result, or None when it is transient
    (throttled, 5xx, unreachable) and the delivery must be retried instead."""
    if isinstance(exc, ClientError):
        return _client_error_code(exc)
    if isinstance(exc, TransientError) or (
        isinstance(exc, BotoCoreError) and not isinstance(exc, ParamValidationError)
    ):
        return None  # endpoint unreachable, timeouts, credentials not (yet) available
    return ErrorCode.INTERNAL


def _client_error_code(exc: ClientError) -> ErrorCode | None:
    code = error_code(exc)
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if code in MISSING_CODES:
        return ErrorCode.OBJECT_MISSING
    if code in DENIED_CODES:
        return ErrorCode.ACCESS_DENIED
    if code in THROTTLE_CODES or status >= 500 or status == 429:
        return None
    return ErrorCode.INTERNAL


def describe(exc: BaseException) -> str:
    """A short reason for logs and error results."""
    if isinstance(exc, ClientError):
        message = exc.response.get("Error", {}).get("Message", "")
        return f"{getattr(exc, 'operation_name', 'call')}: {error_code(exc)} ({message})"
    return f"{type(exc).__name__}: {exc}"


@dataclass
class Clients:
    """The handler's boto3 clients, made once per container."""

    s3: Any
    dynamodb: Any
    sns: Any

    @classmethod
    def create(
        cls,
        *,
        endpoint_url: str | None,
        region: str,
        max_attempts: int = 4,
        retry_mode: str = "standard",
    ) -> Clients:
        """Clients for ``region`` with botocore retries.

        ``endpoint_url`` (``ROLLCALL_ENDPOINT_URL``) points every client at one endpoint
        (moto, the local stack). Without it no endpoint is passed, so botocore resolves
        each service's own: ``AWS_ENDPOINT_URL_DYNAMODB``, ``AWS_ENDPOINT_URL``, or AWS.
        """
        config = Config(
            retries={"mode": retry_mode, "total_max_attempts": max_attempts},
            connect_timeout=3,
            read_timeout=10,
            max_pool_connections=16,
        )
        session = boto3.session.Session(region_name=region)
        where = {"endpoint_url": endpoint_url} if endpoint_url else {}

        def make(name: str) -> Any:
            return session.client(name, config=config, **where)

        return cls(s3=make("s3"), dynamodb=make("dynamodb"), sns=make("sns"))
