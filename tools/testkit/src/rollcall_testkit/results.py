"""Results as the handler publishes them (the contract of ``shared_schema.routing``): one
SNS message per object, with ``route`` = ``device`` and ``device`` for rollcall clips,
``route`` = ``foreign`` otherwise. For tests of the routes and of ``tools results``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared_schema import (
    BoundingBox,
    ClipRef,
    FaceResult,
    InvalidKeyError,
    RecognitionResult,
    RecordLookup,
    StudentRecord,
    parse_key,
)


def result(bucket: str, key: str, person: str | None = None) -> RecognitionResult:
    """A result for ``key``: ``person`` recognized (with a record), or no face."""
    try:
        clip = parse_key(key)
    except InvalidKeyError:
        clip = None
    faces = []
    if person:
        faces = [
            FaceResult(
                identity=person,
                similarity=0.9,
                box=BoundingBox(x1=1, y1=1, x2=50, y2=50),
                frame_time_ms=0,
                lookup=RecordLookup.FOUND,
                record=StudentRecord(name=person, major="physics", year="senior"),
            )
        ]
    return RecognitionResult(
        clip=ClipRef(bucket=bucket, key=key, clip=clip),
        status="recognized" if person else "no_face",
        faces=faces,
        processed_at=datetime.now(UTC),
    )


def publish(sns: Any, topic_arn: str, res: RecognitionResult) -> None:
    """Publish ``res`` as the handler does: its body, its routing attributes."""
    attributes = {
        name: {"DataType": "String", "StringValue": value}
        for name, value in res.route_attributes.items()
    }
    sns.publish(TopicArn=topic_arn, Message=res.to_message(), MessageAttributes=attributes)


def drain(sqs: Any, queue_url: str) -> list[RecognitionResult]:
    """Everything on a queue (deleted), as results."""
    out: list[RecognitionResult] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            return out
        for message in messages:
            out.append(RecognitionResult.from_message(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
