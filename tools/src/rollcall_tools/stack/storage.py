"""Storage resources: the clips bucket, SQS queues and DynamoDB tables."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from rollcall_tools.aws import AwsTarget, if_present, is_absent, is_denied
from rollcall_tools.errors import ConfigError
from rollcall_tools.stack.plan import Resource, differs


class Bucket(Resource):
    """The clips bucket: public access blocked, SSE-S3, clips expire after N days, and (on
    AWS) a policy refusing plain-HTTP requests. ``policy`` None: no bucket policy (the local
    stack speaks plain HTTP on 127.0.0.1, and moto enforces bucket policies)."""

    kind = "s3 bucket"

    def __init__(
        self,
        target: AwsTarget,
        bucket: str,
        retention_days: int,
        policy: dict[str, Any] | None,
        *,
        expire: tuple[str, str] = ("expire-clips", "clips/"),
    ) -> None:
        """``expire``: the lifecycle rule's id and the key prefix it expires."""
        self.target, self.bucket, self.retention_days, self.policy = (
            target,
            bucket,
            retention_days,
            policy,
        )
        self.expire = expire
        self.s3 = target.client("s3")

    @property
    def name(self) -> str:
        return self.bucket

    def desired(self) -> dict[str, Any]:
        return {
            "public_access_block": {
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
            "encryption": {
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                        "BucketKeyEnabled": True,
                    }
                ]
            },
            "lifecycle": [
                {
                    "ID": self.expire[0],
                    "Filter": {"Prefix": self.expire[1]},
                    "Status": "Enabled",
                    "Expiration": {"Days": self.retention_days},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                }
            ],
            "policy": self.policy,
        }

    def read(self) -> dict[str, Any] | None:
        try:
            self.s3.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            if is_absent(exc):
                return None
            if is_denied(exc):
                raise ConfigError(
                    f"bucket {self.bucket} exists but is not accessible with these credentials "
                    "(another account owns it, or access is denied): choose another --stack"
                ) from None
            raise
        block = if_present(self.s3.get_public_access_block, Bucket=self.bucket)
        encryption = if_present(self.s3.get_bucket_encryption, Bucket=self.bucket)
        lifecycle = if_present(self.s3.get_bucket_lifecycle_configuration, Bucket=self.bucket)
        policy = if_present(self.s3.get_bucket_policy, Bucket=self.bucket)
        return {
            "public_access_block": block and block["PublicAccessBlockConfiguration"],
            "encryption": encryption and _normal_encryption(encryption),
            "lifecycle": lifecycle and [_normal_rule(r) for r in lifecycle["Rules"]],
            "policy": policy and json.loads(policy["Policy"]),
        }

    def diff(self, current: dict[str, Any]) -> list[str]:
        desired = self.desired()
        out: list[str] = []
        for aspect in ("public_access_block", "encryption", "lifecycle", "policy"):
            out += differs(aspect, current.get(aspect), desired[aspect])
        return out

    def create(self) -> None:
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        if self.target.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.target.region}
        self.s3.create_bucket(**kwargs)
        self.s3.get_waiter("bucket_exists").wait(
            Bucket=self.bucket, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
        )
        self._apply({k for k, v in self.desired().items() if v is not None})

    def update(self, current: Any, differences: list[str]) -> None:
        self._apply({d.split(":", 1)[0] for d in differences})

    def _apply(self, aspects: set[str]) -> None:
        desired = self.desired()
        if "public_access_block" in aspects:
            self.s3.put_public_access_block(
                Bucket=self.bucket, PublicAccessBlockConfiguration=desired["public_access_block"]
            )
        if "encryption" in aspects:
            self.s3.put_bucket_encryption(
                Bucket=self.bucket, ServerSideEncryptionConfiguration=desired["encryption"]
            )
        if "lifecycle" in aspects:
            self.s3.put_bucket_lifecycle_configuration(
                Bucket=self.bucket, LifecycleConfiguration={"Rules": desired["lifecycle"]}
            )
        if "policy" in aspects:
            if desired["policy"] is None:
                self.s3.delete_bucket_policy(Bucket=self.bucket)
            else:
                self.s3.put_bucket_policy(Bucket=self.bucket, Policy=json.dumps(desired["policy"]))

    def object_count(self, prefix: str = "") -> int:
        """How many objects the bucket holds under ``prefix`` (0 when it does not exist)."""
        paginator = self.s3.get_paginator("list_objects_v2")
        pages: list[dict[str, Any]] | None = if_present(
            list, paginator.paginate(Bucket=self.bucket, Prefix=prefix)
        )
        return sum(int(page.get("KeyCount", 0)) for page in pages or [])

    def delete(self, current: Any) -> None:
        for page in self.s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket):
            objects = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if objects:
                self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": objects})
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            objects = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if objects:
                self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": objects})
        self.s3.delete_bucket(Bucket=self.bucket)


