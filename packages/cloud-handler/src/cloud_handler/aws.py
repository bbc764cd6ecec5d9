"""AWS clients (one factory, botocore's retries) and the one mapping of AWS errors.

Retries are botocore's (``standard`` mode, :data:`MAX_ATTEMPTS` attempts in all, unless
``AWS_RETRY_MODE`` / ``AWS_MAX_ATTEMPTS`` say otherwise). What still fails afterwards is
sorted here, once for every call the handler makes: a missing object and a refused call
become error results, throttling, 5xx and transport failures make the delivery fail so
that SQS redelivers it.
"""

from __future__ import annotations

from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from cloud_handler.errors import TransientError
from shared_schema import ErrorCode

RETRY_MODE = "standard"
"""botocore's retry mode unless ``AWS_RETRY_MODE`` says otherwise (``adaptive`` adds
client-side rate limiting)."""
MAX_ATTEMPTS = 4
"""Attempts per call in all unless ``AWS_MAX_ATTEMPTS`` says otherwise."""
CONNECT_TIMEOUT_S, READ_TIMEOUT_S = 3.0, 10.0

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


def session(region: str) -> boto3.session.Session:
    """A boto3 session whose clients retry the package's way unless the environment says
    otherwise: botocore's ``standard`` mode, :data:`MAX_ATTEMPTS` attempts in all
    (``AWS_RETRY_MODE``, ``AWS_MAX_ATTEMPTS`` or the profile's ``retry_mode`` /
    ``max_attempts`` win, as for any AWS SDK)."""
    core = botocore.session.Session(
        session_vars={
            "retry_mode": ("retry_mode", "AWS_RETRY_MODE", RETRY_MODE, None),
            "max_attempts": ("max_attempts", "AWS_MAX_ATTEMPTS", MAX_ATTEMPTS, int),
        }
    )
    return boto3.session.Session(botocore_session=core, region_name=region)


def client(
    aws: boto3.session.Session,
    service: str,
    *,
    endpoint_url: str | None,
    read_timeout_s: float = READ_TIMEOUT_S,
) -> Any:
    """The one way this package makes a client (the idempotency layer's too).

    ``endpoint_url`` (``ROLLCALL_ENDPOINT_URL``) points the client at one endpoint (moto,
    the local stack). Without it no endpoint is passed, so botocore resolves the service's
    own: ``AWS_ENDPOINT_URL_<SERVICE>``, ``AWS_ENDPOINT_URL``, or AWS.
    """
    config = Config(
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=read_timeout_s,
        max_pool_connections=16,
    )
    where = {"endpoint_url": endpoint_url} if endpoint_url else {}
    return aws.client(service, config=config, **where)
