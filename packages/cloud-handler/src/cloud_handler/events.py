"""Turn one SQS record (its body an S3 event notification) into the objects to answer.

Parsed with Powertools' event source data classes (``SQSRecord`` and the S3 event inside
its body), which read real notifications whatever optional fields S3 leaves out. The object's
bucket, key, ETag and version are checked against the result's schema (``ClipRef``) here,
once: what a result could not name is malformed.

Which upload an event is about (:attr:`ClipTask.idempotency_id`): a duplicate *delivery* of
one event (S3 may send one notification twice, as two SQS messages) carries the very same
record, while a new PUT of a key is a new object, even with identical bytes (same ETag). The
identity is bucket, key, ``versionId`` (versioned buckets), ETag, and the first of these that
the record carries (:attr:`ClipTask.upload_marker`):

- ``s3.object.sequencer`` (AWS, every ``ObjectCreated`` record): hex that S3 gives each event
  of a key, increasing with later PUTs; it is the field S3 documents for telling apart and
  ordering the events of one key, so on AWS nothing else is relied on.
- ``eventTime``: moto's notifications carry no ``sequencer`` (nor ``versionId``), only the
  time it made the notification, to the millisecond. A copy of one notification repeats it,
  so duplicates still match; two PUTs of one key would collide only if moto notified both
  within the same millisecond with the same ETag. Each PUT is an HTTP round trip to moto,
  which takes longer than that, so sequential uploads never collide; concurrent uploads of
  identical bytes to one key could (on AWS the sequencer tells them apart). eventTime is not
  used when a sequencer is present: it is S3's time of the request, one millisecond apart
  at best, and two PUTs within one millisecond are possible on AWS.
- neither (a hand-made event): bucket, key, version and ETag alone, as before.
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

MAX_MARKER = 256
"""Longest ``sequencer`` / ``eventTime`` accepted (S3's are 16-32 and 24 characters)."""


@dataclass(frozen=True)
class ClipTask:
    """One uploaded object to answer, as the S3 notification described it."""

    bucket: str
    key: str
    etag: str | None = None
    version_id: str | None = None
    size: int | None = None
    sequencer: str | None = None
    """``s3.object.sequencer`` (AWS): tells apart and orders the events of one key."""
    event_time: str | None = None
    """``eventTime``: the event's time, to the millisecond (the only marker moto gives)."""

    @property
    def upload_marker(self) -> tuple[str, str] | None:
        """The field that tells this upload apart from other uploads of the key, and its
        value: ``sequencer`` when S3 gave one, else ``eventTime`` (see the module doc)."""
        if self.sequencer:
            return "sequencer", self.sequencer
        if self.event_time:
            return "eventTime", self.event_time
        return None

    @property
    def idempotency_id(self) -> str:
        """What makes two deliveries "the same upload": bucket, key, version, etag and the
        upload marker (the same record delivered twice has them all equal)."""
        marker = self.upload_marker
        where = f"{self.bucket}/{self.key}#{self.version_id or ''}#{self.etag or ''}"
        return f"{where}#{marker[1]}" if marker else where

    def as_payload(self) -> dict[str, Any]:
        """A JSON-able dict (what Powertools idempotency hashes: its ``id``)."""
        return {
            "id": self.idempotency_id,
            "bucket": self.bucket,
            "key": self.key,
            "etag": self.etag,
            "version_id": self.version_id,
            "size": self.size,
            "sequencer": self.sequencer,
            "event_time": self.event_time,
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
            sequencer=payload.get("sequencer"),
            event_time=payload.get("event_time"),
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
        sequencer = obj.raw_event.get("sequencer")
        event_time = raw.get("eventTime")
    except (KeyError, TypeError, AttributeError) as exc:
        return Malformed(f"S3 record lacks {exc}", bucket if isinstance(bucket, str) else None, key)
    if not isinstance(bucket, str) or not bucket or not isinstance(key, str) or not key:
        return Malformed("S3 record has an empty bucket or key")
    problem = _field_problem(size, sequencer, event_time)
    if problem:
        return Malformed(problem, bucket, key)
    return ClipTask(
        bucket=bucket,
        key=key,
        etag=str(etag).strip('"') if etag else None,
        version_id=str(version) if version else None,
        size=size,
        sequencer=sequencer or None,
        event_time=event_time or None,
    )


def _field_problem(size: Any, sequencer: Any, event_time: Any) -> str | None:
    """What is wrong with a record's size, sequencer or event time (None: nothing)."""
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        return f"S3 record size {size!r} is not a byte count"
    for name, value in (("sequencer", sequencer), ("eventTime", event_time)):
        if value is not None and (not isinstance(value, str) or len(value) > MAX_MARKER):
            return f"S3 record {name} {str(value)[:80]!r} is not a short text"
    return None


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