def _normal_encryption(reply: dict[str, Any]) -> dict[str, Any]:
    """The default encryption as written by :meth:`Bucket.desired`."""
    rules = reply["ServerSideEncryptionConfiguration"]["Rules"]
    return {
        "Rules": [
            {
                "ApplyServerSideEncryptionByDefault": {
                    "SSEAlgorithm": r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
                },
                "BucketKeyEnabled": bool(r.get("BucketKeyEnabled", False)),
            }
            for r in rules
        ]
    }


def _normal_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A lifecycle rule as written by :meth:`Bucket.desired` (S3 adds/drops some fields)."""
    out: dict[str, Any] = {"ID": rule.get("ID"), "Status": rule.get("Status")}
    prefix = rule.get("Filter", {}).get("Prefix", rule.get("Prefix"))
    out["Filter"] = {"Prefix": prefix or ""}  # an empty prefix may come back absent
    if "Expiration" in rule:
        out["Expiration"] = {"Days": rule["Expiration"].get("Days")}
    if "AbortIncompleteMultipartUpload" in rule:
        out["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": rule["AbortIncompleteMultipartUpload"].get("DaysAfterInitiation")
        }
    return out


@dataclass(frozen=True)
class QueueSpec:
    """An SQS queue's desired attributes."""

    name: str
    visibility_timeout_s: int = 60
    retention_s: int = 4 * 24 * 3600
    dead_letter_arn: str | None = None
    max_receives: int = 5
    policy: dict[str, Any] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    owner_tags: tuple[str, ...] = ()
    """Tags that say whose queue it is: a queue of this name with other values is never
    adopted (e.g. two device ids that would share a queue name)."""

    def attributes(self) -> dict[str, str]:
        attrs = {
            "SqsManagedSseEnabled": "true",
            "VisibilityTimeout": str(self.visibility_timeout_s),
            "MessageRetentionPeriod": str(self.retention_s),
        }
        if self.dead_letter_arn:
            attrs["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": self.dead_letter_arn, "maxReceiveCount": self.max_receives}
            )
        if self.policy:
            attrs["Policy"] = json.dumps(self.policy)
        return attrs


_JSON_ATTRIBUTES = {"RedrivePolicy", "Policy"}


def _normal_attr(name: str, value: str | None) -> Any:
    if value is None:
        return None
    if name in _JSON_ATTRIBUTES:
        parsed = json.loads(value)
        if name == "RedrivePolicy":
            parsed["maxReceiveCount"] = int(parsed["maxReceiveCount"])
        return parsed
    return str(value).lower()


class Queue(Resource):
    """An SQS queue with SSE on, optionally a dead-letter queue and an access policy."""

    kind = "sqs queue"

    def __init__(self, target: AwsTarget, spec: QueueSpec) -> None:
        self.spec = spec
        self.sqs = target.client("sqs")

    @property
    def name(self) -> str:
        return self.spec.name

    def read(self) -> dict[str, Any] | None:
        found = if_present(self.sqs.get_queue_url, QueueName=self.spec.name)
        if found is None:
            return None
        url = found["QueueUrl"]
        attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        tags = self.sqs.list_queue_tags(QueueUrl=url).get("Tags", {}) if self.spec.tags else {}
        return {"url": url, "attributes": attrs, "tags": tags}

    def diff(self, current: dict[str, Any]) -> list[str]:
        tags = current.get("tags", {})
        for key in self.spec.owner_tags:
            if tags.get(key) != self.spec.tags[key]:
                raise ConfigError(
                    f"queue {self.spec.name} exists with tag {key}={tags.get(key)!r}, not "
                    f"{self.spec.tags[key]!r}: it belongs to something else; remove it or "
                    "choose another name"
                )
        out: list[str] = []
        for key, value in self.spec.attributes().items():
            out += differs(
                key,
                _normal_attr(key, current["attributes"].get(key)),
                _normal_attr(key, value),
            )
        if self.spec.tags:
            out += differs("tags", {k: tags.get(k) for k in self.spec.tags}, self.spec.tags)
        return out

    def create(self) -> None:
        kwargs: dict[str, Any] = {"tags": self.spec.tags} if self.spec.tags else {}
        self.sqs.create_queue(QueueName=self.spec.name, Attributes=self.spec.attributes(), **kwargs)

    def update(self, current: dict[str, Any], differences: list[str]) -> None:
        changed = {d.split(":", 1)[0] for d in differences}
        if changed - {"tags"}:
            # every desired attribute, not only the changed ones: moto forgets a queue's
            # Policy when a set leaves it out (AWS keeps it; sending it again is harmless)
            self.sqs.set_queue_attributes(
                QueueUrl=current["url"], Attributes=self.spec.attributes()
            )
        if "tags" in changed:
            self.sqs.tag_queue(QueueUrl=current["url"], Tags=self.spec.tags)

    def delete(self, current: dict[str, Any]) -> None:
        self.sqs.delete_queue(QueueUrl=current["url"])


