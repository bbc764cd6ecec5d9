"""AWS clients (one set per container, optional endpoint URL) and retry with backoff."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

T = TypeVar("T")

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
        "InternalError",
        "InternalServerError",
        "ServiceUnavailable",
        "KMS.ThrottlingException",
    }
)
_TRANSPORT_ERRORS = (
    EndpointConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
    ConnectionClosedError,
)


class TransientAWSError(RuntimeError):
    """An AWS call kept being throttled or failing transiently: the record must be redelivered."""


def error_code(exc: ClientError) -> str:
    """The AWS error code of a ClientError ("" when absent)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_transient(exc: BaseException) -> bool:
    """True for throttling, 5xx and transport errors: worth retrying later."""
    if isinstance(exc, _TRANSPORT_ERRORS):
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error_code(exc) in THROTTLE_CODES or int(status or 0) >= 500
    return False


def with_retries(
    call: Callable[[], T],
    *,
    what: str,
    attempts: int,
    base_s: float,
    cap_s: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``call``, retrying transient failures with exponential backoff and full jitter.

    Raises:
        TransientAWSError: still failing transiently after ``attempts`` tries.
        Exception: any non-transient error, unchanged, at once.
    """
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if attempt == attempts:
                detail = error_code(exc) if isinstance(exc, ClientError) else type(exc).__name__
                raise TransientAWSError(
                    f"{what}: still failing after {attempts} attempts ({detail})"
                ) from exc
            sleep(random.uniform(0, min(cap_s, base_s * 2**attempt)))
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass
class Clients:
    """The handler's boto3 clients. Retries are ours (:func:`with_retries`), not botocore's."""

    s3: Any
    dynamodb: Any
    sqs: Any

    @classmethod
    def create(cls, *, endpoint_url: str | None, region: str) -> Clients:
        """Clients for ``region``, all pointed at ``endpoint_url`` when given (e.g. moto)."""
        config = Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=3,
            read_timeout=10,
            max_pool_connections=16,
        )
        session = boto3.session.Session(region_name=region)
        make = lambda name: session.client(  # noqa: E731
            name, endpoint_url=endpoint_url, config=config
        )
        return cls(s3=make("s3"), dynamodb=make("dynamodb"), sqs=make("sqs"))

    @staticmethod
    def session_client(
        name: str, *, endpoint_url: str | None, region: str, config: Config | None = None
    ) -> Any:
        """One more client with its own configuration (e.g. botocore retries enabled)."""
        session = boto3.session.Session(region_name=region)
        return session.client(name, endpoint_url=endpoint_url, config=config)
