"""edge-capture's one way to AWS: the client factory (botocore's retries, set once here) and
the one mapping of AWS errors to what they mean to the edge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)

from edge_capture.errors import ConfigError, ServiceError, UnreachableError

DEFAULT_REGION = "us-east-1"
RETRIES: dict[str, Any] = {"mode": "standard", "total_max_attempts": 3}
"""Every call is retried by botocore itself: standard mode (jittered exponential backoff for
throttling, 5xx answers, connection errors and timeouts), three attempts in all. Nothing in
edge-capture retries a call; see :mod:`edge_capture.backoff` for what happens after that."""
TIMEOUT_S = 2.5
"""Connect and read timeout of each attempt of a call (no byte for 2.5 s: a stalled link).
An endpoint that accepts connections and never answers fails a call after three attempts
and standard mode's backoff (under 1 s, then under 2 s) within 3 x 2.5 + 3 = 10.5 s, the
start-up check included. The results long poll reads for its wait plus this."""

Problem = Literal["missing", "exists", "denied", "credentials", "other"]
_PROBLEMS: dict[str, Problem] = {
    "404": "missing",
    "NoSuchBucket": "missing",
    "NoSuchKey": "missing",
    "NotFound": "missing",
    "AWS.SimpleQueueService.NonExistentQueue": "missing",
    "QueueDoesNotExist": "missing",
    "412": "exists",
    "PreconditionFailed": "exists",
    "403": "denied",
    "AccessDenied": "denied",
    "AccessDeniedException": "denied",
    "AuthFailure": "credentials",
    "InvalidAccessKeyId": "credentials",
    "SignatureDoesNotMatch": "credentials",
    "UnrecognizedClientException": "credentials",
    "InvalidClientTokenId": "credentials",
    "ExpiredToken": "credentials",
    "ExpiredTokenException": "credentials",
}


def error_code(exc: ClientError) -> str:
    """The AWS error code of a failed call (``NoSuchBucket``, ``404``...)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def problem(exc: ClientError) -> Problem:
    """What a failed call means here: the resource is ``missing``; a conditional write found
    the object already there (``exists``); access ``denied``; ``credentials`` refused."""
    return _PROBLEMS.get(error_code(exc), "other")


@dataclass
class AwsClients:
    """The S3 and SQS clients of one session, and the resolved results-queue URL."""

    s3: Any
    sqs: Any
    endpoint: str
    queue_url: str = ""
    poll_sqs: Any = None
    """SQS for the results long poll: its read timeout is the poll's wait plus the timeout."""


def make_clients(
    endpoint_url: str | None,
    region: str | None,
    *,
    timeout_s: float = TIMEOUT_S,
    long_poll_s: int = 20,
) -> AwsClients:
    """S3 and SQS clients for any endpoint, with botocore's retries (:data:`RETRIES`) and
    ``timeout_s`` to connect and to read (:data:`TIMEOUT_S`); the results poller's SQS
    client reads for ``long_poll_s`` more.

    Raises:
        ConfigError: AWS_PROFILE names no known profile.
    """
    try:
        session = boto3.session.Session(region_name=region)
    except ProfileNotFound as exc:
        raise ConfigError(f"AWS profile: {exc} (check AWS_PROFILE and ~/.aws/config)") from None
    region_name = session.region_name or DEFAULT_REGION
    config = Config(
        connect_timeout=timeout_s,
        read_timeout=timeout_s,
        retries=RETRIES,
        s3={"addressing_style": "path"} if endpoint_url else None,
    )
    poll = config.merge(Config(read_timeout=long_poll_s + timeout_s))
    s3 = session.client("s3", endpoint_url=endpoint_url, region_name=region_name, config=config)
    sqs = session.client("sqs", endpoint_url=endpoint_url, region_name=region_name, config=config)
    poll_sqs = session.client(
        "sqs", endpoint_url=endpoint_url, region_name=region_name, config=poll
    )
    return AwsClients(s3, sqs, endpoint_url or f"AWS ({region_name})", poll_sqs=poll_sqs)


def _unreachable(exc: BotoCoreError, what: str, endpoint: str) -> UnreachableError:
    """Why the endpoint could not be used: refused, silent (timeouts), or another failure."""
    attempts = RETRIES["total_max_attempts"]
    if isinstance(exc, EndpointConnectionError):
        why = "is unreachable"
    elif isinstance(exc, ConnectTimeoutError):
        why = f"is unreachable: no connection within the connect timeout ({attempts} attempts)"
    elif isinstance(exc, ReadTimeoutError):
        why = f"accepted the connection but never answered (read timeout, {attempts} attempts)"
    else:
        why = f"failed: {exc}"
    return UnreachableError(f"{what}: endpoint {endpoint} {why}")


def describe_failure(exc: Exception, what: str, endpoint: str) -> Exception:
    """The one-line EdgeError for an AWS exception raised while touching ``what``."""
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return ServiceError(
            f"{what}: no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/"
            "AWS_SECRET_ACCESS_KEY)"
        )
    if isinstance(exc, BotoCoreError):
        return _unreachable(exc, what, endpoint)
    if not isinstance(exc, ClientError):
        return exc
    code = error_code(exc)
    message = exc.response.get("Error", {}).get("Message", "") or code
    kind = problem(exc)
    if kind == "denied":
        text = (
            f"{what}: access denied at {endpoint} (bad credentials, missing permissions, "
            "or it belongs to another account)"
        )
    elif kind == "credentials":
        text = f"{what}: credentials refused at {endpoint} ({code}: {message})"
    elif kind == "missing":
        text = f"{what}: does not exist at {endpoint}"
    else:
        text = f"{what}: {code} at {endpoint}: {message}"
    return ServiceError(text)


def check_resources(clients: AwsClients, bucket: str, results_queue: str) -> None:
    """Fail fast, with one clear line, when the bucket or queue is missing or unreachable.

    ``results_queue`` is a queue name or URL; the URL is stored in ``clients.queue_url``.

    Raises:
        ServiceError: missing bucket/queue, refused credentials.
        UnreachableError: the endpoint cannot be reached.
    """
    try:
        clients.s3.head_bucket(Bucket=bucket)
    except (ClientError, BotoCoreError) as exc:
        raise describe_failure(exc, f"bucket {bucket!r}", clients.endpoint) from None
    what = f"results queue {results_queue!r}"
    try:
        if results_queue.startswith(("http://", "https://")):
            clients.sqs.get_queue_attributes(QueueUrl=results_queue, AttributeNames=["QueueArn"])
            clients.queue_url = results_queue
        else:
            clients.queue_url = clients.sqs.get_queue_url(QueueName=results_queue)["QueueUrl"]
    except (ClientError, BotoCoreError) as exc:
        failure = describe_failure(exc, what, clients.endpoint)
        if isinstance(exc, ClientError) and problem(exc) == "missing":
            failure = ServiceError(
                f"{failure} (each device reads its own results queue: register the device "
                "with `tools devices add DEVICE_ID`, which prints the queue)"
            )
        raise failure from None
