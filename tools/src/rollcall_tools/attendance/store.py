"""Read sightings with Query only (never a Scan), find a person's last sighting, and delete a
person's sightings (for ``faces remove --purge``). The layout is shared-schema's
``sighting`` module: reports read one clip item per clip."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from rollcall_tools.errors import JobFailedError
from shared_schema.sighting import (
    BY_DAY,
    BY_SESSION,
    INDEX_SORT_KEY,
    INDEXES,
    PARTITION_KEY,
    SORT_KEY,
    Sighting,
    clip_partition,
    from_clip_item,
    from_person_item,
    person_partition,
    sort_key_floor,
)

BATCH_ITEMS = 25
"""DynamoDB's limit on the writes of one BatchWriteItem."""
BATCH_ROUNDS = 5
"""Times unprocessed writes of a purge are sent again before it gives up."""


@dataclass
class Read:
    """Sightings and what reading them cost."""

    sightings: list[Sighting]
    items_read: int = 0
    """Items the queries examined (their ``ScannedCount``)."""
    queries: int = 0
    """Query pages requested."""


def utc_days(from_ms: int, to_ms: int) -> list[str]:
    """Every UTC day (``YYYY-MM-DD``) a window touches: the clip partitions it reads."""
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
                    ":pk": {"S": clip_partition(device, day)},
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
    """``person``'s latest sighting (their partition, newest first, one item)."""
    reply = ddb.query(
        TableName=table,
        KeyConditionExpression="#pk = :pk",
        ExpressionAttributeNames={"#pk": PARTITION_KEY},
        ExpressionAttributeValues={":pk": {"S": person_partition(person)}},
        ScanIndexForward=False,
        Limit=1,
    )
    items = reply.get("Items", [])
    return from_person_item(items[0]) if items else None


def delete_person(ddb: Any, table: str, person: str) -> int:
    """Delete every sighting of ``person`` - their partition, and their entry in the clip
    items that name them - and return how many. For ``faces remove --purge``: a removed
    person leaves no attendance behind.

    Raises:
        JobFailedError: DynamoDB kept refusing some writes (throttled); run it again.
    """
    mine = list(
        _items(
            ddb,
            TableName=table,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": PARTITION_KEY},
            ExpressionAttributeValues={":pk": {"S": person_partition(person)}},
        )
    )
    clips = {_clip_key(from_person_item(item)) for item in mine}
    rewritten = [_without(item, person) for item in _get_all(ddb, table, sorted(clips))]
    requests = [{"PutRequest": {"Item": item}} for item in rewritten]
    requests += [
        {"DeleteRequest": {"Key": {k: item[k] for k in (PARTITION_KEY, SORT_KEY)}}} for item in mine
    ]
    _write_all(ddb, table, requests, person)
    return len(mine)


def _clip_key(s: Sighting) -> tuple[str, str]:
    return (
        clip_partition(s.device_id, s.day),
        f"{sort_key_floor(s.start_ms)}#{s.session_id}#{s.seq:08d}",
    )


def _get_all(ddb: Any, table: str, keys: list[tuple[str, str]]) -> Iterator[dict[str, Any]]:
    for first in range(0, len(keys), 100):
        wanted = [
            {PARTITION_KEY: {"S": pk}, SORT_KEY: {"S": sk}} for pk, sk in keys[first : first + 100]
        ]
        for _ in range(BATCH_ROUNDS):
            reply = ddb.batch_get_item(RequestItems={table: {"Keys": wanted}})
            yield from reply.get("Responses", {}).get(table, [])
            wanted = reply.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
            if not wanted:
                break
        else:
            raise JobFailedError(f"DynamoDB kept refusing to read {table}; run it again")


def _without(item: dict[str, Any], person: str) -> dict[str, Any]:
    people = [entry for entry in json.loads(item["people"]["S"]) if entry[0] != person]
    return {**item, "people": {"S": json.dumps(people, separators=(",", ":"))}}


def _write_all(ddb: Any, table: str, requests: list[dict[str, Any]], person: str) -> None:
    for first in range(0, len(requests), BATCH_ITEMS):
        batch = requests[first : first + BATCH_ITEMS]
        for _ in range(BATCH_ROUNDS):
            reply = ddb.batch_write_item(RequestItems={table: batch})
            batch = reply.get("UnprocessedItems", {}).get(table, [])
            if not batch:
                break
        else:
            raise JobFailedError(
                f"DynamoDB kept refusing to delete sightings of {person}; run it again"
            )


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
        names["#pk"] = PARTITION_KEY
        values[":d"] = {"S": f"{device}#"}
        extra["FilterExpression"] = "begins_with(#pk, :d)"
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
    for page in ddb.get_paginator("query").paginate(**kwargs):
        read.queries += 1
        read.items_read += int(page.get("ScannedCount", len(page.get("Items", []))))
        for item in page.get("Items", []):
            read.sightings += from_clip_item(item)


def _items(ddb: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    for page in ddb.get_paginator("query").paginate(**kwargs):
        yield from page.get("Items", [])
