"""Turn Lambda events (S3 notifications, direct or wrapped in SQS) into clip tasks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventRecord


@dataclass(frozen=True)
class ClipTask:
    """One uploaded object to process, as the S3 notification described it."""

    bucket: str
    key: str
    etag: str | None = None
    version_id: str | None = None
    size: int | None = None

    @property
    def idempotency_id(self) -> str:
        """What makes two deliveries "the same clip": bucket, key and version (or etag)."""
        return f"{self.bucket}/{self.key}#{self.version_id or ''}#{self.etag or ''}"

    def as_payload(self) -> dict[str, Any]:
        """A JSON-able dict (what Powertools idempotency hashes)."""
        return {
            "id": self.idempotency_id,
            "bucket": self.bucket,
            "key": self.key,
            "etag": self.etag,
            "version_id": self.version_id,
            "size": self.size,
        }


@dataclass(frozen=True)
class Ignored:
    """A notification that is not about a new object (S3's test event, a deletion)."""

    reason: str


@dataclass(frozen=True)
class Malformed:
    """A notification that cannot be understood; ``bucket``/``key`` when they could be read."""

    reason: str
    bucket: str | None = None
    key: str | None = None


Item = ClipTask | Ignored | Malformed


def is_sqs_event(event: Any) -> bool:
    """True for an SQS batch event (records with ``eventSource`` ``aws:sqs``)."""
    records = event.get("Records") if isinstance(event, dict) else None
    return (
        isinstance(records, list)
        and bool(records)
        and all(isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records)
    )


def parse_s3_notification(data: Any) -> list[Item]:
    """The items of an S3 notification document (what S3 sends, or an SQS body holds)."""
    if not isinstance(data, dict):
        return [Malformed(f"expected a JSON object, got {type(data).__name__}")]
    if data.get("Event") == "s3:TestEvent":
        return [Ignored(f"s3:TestEvent for bucket {data.get('Bucket')!r}")]
    if data.get("Type") == "Notification" and isinstance(data.get("Message"), str):
        return parse_body(data["Message"])  # an SNS envelope around the S3 notification
    records = data.get("Records")
    if not isinstance(records, list) or not records:
        return [Malformed("no 'Records' list: not an S3 event notification")]
    return [_parse_record(record) for record in records]


def parse_body(body: str | None) -> list[Item]:
    """The items of an SQS message body that should hold an S3 notification."""
    if not body:
        return [Malformed("empty message body")]
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, TypeError) as exc:
        return [Malformed(f"message body is not JSON ({exc.msg if hasattr(exc, 'msg') else exc})")]
    return parse_s3_notification(data)


def _parse_record(raw: Any) -> Item:
    if not isinstance(raw, dict) or raw.get("eventSource") not in (None, "aws:s3"):
        return Malformed("not an S3 record (expected an object with eventSource aws:s3)")
    bucket = key = None
    try:
        record = S3EventRecord(raw)
        bucket = record.s3.bucket.name
        key = unquote_plus(record.s3.get_object.key)  # S3 URL-encodes keys in notifications
        name = raw.get("eventName", "")
        if not str(name).startswith("ObjectCreated:"):
            return Ignored(f"event {name!r} for s3://{bucket}/{key} is not an object creation")
        obj = raw["s3"]["object"]
        size = obj.get("size")
        etag = obj.get("eTag") or obj.get("etag")
        version = obj.get("versionId") or None
    except (KeyError, TypeError, AttributeError) as exc:
        return Malformed(f"S3 record lacks {exc}", bucket if isinstance(bucket, str) else None, key)
    if not isinstance(bucket, str) or not bucket or not isinstance(key, str) or not key:
        return Malformed("S3 record has an empty bucket or key")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        return Malformed(f"S3 record size {size!r} is not a byte count", bucket, key)
    return ClipTask(
        bucket=bucket,
        key=key,
        etag=str(etag).strip('"') if etag else None,
        version_id=str(version) if version else None,
        size=size,
    )


def direct_s3_items(event: Any) -> list[Item]:
    """The items of an event that S3 delivered straight to the function."""
    return parse_s3_notification(event)
