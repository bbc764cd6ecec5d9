"""Each result is published once to the results topic; a queue subscribed with a device's
filter policy receives only that device's results, the foreign route only foreign ones."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cloud_handler.context import LocalContext
from cloud_handler.handler import lambda_handler
from rollcall_testkit.handler_stack import Stack, body, clip_key, s3_event, sqs_event
from shared_schema import ResultStatus, device_filter_policy, foreign_filter_policy

pytestmark = pytest.mark.slow


def test_subscribers_receive_only_their_route(
    stack: Stack, clip_bytes: Callable[..., bytes]
) -> None:
    queues = {
        "cam-a": stack.subscribe(device_filter_policy("cam-a")),
        "cam-b": stack.subscribe(device_filter_policy("cam-b")),
        "foreign": stack.subscribe(foreign_filter_policy()),
    }
    junk = b"not a video" * 10  # answered (an error result) and routed like any other
    uploads = {
        clip_key(1, device="cam-a"): clip_bytes(320, 240, faces=0),
        clip_key(2, device="cam-a"): junk,
        clip_key(1, device="cam-b"): junk,
        clip_key(1, device="cam-c"): junk,  # nobody subscribed: only the all-results queue
        "test_0.mp4": junk,
        "clips/cam-a/not-a-clip-key.mp4": junk,  # under clips/ but not a rollcall key
    }
    records = [stack.put(key, data) for key, data in uploads.items()]
    event = sqs_event(*(body(s3_event(r)) for r in records))
    assert lambda_handler(event, LocalContext(timeout_s=30)) == {"batchItemFailures": []}
    received = {name: stack.deliveries(url) for name, url in queues.items()}
    assert sorted(d.result.clip.key for d in received["cam-a"]) == [
        clip_key(1, device="cam-a"),
        clip_key(2, device="cam-a"),
    ]
    assert [d.result.clip.key for d in received["cam-b"]] == [clip_key(1, device="cam-b")]
    assert sorted(d.result.clip.key for d in received["foreign"]) == [
        "clips/cam-a/not-a-clip-key.mp4",
        "test_0.mp4",
    ]
    assert all(d.attributes == {"route": "device", "device": "cam-a"} for d in received["cam-a"])
    assert all(d.attributes == {"route": "foreign"} for d in received["foreign"])
    everything = stack.deliveries()
    assert sorted(d.result.clip.key for d in everything) == sorted(uploads)  # each once
    statuses = {d.result.clip.key: d.result.status for d in everything}
    assert statuses[clip_key(1, device="cam-a")] is ResultStatus.NO_FACE


def test_a_fifo_topic_gets_a_group_per_device_and_a_deduplication_id(stack: Stack) -> None:
    """A FIFO results topic (optional) drops a republished answer of the same object."""
    from cloud_handler.publish import publish_result
    from shared_schema import ClipRef, RecognitionResult, parse_key

    topic = stack.sns.create_topic(Name=f"{stack.bucket}.fifo", Attributes={"FifoTopic": "true"})[
        "TopicArn"
    ]
    sent: list[dict[str, object]] = []
    stack.sns.meta.events.register(
        "provide-client-params.sns.Publish", lambda params, **_: sent.append(params) and None
    )
    key = clip_key(3, device="cam-a")
    result = RecognitionResult(
        clip=ClipRef(bucket=stack.bucket, key=key, clip=parse_key(key)),
        status=ResultStatus.NO_FACE,
        processed_at="2026-11-29T00:00:00Z",
    )
    publish_result(stack.sns, topic, result, dedup=f"{stack.bucket}/{key}##etag")
    [params] = sent
    assert params["MessageGroupId"] == "cam-a"
    assert len(str(params["MessageDeduplicationId"])) == 64