class Table(Resource):
    """An on-demand DynamoDB table with a string hash key (and optional string range key)
    and an optional TTL attribute. A subclass with indexes gives its own :meth:`definition`
    and compares them too (``compared``)."""

    kind = "dynamodb table"
    compared: tuple[str, ...] = ("key",)
    """What of the table's layout must match what this tool makes (else a ConfigError)."""

    def __init__(
        self,
        target: AwsTarget,
        table: str,
        hash_key: str,
        ttl_attribute: str | None = None,
        range_key: str | None = None,
    ) -> None:
        self.table, self.hash_key, self.ttl_attribute = table, hash_key, ttl_attribute
        self.range_key = range_key
        self.ddb = target.client("dynamodb")

    def _key(self) -> list[tuple[str, str]]:
        key = [(self.hash_key, "HASH")]
        return [*key, (self.range_key, "RANGE")] if self.range_key else key

    def definition(self) -> dict[str, Any]:
        """``CreateTable``'s arguments."""
        return {
            "TableName": self.table,
            "AttributeDefinitions": [
                {"AttributeName": k, "AttributeType": "S"} for k, _ in self._key()
            ],
            "KeySchema": [{"AttributeName": k, "KeyType": kind} for k, kind in self._key()],
            "BillingMode": "PAY_PER_REQUEST",
        }

    def mismatch(self, current: dict[str, Any]) -> str:
        """The error when the table's layout is not this tool's."""
        return (
            f"table {self.table} exists with key {current['key']}, expected "
            f"{self._key()}: it was not made by this tool; remove it or use another --stack"
        )

    @property
    def name(self) -> str:
        return self.table

    def read(self) -> dict[str, Any] | None:
        found = if_present(self.ddb.describe_table, TableName=self.table)
        if found is None:
            return None
        desc = found["Table"]
        ttl = self.ddb.describe_time_to_live(TableName=self.table)["TimeToLiveDescription"]
        ttl_on = ttl.get("TimeToLiveStatus") in {"ENABLED", "ENABLING"}
        return {
            **_layout(desc),
            "billing": desc.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
            "ttl": ttl.get("AttributeName") if ttl_on else None,
        }

    def diff(self, current: dict[str, Any]) -> list[str]:
        desired = _layout(self.definition())
        have = {part: current.get(part, []) for part in self.compared}
        if _canonical(have) != _canonical({part: desired[part] for part in self.compared}):
            raise ConfigError(self.mismatch(current))
        return differs("billing", current["billing"], "PAY_PER_REQUEST") + differs(
            "ttl", current["ttl"], self.ttl_attribute
        )

    def create(self) -> None:
        self.ddb.create_table(**self.definition())
        self.ddb.get_waiter("table_exists").wait(
            TableName=self.table, WaiterConfig={"Delay": 2, "MaxAttempts": 60}
        )
        if self.ttl_attribute:
            self._set_ttl()

    def _set_ttl(self) -> None:
        self.ddb.update_time_to_live(
            TableName=self.table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": str(self.ttl_attribute)},
        )

    def update(self, current: dict[str, Any], differences: list[str]) -> None:
        changed = {d.split(":", 1)[0] for d in differences}
        if "billing" in changed:
            self.ddb.update_table(TableName=self.table, BillingMode="PAY_PER_REQUEST")
            self.ddb.get_waiter("table_exists").wait(TableName=self.table)
        if "ttl" in changed:
            if current["ttl"] and current["ttl"] != self.ttl_attribute:
                self.ddb.update_time_to_live(
                    TableName=self.table,
                    TimeToLiveSpecification={"Enabled": False, "AttributeName": current["ttl"]},
                )
            if self.ttl_attribute:
                self._set_ttl()

    def delete(self, current: Any) -> None:
        self.ddb.delete_table(TableName=self.table)
        self.ddb.get_waiter("table_not_exists").wait(
            TableName=self.table, WaiterConfig={"Delay": 2, "MaxAttempts": 60}
        )


def _layout(desc: dict[str, Any]) -> dict[str, Any]:
    """Keys and indexes of a described (or to-be-created) table, comparable."""
    return {
        "key": [(k["AttributeName"], k["KeyType"]) for k in desc["KeySchema"]],
        "indexes": sorted(
            (g["IndexName"], [(k["AttributeName"], k["KeyType"]) for k in g["KeySchema"]])
            for g in desc.get("GlobalSecondaryIndexes", [])
        ),
    }


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=list)


def tls_only_policy(bucket_arn: str) -> dict[str, Any]:
    """A bucket policy denying every request to the bucket that does not use TLS."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
