"""Turn one SQS record (its body an S3 event notification) into the objects to answer.

Parsed with Powertools' event source data classes (``SQSRecord`` and the S3 event inside
its body), which read real notifications whatever optional fields S3 leaves out. The object's
bucket, key, ETag and version are checked against the result's schema (``ClipRef``) here,
once: what a result could not name is malformed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventRecord
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from shared_schema import ClipRef


@dataclass(frozen=True)
class ClipTask:
    """One uploaded object to answer, as the S3 notification described it."""

    bucket: str
    key: str
    etag: str | None = None
    version_id: str | None = None
    size: int | None = None

    @property
    def idempotency_id(self) -> str:
        """What makes two deliveries "the same object": bucket, key, version and etag."""
        return f"{self.bucket}/{self.key}#{self.version_id or ''}#{self.etag or ''}"

    def as_payload(self) -> dict[str, Any]:
        """A JSON-able dict (what Powertools idempotency hashes: its ``id``)."""
        return {
            "id": self.idempotency_id,
            "bucket": self.bucket,
            "key": self.key,
            "etag": self.etag,
            "version_id": self.version_id,
            "size": self.size,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ClipTask:
        """The task :meth:`as_payload` describes."""
        return cls(
            bucket=payload["bucket"],
            key=payload["key"],
            etag=payload.get("etag"),
            version_id=payload.get("version_id"),
            size=payload.get("size"),
        )


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


def parse_record(record: SQSRecord) -> list[Item]:
    """The items of an SQS record whose body should hold an S3 event notification."""
    if not record.body:
        return [Malformed("empty message body")]
    try:
        data = record.json_body
    except (json.JSONDecodeError, TypeError) as exc:
        return [Malformed(f"message body is not JSON ({getattr(exc, 'msg', exc)})")]
    if not isinstance(data, dict):
        return [Malformed(f"expected a JSON object, got {type(data).__name__}")]
    if data.get("Event") == "s3:TestEvent":
        return [Ignored(f"s3:TestEvent for bucket {data.get('Bucket')!r}")]
    records = data.get("Records")
    if not isinstance(records, list) or not records:
        return [Malformed("no 'Records' list: not an S3 event notification")]
    return [_parse_s3_record(r) for r in record.decoded_nested_s3_event.records]


def _parse_s3_record(record: S3EventRecord) -> Item:
    return _checked(_read_s3_record(record))


def _read_s3_record(record: S3EventRecord) -> Item:
    raw = record.raw_event
    if not isinstance(raw, dict) or raw.get("eventSource") not in (None, "aws:s3"):
        return Malformed("not an S3 record (expected an object with eventSource aws:s3)")
    bucket = key = None
    try:
        bucket = record.s3.bucket.name
        obj = record.s3.get_object
        key = unquote_plus(obj.key)  # S3 URL-encodes keys in notifications
        name = raw.get("eventName", "")
        if not str(name).startswith("ObjectCreated:"):
            return Ignored(f"event {name!r} for s3://{bucket}/{key} is not an object creation")
        size = obj.raw_event.get("size")
        etag = obj.etag
        version = obj.version_id
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


def _checked(item: Item) -> Item:
    """``item``, unless a result could not name its object: a bucket or key S3 never makes
    gets no answer at all (Malformed without an object), an impossible ETag or version a
    ``malformed_event`` answer."""
    if isinstance(item, Ignored) or item.bucket is None or item.key is None:
        return item
    task = item if isinstance(item, ClipTask) else ClipTask(item.bucket, item.key)
    try:
        ClipRef(
            bucket=task.bucket,
            key=task.key,
            clip=None,
            etag=task.etag,
            version_id=task.version_id,
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0])
        problem = f"S3 record {field} {str(error['input'])[:80]!r}: {error['msg'].lower()}"
        reason = problem if isinstance(item, ClipTask) else f"{item.reason}; {problem}"
        if field in ("bucket", "key"):
            return Malformed(reason)
        return Malformed(reason, task.bucket, task.key)
    return item
