"""Student lookups: one BatchGetItem for many names, a short-TTL cache, missing records."""

from __future__ import annotations

from typing import Any

import pytest

from cloud_handler.aws import client, session
from cloud_handler.errors import TransientError
from cloud_handler.lookup import RecordCache, lookup_students
from rollcall_testkit.handler_stack import Stack
from shared_schema import StudentRecord


def test_record_cache_expires() -> None:
    now = [100.0]
    cache = RecordCache(ttl_s=60, clock=lambda: now[0])
    record = StudentRecord(name="a", major="m", year="y")
    cache.put_many({"a": record, "ghost": None})
    assert cache.get_many(["a", "ghost", "b"]) == ({"a": record, "ghost": None}, ["b"])
    now[0] += 61
    assert cache.get_many(["a"]) == ({}, ["a"])
    off = RecordCache(ttl_s=0)
    off.put_many({"a": record})
    assert off.get_many(["a"]) == ({}, ["a"])


def test_unprocessed_keys_fail_the_delivery() -> None:
    """DynamoDB answering with UnprocessedKeys (a throttled partition): no hand-written
    retry loop, the delivery fails and SQS brings it back."""

    class Throttled:
        def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
            return {"Responses": {"t": []}, "UnprocessedKeys": RequestItems}

    with pytest.raises(TransientError, match="unprocessed"):
        lookup_students(Throttled(), "t", ["a"], cache=RecordCache())


def test_batch_lookup_with_missing_and_bad_records(stack: Stack) -> None:
    stack.seed(
        [
            {"name": "mr_bean", "major": "lawyer", "year": "freshmen", "id": 1},
            {"name": "broken", "major": "x"},  # no year: unreadable, reported as missing
        ]
    )
    ddb = client(session("us-east-1"), "dynamodb", endpoint_url=stack.endpoint)
    calls: list[Any] = []
    ddb.meta.events.register(
        "before-call.dynamodb.BatchGetItem", lambda **kw: calls.append(kw) and None
    )
    cache = RecordCache()
    found = lookup_students(
        ddb, stack.table, ["mr_bean", "nobody", "broken", "mr_bean"], cache=cache
    )
    assert list(found) == ["mr_bean", "nobody", "broken"]
    assert found["mr_bean"] == StudentRecord(name="mr_bean", major="lawyer", year="freshmen", id=1)
    assert found["nobody"] is None and found["broken"] is None
    assert len(calls) == 1
    assert lookup_students(ddb, stack.table, ["nobody", "mr_bean"], cache=cache)["mr_bean"]
    assert len(calls) == 1  # served from the cache, "no record" included
