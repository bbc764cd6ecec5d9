"""Event shapes: direct S3, SQS-wrapped S3 (incl. s3:TestEvent), SNS envelope, garbage."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_handler.events import (
    ClipTask,
    Ignored,
    Malformed,
    direct_s3_items,
    is_sqs_event,
    parse_body,
)
from rollcall_tools.testkit.handler_stack import s3_event, s3_record, sqs_event


def test_direct_s3_event_decodes_keys() -> None:
    record = s3_record("bkt", "uploads/My Clip (1)+x.mp4", size=10, etag="abc", version_id="v1")
    assert record["s3"]["object"]["key"] == "uploads/My+Clip+%281%29%2Bx.mp4"
    [task] = direct_s3_items(s3_event(record))
    assert task == ClipTask("bkt", "uploads/My Clip (1)+x.mp4", "abc", "v1", 10)
    assert task.idempotency_id == "bkt/uploads/My Clip (1)+x.mp4#v1#abc"


def test_sqs_wrapped_event_and_test_event() -> None:
    wrapped = sqs_event(json.dumps(s3_event(s3_record("bkt", "a/b.mp4"))))
    assert is_sqs_event(wrapped)
    assert not is_sqs_event(s3_event(s3_record("bkt", "a/b.mp4")))
    [task] = parse_body(wrapped["Records"][0]["body"])
    assert isinstance(task, ClipTask)
    assert task.key == "a/b.mp4"
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "bkt"}
    [item] = parse_body(json.dumps(test_event))
    assert isinstance(item, Ignored)
    assert "s3:TestEvent" in item.reason


def test_sns_envelope_and_non_create_events() -> None:
    inner = json.dumps(s3_event(s3_record("bkt", "k.mp4")))
    [task] = parse_body(json.dumps({"Type": "Notification", "Message": inner}))
    assert isinstance(task, ClipTask)
    removed = s3_record("bkt", "k.mp4", event_name="ObjectRemoved:Delete")
    [item] = direct_s3_items(s3_event(removed))
    assert isinstance(item, Ignored)


def test_malformed_shapes_keep_what_is_known() -> None:
    assert isinstance(parse_body("not json")[0], Malformed)
    assert isinstance(parse_body("")[0], Malformed)
    assert isinstance(parse_body("[1, 2]")[0], Malformed)
    assert isinstance(parse_body(json.dumps({"Records": []}))[0], Malformed)
    broken = s3_record("bkt", "k.mp4")
    del broken["s3"]["object"]["key"]
    [item] = direct_s3_items(s3_event(broken))
    assert isinstance(item, Malformed)
    assert item.bucket == "bkt"
    bad_size = s3_record("bkt", "k.mp4")
    bad_size["s3"]["object"]["size"] = "big"
    [item] = direct_s3_items(s3_event(bad_size))
    assert isinstance(item, Malformed)
    assert (item.bucket, item.key) == ("bkt", "k.mp4")
    assert isinstance(direct_s3_items(["not", "a", "dict"])[0], Malformed)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=200), json_values.map(json.dumps)))
def test_any_body_parses_without_raising(body: str) -> None:
    items = parse_body(body)
    assert items
    assert all(isinstance(i, ClipTask | Ignored | Malformed) for i in items)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["s3", "eventName", "eventSource"]), json_values))
def test_any_record_parses_without_raising(record: dict) -> None:
    items = direct_s3_items({"Records": [record]})
    assert len(items) == 1
