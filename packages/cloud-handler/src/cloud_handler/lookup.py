"""Look students up in DynamoDB in one batch, caching records in the warm container."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from pydantic import ValidationError

from cloud_handler.errors import TransientError
from shared_schema import StudentRecord

_BATCH = 100  # BatchGetItem's limit per request
RECORD_TTL_S = 60.0
"""How long a warm container trusts a student record (or its absence)."""
_log = logging.getLogger(__name__)
_deserializer = TypeDeserializer()


class RecordCache:
    """name -> StudentRecord (or None for "no such record"), each entry valid ``ttl_s`` seconds."""

    def __init__(
        self, ttl_s: float = RECORD_TTL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._entries: dict[str, tuple[float, StudentRecord | None]] = {}
        self._lock = threading.Lock()

    def get_many(self, names: Iterable[str]) -> tuple[dict[str, StudentRecord | None], list[str]]:
        """Fresh cached entries, and the names that must be fetched."""
        now = self._clock()
        hits: dict[str, StudentRecord | None] = {}
        misses: list[str] = []
        with self._lock:
            for name in names:
                entry = self._entries.get(name)
                if entry is not None and now - entry[0] < self.ttl_s:
                    hits[name] = entry[1]
                else:
                    misses.append(name)
        return hits, misses

    def put_many(self, records: dict[str, StudentRecord | None]) -> None:
        """Remember ``records`` (None = not in the table) from now on."""
        if self.ttl_s <= 0:
            return
        now = self._clock()
        with self._lock:
            for name, record in records.items():
                self._entries[name] = (now, record)


def lookup_students(
    dynamodb: Any, table: str, names: Iterable[str], *, cache: RecordCache
) -> dict[str, StudentRecord | None]:
    """Each name's record, or None when the table has none (or an unreadable one).

    Throttled requests are retried by botocore.

    Raises:
        TransientError: DynamoDB left keys unprocessed (a throttled partition); the
            delivery is retried rather than answered without those records.
        botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError: the call failed.
    """
    unique = list(dict.fromkeys(names))
    found, missing = cache.get_many(unique)
    fetched: dict[str, StudentRecord | None] = dict.fromkeys(missing)
    for start in range(0, len(missing), _BATCH):
        keys = [{"name": {"S": n}} for n in missing[start : start + _BATCH]]
        response = dynamodb.batch_get_item(RequestItems={table: {"Keys": keys}})
        if response.get("UnprocessedKeys"):
            raise TransientError(f"BatchGetItem on {table}: DynamoDB left keys unprocessed")
        for item in response.get("Responses", {}).get(table, []):
            record = _parse(item, table)
            if record is not None and record.name in fetched:
                fetched[record.name] = record
    cache.put_many(fetched)
    return {name: {**found, **fetched}[name] for name in unique}


def _parse(item: dict[str, Any], table: str) -> StudentRecord | None:
    plain = {key: _deserializer.deserialize(value) for key, value in item.items()}
    try:
        return StudentRecord.from_item(plain)
    except ValidationError as exc:
        _log.warning(
            "unreadable student record",
            extra={
                "table": table,
                "person": plain.get("name"),
                "problem": str(exc).splitlines()[0],
            },
        )
        return None
