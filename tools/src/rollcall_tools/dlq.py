"""The events dead-letter queue: what is in it (without taking it away) and re-driving it.

SQS's own StartMessageMoveTask does the re-drive on AWS, but moto lacks it; this does the
same with plain calls: receive from the DLQ, send the same body to the events queue, then
delete from the DLQ only what was sent. A crash between send and delete leaves a copy in
both queues; the handler's idempotency store answers the second delivery without a second
result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

HOLD_S = 30
"""While listing, received messages are hidden this long, then released at once."""


@dataclass(frozen=True)
class DeadLetter:
    """One dead-lettered message and the objects its S3 notification names."""

    message_id: str
    objects: list[dict[str, Any]]
    """``{"bucket", "key", "size", "etag", "event_time"}`` per notification record."""
    receives: int
    """Receives in the events queue before it was dead-lettered, plus any in the DLQ."""
    sent_at: str | None
    note: str | None = None
    """``s3 test event`` or ``not an S3 notification`` when there is no object to name."""

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def of(cls, message: dict[str, Any]) -> DeadLetter:
        attrs = message.get("Attributes", {})
        sent = attrs.get("SentTimestamp")
        objects, note = _objects(message.get("Body", ""))
        return cls(
            message_id=str(message.get("MessageId", "")),
            objects=objects,
            receives=int(attrs.get("ApproximateReceiveCount", 0)),
            sent_at=(
                datetime.fromtimestamp(int(sent) / 1000, UTC).isoformat(timespec="seconds")
                if sent
                else None
            ),
            note=note,
        )


def _objects(body: str) -> tuple[list[dict[str, Any]], str | None]:
    try:
        data = json.loads(body)
    except ValueError:
        return [], "not an S3 notification"
    if isinstance(data, dict) and data.get("Event") == "s3:TestEvent":
        return [], "s3 test event"
    records = data.get("Records") if isinstance(data, dict) else None
    if not isinstance(records, list):
        return [], "not an S3 notification"
    out = []
    for record in records:
        s3 = record.get("s3", {}) if isinstance(record, dict) else {}
        obj = s3.get("object", {})
        out.append(
            {
                "bucket": s3.get("bucket", {}).get("name"),
                "key": unquote_plus(str(obj.get("key", ""))),
                "size": obj.get("size"),
                "etag": obj.get("eTag"),
                "event_time": record.get("eventTime") if isinstance(record, dict) else None,
            }
        )
    return out, None if out else "not an S3 notification"


WAIT_S = 1
"""Long poll of each receive: an SQS short poll samples servers and may miss messages."""


def _receive(
    sqs: Any, url: str, hold_s: int, wanted: int = 10, wait_s: int = WAIT_S
) -> list[dict[str, Any]]:
    return list(
        sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=max(1, min(10, wanted)),
            WaitTimeSeconds=wait_s,
            VisibilityTimeout=hold_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
    )


def _release(sqs: Any, url: str, messages: list[dict[str, Any]]) -> None:
    """Make received messages visible again at once."""
    for start in range(0, len(messages), 10):
        chunk = messages[start : start + 10]
        sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(chunk)
            ],
        )


def queue_counts(sqs: Any, url: str) -> tuple[int, int]:
    """(visible, in flight) messages of the queue at ``url``."""
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )


def depth(sqs: Any, url: str) -> int:
    """Messages in the queue, visible or not."""
    return sum(queue_counts(sqs, url))


def peek(sqs: Any, dlq_url: str, *, hold_s: int = HOLD_S, wait_s: int = WAIT_S) -> list[DeadLetter]:
    """Every message in the DLQ, left there: received (hidden for ``hold_s``), then released."""
    seen: dict[str, dict[str, Any]] = {}
    held: list[dict[str, Any]] = []
    try:
        while True:
            received = _receive(sqs, dlq_url, hold_s, wait_s=wait_s)
            batch = [m for m in received if m["MessageId"] not in seen]
            if not batch:
                break
            held += batch
            seen.update((m["MessageId"], m) for m in batch)
    finally:
        _release(sqs, dlq_url, held)
    return [DeadLetter.of(m) for m in seen.values()]


@dataclass
class Redrive:
    """What a re-drive moved (``dry_run``: would move)."""

    moved: list[DeadLetter] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    """Message ids that could not be sent; they stay in the DLQ."""

    def to_json(self) -> dict[str, Any]:
        return {
            "moved": len(self.moved),
            "failed": self.failed,
            "messages": [m.to_json() for m in self.moved],
        }


def redrive(
    sqs: Any,
    dlq_url: str,
    source_url: str,
    *,
    limit: int | None = None,
    hold_s: int = 60,
    wait_s: int = WAIT_S,
) -> Redrive:
    """Move up to ``limit`` messages (default: as many as the DLQ held at the start) back
    to ``source_url``: send a copy, then delete the original; a failed send stays put."""
    report = Redrive()
    budget = depth(sqs, dlq_url) if limit is None else limit
    while budget > 0:
        batch = _receive(sqs, dlq_url, hold_s, wanted=budget, wait_s=wait_s)
        if not batch:
            break
        budget -= len(batch)
        entries = [_copy(str(i), m) for i, m in enumerate(batch)]
        reply = sqs.send_message_batch(QueueUrl=source_url, Entries=entries)
        sent = {int(ok["Id"]) for ok in reply.get("Successful", [])}
        failed = [m for i, m in enumerate(batch) if i not in sent]
        report.failed += [m["MessageId"] for m in failed]
        _release(sqs, dlq_url, failed)
        done = [batch[i] for i in sorted(sent)]
        if done:
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
            ]
            sqs.delete_message_batch(QueueUrl=dlq_url, Entries=entries)
        report.moved += [DeadLetter.of(m) for m in done]
    return report


def _copy(entry_id: str, message: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": entry_id, "MessageBody": message["Body"]}
    attributes = message.get("MessageAttributes")
    if attributes:
        entry["MessageAttributes"] = attributes
    return entry
