"""Every resource name and ARN of a stack, derived from its prefix, region, account and the
account's partition (``aws``, ``aws-cn``, ``aws-us-gov``)."""

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
DEFAULT_PARTITION = "aws"
_DNS_SUFFIX = {"aws-cn": "amazonaws.com.cn"}
"""Service domains that are not ``amazonaws.com`` (the China regions)."""


def check_device_id(device_id: str) -> str:
    """Validate a device id: the same 1-64 characters a clip key allows (shared-schema)."""
    if not _DEVICE_RE.fullmatch(device_id):
        raise ConfigError(
            f"device id {device_id!r} is invalid: use 1-64 characters of A-Z a-z 0-9 _ -, "
            "starting with a letter or digit (the id edge-capture puts in clip keys)"
        )
    return device_id


_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def check_bucket_name(name: str, option: str) -> str:
    """Validate an S3 bucket name given with ``option`` (S3's rules for new buckets)."""
    if not _BUCKET_RE.fullmatch(name) or ".." in name or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        raise ConfigError(
            f"{option} {name!r} is not a valid S3 bucket name: use 3-63 characters of a-z, "
            "0-9, dots and hyphens, starting and ending with a letter or digit"
        )
    return name


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
    partition: str = DEFAULT_PARTITION
    """The ARNs' partition: from the caller's identity (:meth:`AwsTarget.identity`)."""
    input_bucket: str | None = None
    """The upload bucket's name instead of the generated one (``--input-bucket``)."""
    output_bucket: str | None = None
    """A bucket for one output object per answered object (``--output-bucket``), or none."""

    def __post_init__(self) -> None:
        check_prefix(self.prefix)
        if self.input_bucket is not None:
            check_bucket_name(self.input_bucket, "--input-bucket")
        if self.output_bucket is not None:
            check_bucket_name(self.output_bucket, "--output-bucket")
            if self.output_bucket == self.bucket:
                raise ConfigError(
                    f"--output-bucket {self.output_bucket!r} is the upload bucket: the handler "
                    "would be notified of its own output; name another bucket"
                )

    # --- names -----------------------------------------------------------------------
    @property
    def bucket(self) -> str:
        """The clips (upload) bucket: ``input_bucket``, else a generated name (S3 names are
        global, hence account and region in it)."""
        return self.input_bucket or f"{self.prefix}-clips-{self.account}-{self.region}"

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
    def sightings_table(self) -> str:
        """The attendance table (who was seen in which clip)."""
        return f"{self.prefix}-sightings"

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
        return f"arn:{self.partition}:s3:::{self.bucket}"

    @property
    def output_bucket_arn(self) -> str | None:
        return f"arn:{self.partition}:s3:::{self.output_bucket}" if self.output_bucket else None

    @property
    def face_store_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.face_store}"

    def queue_arn(self, name: str) -> str:
        return f"arn:{self.partition}:sqs:{self.region}:{self.account}:{name}"

    def queue_url(self, endpoint_url: str | None, name: str) -> str:
        """The queue URL (as SQS's GetQueueUrl would answer for AWS)."""
        base = (
            endpoint_url.rstrip("/")
            if endpoint_url
            else f"https://sqs.{self.region}.{self.dns_suffix}"
        )
        return f"{base}/{self.account}/{name}"

    @property
    def results_topic_arn(self) -> str:
        return f"arn:{self.partition}:sns:{self.region}:{self.account}:{self.results_topic}"

    def table_arn(self, name: str) -> str:
        return f"arn:{self.partition}:dynamodb:{self.region}:{self.account}:table/{name}"

    @property
    def role_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:role/{self.role}"

    @property
    def function_arn(self) -> str:
        return f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:{self.function}"

    @property
    def log_group_arn(self) -> str:
        return f"arn:{self.partition}:logs:{self.region}:{self.account}:log-group:{self.log_group}"

    @property
    def registry(self) -> str:
        return f"{self.account}.dkr.ecr.{self.region}.{self.dns_suffix}"

    @property
    def dns_suffix(self) -> str:
        """The partition's service domain (``amazonaws.com``; ``amazonaws.com.cn`` in China)."""
        return _DNS_SUFFIX.get(self.partition, "amazonaws.com")
