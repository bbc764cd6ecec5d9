"""Every resource name and ARN of a stack, derived from its prefix, region and account."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from rollcall_tools.errors import ConfigError

DEFAULT_STACK = "rollcall"
_PREFIX_RE = re.compile(r"^[a-z][a-z0-9-]{1,23}$")
_DEVICE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")  # shared-schema's clip-key ids
QUEUE_NAME_MAX = 80
"""SQS's limit on a queue name."""
_DIGEST_CHARS = 10


def check_device_id(device_id: str) -> str:
    """Validate a device id: the same 1-64 characters a clip key allows (shared-schema)."""
    if not _DEVICE_RE.fullmatch(device_id):
        raise ConfigError(
            f"device id {device_id!r} is invalid: use 1-64 characters of A-Z a-z 0-9 _ -, "
            "starting with a letter or digit (the id edge-capture puts in clip keys)"
        )
    return device_id


def check_prefix(prefix: str) -> str:
    """Validate a stack prefix: it becomes part of S3, SQS, DynamoDB, ECR and IAM names."""
    if not _PREFIX_RE.fullmatch(prefix) or prefix.endswith("-") or "--" in prefix:
        raise ConfigError(
            f"stack name {prefix!r} is invalid: use 2-24 characters of a-z, 0-9 and single "
            "hyphens, starting with a letter (it prefixes bucket, queue and table names)"
        )
    return prefix


@dataclass(frozen=True)
class StackNames:
    """Names and ARNs of one stack's resources."""

    prefix: str
    region: str
    account: str

    def __post_init__(self) -> None:
        check_prefix(self.prefix)

    # --- names -----------------------------------------------------------------------
    @property
    def bucket(self) -> str:
        """The clips bucket (S3 names are global, hence account and region in it)."""
        return f"{self.prefix}-clips-{self.account}-{self.region}"

    @property
    def face_store(self) -> str:
        """The private face store: enrolled and unknown face chips (no notification)."""
        return f"{self.prefix}-faces-{self.account}-{self.region}"

    @property
    def events_queue(self) -> str:
        """The queue the bucket notifies; the function's event source (the local runner's)."""
        return f"{self.prefix}-events"

    @property
    def events_dlq(self) -> str:
        return f"{self.prefix}-events-dlq"

    @property
    def results_topic(self) -> str:
        """The SNS topic every result is published to, once."""
        return f"{self.prefix}-results"

    @property
    def foreign_queue(self) -> str:
        """The route of results for objects that are not rollcall clips (``route = foreign``)."""
        return f"{self.prefix}-results-foreign"

    @property
    def foreign_dlq(self) -> str:
        return f"{self.prefix}-results-foreign-dlq"

    def device_queue(self, device_id: str) -> str:
        """A device's results queue: ``<stack>-dev-<id>``, or, when that would pass SQS's
        80 characters, the id cut short plus a digest of all of it (always 80 characters,
        so it never equals a name of the short form)."""
        return self._device_name("dev", device_id)

    def device_dlq(self, device_id: str) -> str:
        """The dead-letter queue of a device's results queue: ``<stack>-dlq-<id>``."""
        return self._device_name("dlq", device_id)

    def device_queue_prefix(self) -> str:
        """The name prefix every device queue of this stack starts with."""
        return f"{self.prefix}-dev-"

    def _device_name(self, kind: str, device_id: str) -> str:
        check_device_id(device_id)
        name = f"{self.prefix}-{kind}-{device_id}"
        if len(name) < QUEUE_NAME_MAX:
            return name
        digest = hashlib.sha256(device_id.encode()).hexdigest()[:_DIGEST_CHARS]
        keep = QUEUE_NAME_MAX - len(f"{self.prefix}-{kind}-") - 1 - _DIGEST_CHARS
        return f"{self.prefix}-{kind}-{device_id[:keep]}-{digest}"

    @property
    def students_table(self) -> str:
        return f"{self.prefix}-students"

    @property
    def idempotency_table(self) -> str:
        return f"{self.prefix}-idempotency"

    @property
    def library_table(self) -> str:
        """The face library: embeddings, negative examples, unknown faces, its version."""
        return f"{self.prefix}-faces"

    @property
    def repository(self) -> str:
        return f"{self.prefix}-handler"

    @property
    def function(self) -> str:
        return f"{self.prefix}-handler"

    @property
    def role(self) -> str:
        return f"{self.prefix}-handler-role"

    @property
    def role_policy(self) -> str:
        return f"{self.prefix}-handler-least-privilege"

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.function}"

    # --- ARNs ------------------------------------------------------------------------
    @property
    def bucket_arn(self) -> str:
        return f"arn:aws:s3:::{self.bucket}"

    @property
    def face_store_arn(self) -> str:
        return f"arn:aws:s3:::{self.face_store}"

    def queue_arn(self, name: str) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account}:{name}"

    def queue_url(self, endpoint_url: str | None, name: str) -> str:
        """The queue URL (as SQS's GetQueueUrl would answer for AWS)."""
        base = (
            endpoint_url.rstrip("/") if endpoint_url else f"https://sqs.{self.region}.amazonaws.com"
        )
        return f"{base}/{self.account}/{name}"

    @property
    def results_topic_arn(self) -> str:
        return f"arn:aws:sns:{self.region}:{self.account}:{self.results_topic}"

    def table_arn(self, name: str) -> str:
        return f"arn:aws:dynamodb:{self.region}:{self.account}:table/{name}"

    @property
    def role_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role/{self.role}"

    @property
    def function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.function}"

    @property
    def log_group_arn(self) -> str:
        return f"arn:aws:logs:{self.region}:{self.account}:log-group:{self.log_group}"

    @property
    def registry(self) -> str:
        return f"{self.account}.dkr.ecr.{self.region}.amazonaws.com"
