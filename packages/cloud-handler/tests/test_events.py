"""SQS records whose bodies hold S3 notifications (incl. s3:TestEvent), deletions, garbage."""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_handler.events import ClipTask, Ignored, Malformed, parse_record
from rollcall_testkit.handler_stack import s3_event, s3_record, sqs_event


def items(body: str) -> list[ClipTask | Ignored | Malformed]:
    return parse_record(SQSRecord(sqs_event(body)["Records"][0]))


def test_keys_are_url_decoded_and_identify_the_upload() -> None:
    record = s3_record("bkt", "uploads/My Clip (1)+x.mp4", size=10, etag="abc", version_id="v1")
    assert record["s3"]["object"]["key"] == "uploads/My+Clip+%281%29%2Bx.mp4"
    [task] = items(json.dumps(s3_event(record)))
    when = record["eventTime"]
    assert task == ClipTask("bkt", "uploads/My Clip (1)+x.mp4", "abc", "v1", 10, None, when)
    assert task.idempotency_id == f"bkt/uploads/My Clip (1)+x.mp4#v1#abc#{when}"
    assert ClipTask.from_payload(task.as_payload()) == task


def test_the_upload_marker_is_the_sequencer_on_aws_and_the_event_time_on_moto() -> None:
    """AWS-shaped records carry ``s3.object.sequencer``: it alone tells uploads apart, whatever
    the event time says. moto-shaped records carry none: ``eventTime`` does."""
    aws = s3_record("bkt", "test_0.mp4", etag="abc")
    aws["s3"]["object"]["sequencer"] = "0055AED6DCD90281E5"
    again = json.loads(json.dumps(aws))
    again["s3"]["object"]["sequencer"] = "0055AED6DCD90281E6"  # a later PUT, same ms and bytes
    [first] = items(json.dumps(s3_event(aws)))
    [copy] = items(json.dumps(s3_event(aws)))  # the same event delivered again
    [later] = items(json.dumps(s3_event(again)))
    assert isinstance(first, ClipTask) and isinstance(later, ClipTask)
    assert first.upload_marker == ("sequencer", "0055AED6DCD90281E5")
    assert first == copy and first.idempotency_id == copy.idempotency_id
    assert later.idempotency_id != first.idempotency_id
    moto = s3_record("bkt", "test_0.mp4", etag="abc")  # moto's shape: no sequencer, no versionId
    assert "sequencer" not in moto["s3"]["object"] and "versionId" not in moto["s3"]["object"]
    [task] = items(json.dumps(s3_event(moto)))
    assert isinstance(task, ClipTask)
    assert task.upload_marker == ("eventTime", moto["eventTime"])
    moto["eventTime"] = "2026-11-24T17:30:00.001Z"  # the next PUT, a millisecond later
    [next_put] = items(json.dumps(s3_event(moto)))
    assert isinstance(next_put, ClipTask)
    assert next_put.idempotency_id != task.idempotency_id
    del moto["eventTime"]  # a hand-made event: bucket, key, version and ETag alone
    [bare] = items(json.dumps(s3_event(moto)))
    assert isinstance(bare, ClipTask)
    assert bare.upload_marker is None and bare.idempotency_id == "bkt/test_0.mp4##abc"
    assert ClipTask.from_payload(first.as_payload()) == first
    odd = s3_record("bkt", "k.mp4")
    odd["s3"]["object"]["sequencer"] = 12
    [item] = items(json.dumps(s3_event(odd)))
    assert isinstance(item, Malformed) and "sequencer" in item.reason and item.key == "k.mp4"


def test_test_event_and_non_create_events_are_ignored() -> None:
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "bkt"}
    [item] = items(json.dumps(test_event))
    assert isinstance(item, Ignored)
    assert "s3:TestEvent" in item.reason
    removed = s3_record("bkt", "k.mp4", event_name="ObjectRemoved:Delete")
    [item] = items(json.dumps(s3_event(removed)))
    assert isinstance(item, Ignored)


def test_several_records_in_one_body() -> None:
    document = s3_event(s3_record("bkt", "a.mp4"), s3_record("bkt", "b.h264"))
    assert [i.key for i in items(json.dumps(document)) if isinstance(i, ClipTask)] == [
        "a.mp4",
        "b.h264",
    ]


def test_malformed_shapes_keep_what_is_known() -> None:
    assert isinstance(items("not json")[0], Malformed)
    assert isinstance(items("")[0], Malformed)
    assert isinstance(items("[1, 2]")[0], Malformed)
    assert isinstance(items(json.dumps({"Records": []}))[0], Malformed)
    # an SNS envelope is not what the events queue carries (S3 notifies it directly)
    inner = json.dumps(s3_event(s3_record("bkt", "k.mp4")))
    assert isinstance(items(json.dumps({"Type": "Notification", "Message": inner}))[0], Malformed)
    broken = s3_record("bkt", "k.mp4")
    del broken["s3"]["object"]["key"]
    [item] = items(json.dumps(s3_event(broken)))
    assert isinstance(item, Malformed)
    assert item.bucket == "bkt"
    bad_size = s3_record("bkt", "k.mp4")
    bad_size["s3"]["object"]["size"] = "big"
    [item] = items(json.dumps(s3_event(bad_size)))
    assert isinstance(item, Malformed)
    assert (item.bucket, item.key) == ("bkt", "k.mp4")
    assert isinstance(items(json.dumps({"Records": ["not", "a", "dict"]}))[0], Malformed)


def test_what_no_result_can_name_is_malformed() -> None:
    """Checked against the result's schema once, here: a bucket or key S3 never makes is
    refused outright; an impossible ETag or version keeps the bucket and key (answered)."""
    for bucket, key in (("b", "k.mp4"), ("x" * 64, "k.mp4"), ("bkt", "k" * 1025)):
        [item] = items(json.dumps(s3_event(s3_record(bucket, key))))
        assert isinstance(item, Malformed) and item.bucket is None and item.key is None
    [item] = items(json.dumps(s3_event(s3_record("bkt", "k.mp4", etag="e" * 129))))
    assert isinstance(item, Malformed) and (item.bucket, item.key) == ("bkt", "k.mp4")
    assert item.reason.startswith("S3 record etag 'eeee")
    [task] = items(json.dumps(s3_event(s3_record("x" * 63, "k" * 1024, etag="e" * 128))))
    assert isinstance(task, ClipTask)
    # malformed otherwise too (a bad size): still no object to answer for a bucket S3 never makes
    bad_size = s3_record("b", "k.mp4")
    bad_size["s3"]["object"]["size"] = "big"
    [item] = items(json.dumps(s3_event(bad_size)))
    assert isinstance(item, Malformed) and item.bucket is None
    assert "is not a byte count; S3 record bucket 'b'" in item.reason


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=200), json_values.map(json.dumps)))
def test_any_body_parses_without_raising(body: str) -> None:
    parsed = items(body)
    assert parsed
    assert all(isinstance(i, ClipTask | Ignored | Malformed) for i in parsed)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["s3", "eventName", "eventSource"]), json_values))
def test_any_record_parses_without_raising(record: dict) -> None:
    assert len(items(json.dumps({"Records": [record]}))) == 1
