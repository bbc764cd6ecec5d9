"""AWS clients (any endpoint) and the start-up checks that turn AWS failures into one line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from edge_capture.errors import ConfigError, ServiceError, UnreachableError

_CREDENTIAL_CODES = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "AccessDenied",
    "AccessDeniedException",
    "AuthFailure",
    "403",
}
_MISSING_QUEUE_CODES = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
DEFAULT_REGION = "us-east-1"


@dataclass
class AwsClients:
    """The S3 and SQS clients of one session, and the resolved results-queue URL."""

    s3: Any
    sqs: Any
    endpoint: str
    queue_url: str = ""


def make_clients(endpoint_url: str | None, region: str | None) -> AwsClients:
    """S3 and SQS clients; our own retry loops do the retrying, so botocore tries once more at most.

    Raises:
        ConfigError: no region could be determined, or AWS_PROFILE names no known profile.
    """
    try:
        session = boto3.session.Session(region_name=region)
    except ProfileNotFound as exc:
        raise ConfigError(f"AWS profile: {exc} (check AWS_PROFILE and ~/.aws/config)") from None
    region_name = session.region_name or DEFAULT_REGION
    config = Config(
        connect_timeout=3,
        read_timeout=30,
        retries={"max_attempts": 2, "mode": "standard"},
        s3={"addressing_style": "path"} if endpoint_url else None,
    )
    try:
        s3 = session.client("s3", endpoint_url=endpoint_url, region_name=region_name, config=config)
        sqs = session.client(
            "sqs", endpoint_url=endpoint_url, region_name=region_name, config=config
        )
    except NoRegionError:  # pragma: no cover - a region is always set above
        raise ConfigError("region: not set (use --region or AWS_REGION)") from None
    return AwsClients(s3, sqs, endpoint_url or f"AWS ({region_name})")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


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
    code = _code(exc)
    message = exc.response.get("Error", {}).get("Message", "") or code
    if code in {"403", "AccessDenied"}:
        text = (
            f"{what}: access denied at {endpoint} (bad credentials, missing permissions, "
            "or it belongs to another account)"
        )
    elif code in _CREDENTIAL_CODES:
        text = f"{what}: credentials refused at {endpoint} ({code}: {message})"
    elif code in {"404", "NoSuchBucket"} | _MISSING_QUEUE_CODES:
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
        if isinstance(exc, ClientError) and _code(exc) in _MISSING_QUEUE_CODES:
            failure = ServiceError(
                f"{failure} (each device reads its own results queue: register the device "
                "with `tools devices add DEVICE_ID`, which prints the queue)"
            )
        raise failure from None
