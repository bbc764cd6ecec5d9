"""Fuzz ``lambda_handler`` against a moto server: whatever arrives, every record either gets
exactly one ``error`` result or a clean refusal (logged, not retried); no exception escapes,
and no record of the same batch is lost.

Detection-only runtime (no model artifact): every input here fails before detection.
"""

from __future__ import annotations

import io
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

import av
import boto3
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloud_handler import runtime as runtime_module
from cloud_handler.context import LocalContext
from cloud_handler.handler import lambda_handler
from rollcall_testkit.handler_stack import sqs_event, subscribe_queue
from rollcall_testkit.results import drain
from shared_schema import ClipId, RecognitionResult, ResultStatus, format_key

REGION = "us-east-1"
BUCKET = "fuzz-clips"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def aws(moto_endpoint: str) -> Iterator[dict[str, Any]]:
    """Bucket, results topic (a queue subscribed), tables in moto, and the handler's
    environment pointed at them."""
    session = boto3.session.Session(
        region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    s3 = session.client("s3", endpoint_url=moto_endpoint)
    sqs = session.client("sqs", endpoint_url=moto_endpoint)
    ddb = session.client("dynamodb", endpoint_url=moto_endpoint)
    sns = session.client("sns", endpoint_url=moto_endpoint)
    s3.create_bucket(Bucket=BUCKET)
    topic = sns.create_topic(Name="fuzz-results")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="fuzz-results")["QueueUrl"]
    subscribe_queue(sns, sqs, topic, queue_url)
    for table, key in (("fuzz-students", "name"), ("fuzz-idempotency", "id")):
        ddb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "ROLLCALL_ENDPOINT_URL": moto_endpoint,
        "ROLLCALL_RESULTS_TOPIC_ARN": topic,
        "ROLLCALL_TABLE": "fuzz-students",
        "ROLLCALL_IDEMPOTENCY_TABLE": "fuzz-idempotency",
        "AWS_MAX_ATTEMPTS": "2",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    mp = pytest.MonkeyPatch()
    for name in ("ROLLCALL_MODEL_DIR", "ROLLCALL_MODEL_S3_URI", "AWS_PROFILE"):
        mp.delenv(name, raising=False)
    for name, value in env.items():
        mp.setenv(name, value)
    runtime_module.get_runtime.cache_clear()
    try:
        yield {"s3": s3, "sqs": sqs, "queue_url": queue_url, "mp": mp}
    finally:
        runtime_module.get_runtime.cache_clear()
        mp.undo()


def _fresh_key() -> str:
    clip = ClipId(
        device_id="fuzz",
        session_id=uuid.uuid4().hex[:12],
        seq=0,
        captured_at=datetime.now(UTC).replace(microsecond=0),
    )
    return format_key(clip)


def _s3_record(
    key: str, *, size: int | None = 0, version: str = "2.1", etag: str | None = None
) -> dict[str, Any]:
    """An AWS-shaped record; ``etag`` the object's (the handler GETs with If-Match on it),
    a random one for an object that is not there."""
    obj: dict[str, Any] = {"key": quote_plus(key), "eTag": etag or uuid.uuid4().hex}
    obj["sequencer"] = "0A"
    if size is not None:
        obj["size"] = size
    return {
        "eventVersion": version,
        "eventSource": "aws:s3",
        "awsRegion": REGION,
        "eventTime": "2026-11-24T18:00:00.000Z",
        "eventName": "ObjectCreated:Put",
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "clips",
            "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
            "object": obj,
        },
    }


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)

# Each record: (kind, payload). Kinds with a key must be answered; the others refused.
# Any key is a video: a random one names an object that is not there (object_missing).
records = st.one_of(
    st.tuples(st.just("bytes"), st.binary(max_size=4096)),
    st.tuples(st.just("missing"), st.none()),
    st.tuples(st.just("bad_key"), st.text(min_size=1, max_size=300)),
    st.tuples(st.just("garbage"), st.text(max_size=200)),
    st.tuples(st.just("json"), json_values),
    st.tuples(st.just("version"), st.text(max_size=10)),
)


def _build(kind: str, payload: Any, aws: dict[str, Any]) -> tuple[str, str | None]:
    """An SQS body and the key that must get exactly one error result (None: refusal)."""
    if kind == "bytes":
        key = _fresh_key()
        etag = _put(aws, key, payload)
        return json.dumps({"Records": [_s3_record(key, size=len(payload), etag=etag)]}), key
    if kind == "missing":
        key = _fresh_key()
        return json.dumps({"Records": [_s3_record(key)]}), key
    if kind == "bad_key":
        return json.dumps({"Records": [_s3_record(payload)]}), payload[:1024]
    if kind == "garbage":
        return payload, None
    if kind == "json":
        return json.dumps(payload), None
    key = _fresh_key()
    etag = _put(aws, key, b"\x00\x00\x00\x01garbage")
    return json.dumps({"Records": [_s3_record(key, version=payload, etag=etag)]}), key


