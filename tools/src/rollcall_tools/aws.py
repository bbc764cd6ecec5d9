"""Where tools talks to AWS: region, profile, endpoint; every boto3 client and resource (with
botocore's retry mode, set here once); the one reading of AWS error codes."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlparse

import boto3
import botocore.exceptions
from botocore.config import Config

from rollcall_tools.errors import ConfigError, ServiceUnreachableError, ToolsError

DEFAULT_REGION = "us-east-1"
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
"""moto accepts any credentials; these are its documented dummy values, never real ones."""

CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5)
"""Every client's configuration: botocore's standard retry mode (throttles, 5xx and dropped
connections retried with backoff, 4 attempts in all); nothing in tools retries by hand."""

_ABSENT = frozenset(
    {
        "404", "NotFound", "NotFoundException", "ResourceNotFoundException", "NoSuchEntity",
        "NoSuchBucket", "NoSuchKey", "NoSuchBucketPolicy", "NoSuchLifecycleConfiguration",
        "NoSuchPublicAccessBlockConfiguration", "ServerSideEncryptionConfigurationNotFoundError",
        "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist",
        "RepositoryNotFoundException", "LifecyclePolicyNotFoundException",
        "ImageNotFoundException", "RepositoryPolicyNotFoundException",
    }
)  # fmt: skip
"""Codes that say "it does not exist": a resource to create, a setting never made."""
_DENIED = frozenset(
    {
        "403", "AccessDenied", "AccessDeniedException", "InvalidClientTokenId",
        "UnrecognizedClientException", "SignatureDoesNotMatch", "ExpiredToken",
    }
)  # fmt: skip
"""Codes that say the credentials are wrong or not allowed: a configuration error."""
_UNREACHABLE = (
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectTimeoutError,
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.ConnectionClosedError,
)
T = TypeVar("T")


def is_loopback(endpoint_url: str | None) -> bool:
    """True when ``endpoint_url`` points at this machine (the embedded local stack)."""
    if not endpoint_url:
        return False
    host = urlparse(endpoint_url).hostname or ""
    return host in {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class AwsTarget:
    """One account/region/endpoint that commands operate on; every client comes from here."""

    region: str = DEFAULT_REGION
    profile: str | None = None
    endpoint_url: str | None = None
    _session: list[boto3.Session] = field(default_factory=list, compare=False, repr=False)

    def session(self) -> boto3.Session:
        """A boto3 session (created once); dummy credentials on a loopback endpoint."""
        if not self._session:
            kwargs: dict[str, Any] = {"region_name": self.region}
            if self.profile:
                kwargs["profile_name"] = self.profile
            elif is_loopback(self.endpoint_url) and not os.environ.get("AWS_ACCESS_KEY_ID"):
                kwargs.update(LOCAL_CREDENTIALS)
            try:
                session = boto3.Session(**kwargs)
            except botocore.exceptions.ProfileNotFound as exc:
                raise ConfigError(f"AWS profile not found: {exc}") from None
            if self.endpoint_url is None and not _known_region(session, self.region):
                raise ConfigError(
                    f"--region {self.region!r} is not an AWS region (e.g. us-east-1, eu-west-1)"
                )
            self._session.append(session)
        return self._session[0]

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` at this target's endpoint."""
        return self.session().client(service, endpoint_url=self.endpoint_url, config=CLIENT_CONFIG)

    def resource(self, service: str) -> Any:
        """A boto3 resource (e.g. DynamoDB's, for its batch writer) at this target's endpoint."""
        return self.session().resource(
            service, endpoint_url=self.endpoint_url, config=CLIENT_CONFIG
        )

    def account_id(self) -> str:
        """The account the credentials belong to (moto answers 123456789012)."""
        return self.identity().account

    def identity(self) -> CallerIdentity:
        """Who the credentials are (one sts:GetCallerIdentity call): account and partition."""
        with aws_errors("reading the account id (sts:GetCallerIdentity)"):
            found = self.client("sts").get_caller_identity()
        return CallerIdentity(str(found["Account"]), partition_of(str(found["Arn"])))


@dataclass(frozen=True)
class CallerIdentity:
    """The account the credentials belong to and its partition (``aws``, ``aws-cn``,
    ``aws-us-gov``): every ARN the stack writes starts ``arn:<partition>:``."""

    account: str
    partition: str


def partition_of(arn: str) -> str:
    """The partition of an ARN (``arn:aws-cn:sts::...`` -> ``aws-cn``)."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn" or not parts[1]:
        raise ConfigError(f"not an ARN: {arn!r} (from sts:GetCallerIdentity)")
    return parts[1]


def _known_region(session: boto3.Session, region: str) -> bool:
    """Is ``region`` a region of any AWS partition (botocore's bundled endpoint data)?"""
    return any(
        region in session.get_available_regions("sts", partition)
        for partition in session.get_available_partitions()
    )


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ``ClientError`` ("" for anything else)."""
    if isinstance(exc, botocore.exceptions.ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def is_absent(exc: BaseException) -> bool:
    """Does ``exc`` say that what was asked for does not exist?"""
    return error_code(exc) in _ABSENT


def is_denied(exc: BaseException) -> bool:
    """Does ``exc`` say that the credentials are wrong or not allowed?"""
    return error_code(exc) in _DENIED


def if_present(call: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """``call(*args, **kwargs)``, or None when AWS answers that it does not exist."""
    try:
        return call(*args, **kwargs)
    except botocore.exceptions.ClientError as exc:
        if is_absent(exc):
            return None
        raise


@contextmanager
def aws_errors(doing: str) -> Iterator[None]:
    """Turn boto3's exceptions raised while ``doing`` into one-line :class:`ToolsError`."""
    try:
        yield
    except ToolsError:
        raise
    except botocore.exceptions.NoCredentialsError:
        raise ConfigError(
            f"{doing}: no AWS credentials (set AWS_PROFILE or AWS_ACCESS_KEY_ID/"
            "AWS_SECRET_ACCESS_KEY, or use --endpoint-url for the local stack)"
        ) from None
    except _UNREACHABLE as exc:
        raise ServiceUnreachableError(f"{doing}: AWS endpoint unreachable: {exc}") from None
    except botocore.exceptions.ClientError as exc:
        code = error_code(exc)
        message = exc.response.get("Error", {}).get("Message", str(exc))
        kind = ConfigError if is_denied(exc) else ToolsError
        raise kind(f"{doing}: {code}: {message}") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise ConfigError(f"{doing}: {exc}") from None
