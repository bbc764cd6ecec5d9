"""Read sightings with Query only (never a Scan), find a person's last sighting, and delete a
person's sightings (for ``faces remove --purge``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from rollcall_tools.errors import JobFailedError
from shared_schema.sighting import (
    BY_DAY,
    BY_PERSON,
    BY_SESSION,
    INDEX_SORT_KEY,
    INDEXES,
    PARTITION_KEY,
    SORT_KEY,
    Sighting,
    from_item,
    partition_key,
    sort_key_floor,
)

BATCH_ITEMS = 25
"""DynamoDB's limit on the writes of one BatchWriteItem."""
DELETE_ROUNDS = 5
"""Batches of unprocessed deletes resubmitted before a purge gives up."""


@dataclass
class Read:
    """Sightings and what reading them cost."""

    sightings: list[Sighting]
    items_read: int = 0
    """Items the queries examined (their ``ScannedCount``)."""
    queries: int = 0
    """Query pages requested."""


def utc_days(from_ms: int, to_ms: int) -> list[str]:
    """Every UTC day (``YYYY-MM-DD``) a window touches: the table's partitions."""
    first = datetime.fromtimestamp(from_ms / 1000, tz=UTC).date()
    last = datetime.fromtimestamp(to_ms / 1000, tz=UTC).date()
    return [(first + timedelta(n)).isoformat() for n in range((last - first).days + 1)]


def read_window(ddb: Any, table: str, from_ms: int, to_ms: int, device: str | None = None) -> Read:
    """Sightings of clips starting in ``[from_ms, to_ms]``: one device's day partitions, or
    (``device`` None) the ``by-day`` index of every device."""
    read = Read([])
    for day in utc_days(from_ms, to_ms):
        if device is not None:
            _query(
                ddb,
                read,
                TableName=table,
                KeyConditionExpression="#pk = :pk AND #sk BETWEEN :lo AND :hi",
                ExpressionAttributeNames={"#pk": PARTITION_KEY, "#sk": SORT_KEY},
                ExpressionAttributeValues={
                    ":pk": {"S": partition_key(device, day)},
                    ":lo": {"S": sort_key_floor(from_ms)},
                    ":hi": {"S": sort_key_floor(to_ms + 1)},
                },
            )
        else:
            _query_index(ddb, read, table, BY_DAY, day, from_ms=from_ms, to_ms=to_ms)
    return read


def read_session(
    ddb: Any,
    table: str,
    session: str,
    *,
    device: str | None = None,
    from_ms: int | None = None,
    to_ms: int | None = None,
) -> Read:
    """Sightings of edge-capture session ``session`` (on ``device``, when given; within a
    window, when given) through the ``by-session`` index."""
    read = Read([])
    lo = 0 if from_ms is None else from_ms
    hi = 10**13 if to_ms is None else to_ms
    _query_index(ddb, read, table, BY_SESSION, session, from_ms=lo, to_ms=hi, device=device)
    return read


def last_seen(ddb: Any, table: str, person: str) -> Sighting | None:
    """``person``'s latest sighting (the ``by-person`` index, newest first, one item)."""
    reply = ddb.query(
        TableName=table,
        IndexName=BY_PERSON,
        KeyConditionExpression="#p = :p",
        ExpressionAttributeNames={"#p": INDEXES[BY_PERSON]},
        ExpressionAttributeValues={":p": {"S": person}},
        ScanIndexForward=False,
        Limit=1,
    )
    items = reply.get("Items", [])
    return from_item(items[0]) if items else None


def delete_person(ddb: Any, table: str, person: str) -> int:
    """Delete every sighting of ``person`` (found through the ``by-person`` index); returns
    how many. For ``faces remove --purge``: a removed person leaves no attendance behind.

    Raises:
        JobFailedError: DynamoDB kept refusing some deletes (throttled); run it again.
    """
    keys = [
        {PARTITION_KEY: item[PARTITION_KEY], SORT_KEY: item[SORT_KEY]}
        for item in _pages(
            ddb,
            TableName=table,
            IndexName=BY_PERSON,
            KeyConditionExpression="#p = :p",
            ExpressionAttributeNames={
                "#p": INDEXES[BY_PERSON],
                "#pk": PARTITION_KEY,
                "#sk": SORT_KEY,
            },
            ExpressionAttributeValues={":p": {"S": person}},
            ProjectionExpression="#pk, #sk",
        )
    ]
    for first in range(0, len(keys), BATCH_ITEMS):
        requests = [{"DeleteRequest": {"Key": k}} for k in keys[first : first + BATCH_ITEMS]]
        for _ in range(DELETE_ROUNDS):
            reply = ddb.batch_write_item(RequestItems={table: requests})
            requests = reply.get("UnprocessedItems", {}).get(table, [])
            if not requests:
                break
        else:
            raise JobFailedError(
                f"DynamoDB kept refusing to delete sightings of {person}; run it again"
            )
    return len(keys)


def _query_index(
    ddb: Any,
    read: Read,
    table: str,
    index: str,
    value: str,
    *,
    from_ms: int,
    to_ms: int,
    device: str | None = None,
) -> None:
    names = {"#k": INDEXES[index], "#t": INDEX_SORT_KEY}
    values: dict[str, Any] = {
        ":k": {"S": value},
        ":lo": {"N": str(from_ms)},
        ":hi": {"N": str(to_ms)},
    }
    extra: dict[str, Any] = {}
    if device is not None:
        names["#d"] = "device"
        values[":d"] = {"S": device}
        extra["FilterExpression"] = "#d = :d"
    _query(
        ddb,
        read,
        TableName=table,
        IndexName=index,
        KeyConditionExpression="#k = :k AND #t BETWEEN :lo AND :hi",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
        **extra,
    )


def _query(ddb: Any, read: Read, **kwargs: Any) -> None:
    for page in _raw_pages(ddb, **kwargs):
        read.queries += 1
        read.items_read += int(page.get("ScannedCount", len(page.get("Items", []))))
        read.sightings += [from_item(item) for item in page.get("Items", [])]


def _pages(ddb: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    for page in _raw_pages(ddb, **kwargs):
        yield from page.get("Items", [])


def _raw_pages(ddb: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    yield from ddb.get_paginator("query").paginate(**kwargs)