def _put(aws: dict[str, Any], key: str, data: bytes) -> str:
    """PUT ``data``; its ETag, as S3's notification names it."""
    return str(aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=data)["ETag"]).strip('"')


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(records, min_size=1, max_size=5))
def test_fuzzed_batches_answer_or_refuse_every_record(
    aws: dict[str, Any], batch: list[tuple[str, Any]]
) -> None:
    built = [_build(kind, payload, aws) for kind, payload in batch]
    response = lambda_handler(sqs_event(*[body for body, _ in built]), LocalContext())
    assert response == {"batchItemFailures": []}, "final problems must never be retried"
    results = drain(aws["sqs"], aws["queue_url"])
    by_key: dict[str, list[RecognitionResult]] = {}
    for result in results:
        by_key.setdefault(result.clip.key, []).append(result)
    # two records may name the same (bad) key: each is a distinct upload (its own etag)
    wanted = Counter(key for _, key in built if key is not None)
    for (kind, _), (_, key) in zip(batch, built, strict=True):
        if key is None:
            continue
        got = by_key.get(key, [])
        assert len(got) == wanted[key], f"{kind}: {len(got)} results for {key!r}"
        assert all(r.status is ResultStatus.ERROR for r in got), f"{kind}: {got[0].status}"
    expected = {key for _, key in built if key is not None}
    assert set(by_key) <= expected, "a result for a clip nobody sent"


def _h264(width: int, height: int, frames: int = 1) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=15)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        image = np.zeros((height, width, 3), np.uint8)
        for _ in range(frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def _one(aws: dict[str, Any], body: bytes, size: int | None = None) -> RecognitionResult:
    key = _fresh_key()
    etag = _put(aws, key, body)
    size = len(body) if size is None else size
    event = sqs_event(json.dumps({"Records": [_s3_record(key, size=size, etag=etag)]}))
    assert lambda_handler(event, LocalContext()) == {"batchItemFailures": []}
    results = [r for r in drain(aws["sqs"], aws["queue_url"]) if r.clip.key == key]
    assert len(results) == 1
    return results[0]


def test_zero_length_clip_is_an_error_result(aws: dict[str, Any]) -> None:
    result = _one(aws, b"")
    assert result.status is ResultStatus.ERROR
    assert result.error is not None and result.error.code.value == "object_empty"


def test_frames_over_the_pixel_limit_are_refused_before_decoding(aws: dict[str, Any]) -> None:
    """A real H.264 clip whose declared frame size (4160x2352) exceeds the default limit."""
    result = _one(aws, _h264(4160, 2352))
    assert result.status is ResultStatus.ERROR
    assert result.error is not None and result.error.code.value == "frame_too_large"


@pytest.fixture
def small_limits(aws: dict[str, Any]) -> Iterator[None]:
    aws["mp"].setenv("ROLLCALL_MAX_OBJECT_BYTES", "4096")
    runtime_module.get_runtime.cache_clear()
    try:
        yield
    finally:
        aws["mp"].delenv("ROLLCALL_MAX_OBJECT_BYTES")
        runtime_module.get_runtime.cache_clear()


@pytest.mark.usefixtures("small_limits")
@pytest.mark.parametrize("declared", [None, 10, 2**40], ids=["true-size", "understated", "huge"])
def test_oversized_objects_are_refused_whatever_the_event_says(
    aws: dict[str, Any], declared: int | None
) -> None:
    result = _one(aws, bytes(range(256)) * 64, size=declared)
    assert result.status is ResultStatus.ERROR
    assert result.error is not None and result.error.code.value == "object_too_large"


def test_a_poison_record_does_not_lose_its_batch_mates(aws: dict[str, Any]) -> None:
    """Corrupt bytes, garbage, a key naming nothing and a real (faceless) clip in one batch."""
    good, poison = _fresh_key(), _fresh_key()
    good_etag = _put(aws, good, _h264(320, 240, frames=8))
    poison_etag = _put(aws, poison, b"\x00\x00\x00\x20ftypisom" + b"\xff" * 500)
    bodies = [
        json.dumps({"Records": [_s3_record(poison, etag=poison_etag)]}),
        "not json at all",
        json.dumps({"Records": [_s3_record("clips/../../etc/passwd")]}),
        json.dumps({"Records": [_s3_record(good, etag=good_etag)]}),
    ]
    assert lambda_handler(sqs_event(*bodies), LocalContext()) == {"batchItemFailures": []}
    results = {r.clip.key: r for r in drain(aws["sqs"], aws["queue_url"])}
    assert results[good].status is ResultStatus.NO_FACE
    assert results[poison].status is ResultStatus.ERROR
    assert results["clips/../../etc/passwd"].error is not None
    assert results["clips/../../etc/passwd"].error.code.value == "object_missing"
