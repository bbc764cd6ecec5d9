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
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
)

from edge_capture.errors import ConfigError, ServiceError, UnreachableError

DEFAULT_REGION = "us-east-1"
RETRIES: dict[str, Any] = {"mode": "standard", "total_max_attempts": 3}
"""Every call is retried by botocore itself: standard mode (jittered exponential backoff for
throttling, 5xx answers, connection errors and timeouts), three attempts in all. Nothing in
edge-capture retries a call; see :mod:`edge_capture.backoff` for what happens after that."""

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


def make_clients(endpoint_url: str | None, region: str | None) -> AwsClients:
    """S3 and SQS clients for any endpoint, with botocore's retries (:data:`RETRIES`).

    Raises:
        ConfigError: AWS_PROFILE names no known profile.
    """
    try:
        session = boto3.session.Session(region_name=region)
    except ProfileNotFound as exc:
        raise ConfigError(f"AWS profile: {exc} (check AWS_PROFILE and ~/.aws/config)") from None
    region_name = session.region_name or DEFAULT_REGION
    config = Config(
        connect_timeout=3,
        read_timeout=30,  # more than SQS's longest long poll (20 s)
        retries=RETRIES,
        s3={"addressing_style": "path"} if endpoint_url else None,
    )
    s3 = session.client("s3", endpoint_url=endpoint_url, region_name=region_name, config=config)
    sqs = session.client("sqs", endpoint_url=endpoint_url, region_name=region_name, config=config)
    return AwsClients(s3, sqs, endpoint_url or f"AWS ({region_name})")


def describe_failure(exc: Exception, what: str, endpoint: str) -> Exception:
    """The one-line EdgeError for an AWS exception raised while touching ``what``."""
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return ServiceError(
            f"{what}: no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/"
            "AWS_SECRET_ACCESS_KEY)"
        )
    if isinstance(exc, EndpointConnectionError):
        return UnreachableError(f"{what}: endpoint {endpoint} is unreachable")
    if isinstance(exc, BotoCoreError):
        return UnreachableError(f"{what}: endpoint {endpoint} failed: {exc}")
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
