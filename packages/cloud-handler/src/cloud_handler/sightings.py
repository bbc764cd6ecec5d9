"""Record a result's sightings in the attendance table (shared-schema's ``sighting`` layout).

Called inside the idempotent answering step, before the result is published: a failure
here fails the step (its record is deleted), so the redelivery writes again. Items are keyed
on the clip key and the person, so writing a clip twice overwrites the same items.
"""

from __future__ import annotations

from typing import Any

from cloud_handler.errors import TransientError
from shared_schema import RecognitionResult
from shared_schema.sighting import clip_items, sightings_of

BATCH_ITEMS = 25
"""DynamoDB's limit on the writes of one BatchWriteItem."""
DAY_S = 86_400


def record_sightings(
    dynamodb: Any, table: str | None, result: RecognitionResult, retention_days: int
) -> int:
    """Write ``result``'s sightings to ``table`` (None: sightings are not kept): the clip's
    item and one per person recognized; returns how many items. They expire
    ``retention_days`` after the clip's start (the table's TTL).

    Raises:
        TransientError: DynamoDB left writes unprocessed (throttled): the delivery fails and
            the queue brings it back.
        botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError: DynamoDB refused
            or stayed unreachable after botocore's retries.
    """
    if table is None:
        return 0
    sightings = sightings_of(result)
    if not sightings:
        return 0
    items = clip_items(sightings, sightings[0].start_ms // 1000 + retention_days * DAY_S)
    for first in range(0, len(items), BATCH_ITEMS):
        batch = items[first : first + BATCH_ITEMS]
        reply = dynamodb.batch_write_item(
            RequestItems={table: [{"PutRequest": {"Item": item}} for item in batch]}
        )
        if reply.get("UnprocessedItems"):
            raise TransientError(f"DynamoDB left sightings of {result.clip.key} unwritten")
    return len(items)
