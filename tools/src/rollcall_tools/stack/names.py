"""Every resource name and ARN of a stack, derived from its prefix, region and account."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rollcall_tools.errors import ConfigError

DEFAULT_STACK = "rollcall"
_PREFIX_RE = re.compile(r"^[a-z][a-z0-9-]{1,23}$")


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
    def results_queue(self) -> str:
        return f"{self.prefix}-results"

    @property
    def results_dlq(self) -> str:
        return f"{self.prefix}-results-dlq"

    @property
    def events_queue(self) -> str:
        """Local stack only: the queue the bucket notifies (moto cannot run image Lambdas)."""
        return f"{self.prefix}-events"

    @property
    def events_dlq(self) -> str:
        return f"{self.prefix}-events-dlq"

    @property
    def students_table(self) -> str:
        return f"{self.prefix}-students"

    @property
    def idempotency_table(self) -> str:
        return f"{self.prefix}-idempotency"

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

    def queue_arn(self, name: str) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account}:{name}"

    def queue_url(self, endpoint_url: str | None, name: str) -> str:
        """The queue URL (as SQS's GetQueueUrl would answer for AWS)."""
        base = (
            endpoint_url.rstrip("/") if endpoint_url else f"https://sqs.{self.region}.amazonaws.com"
        )
        return f"{base}/{self.account}/{name}"

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
