"""The handler end to end against a moto server, detection-only model (no weights needed):
SQS batches of S3 notifications in, one result per object published to the results topic."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from rollcall_testkit.handler_stack import (
    Stack,
    body,
    clip_key,
    fail_calls,
    invoke,
    s3_event,
    s3_record,
    sqs_event,
)
from shared_schema import ErrorCode, RecordLookup, ResultStatus

pytestmark = pytest.mark.slow


def test_one_face_clip_is_published_to_its_device(
    stack: Stack, clip_bytes: Callable[..., bytes]
) -> None:
    record = stack.put(clip_key(1), clip_bytes(640, 480, faces=1))
    assert invoke(sqs_event(body(s3_event(record)))) == {"batchItemFailures": []}
    [delivered] = stack.deliveries()
    assert delivered.attributes == {"route": "device", "device": "cam1"}
    result = delivered.result
    assert result.status is ResultStatus.UNKNOWN
    assert result.clip.key == clip_key(1)
    assert result.clip.clip is not None and result.clip.clip.seq == 1
    assert result.clip.etag == record["s3"]["object"]["eTag"]
    assert result.model is not None and result.model.pretrained is False
    assert result.frames_sampled == 3
    [face] = result.faces
    assert face.identity is None and face.lookup is RecordLookup.NOT_APPLICABLE
    assert face.votes == 3
    # the astronaut's face sits in the middle third of a 640x480 frame
    assert 150 < (face.box.x1 + face.box.x2) / 2 < 450
    assert face.box.y2 - face.box.y1 > 60
    timings = result.timings
    assert timings.detect_ms > 0 and timings.decode_ms > 0
    assert timings.total_ms >= timings.decode_ms + timings.detect_ms


def test_sqs_batch_mixed_records(
    stack: Stack, clip_bytes: Callable[..., bytes], logs: list[dict[str, Any]]
) -> None:
    """A good clip, a no-face clip, S3's test event and garbage: no record is failed."""
    good = stack.put(clip_key(2), clip_bytes(1280, 720, faces=3))
    empty_scene = stack.put(clip_key(3), clip_bytes(640, 480, faces=0))
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": stack.bucket}
    event = sqs_event(
        body(s3_event(good)), body(s3_event(empty_scene)), json.dumps(test_event), "{oops"
    )
    assert invoke(event) == {"batchItemFailures": []}
    results = {r.clip.key: r for r in stack.results()}
    assert set(results) == {clip_key(2), clip_key(3)}
    several = results[clip_key(2)]
    assert several.status is ResultStatus.UNKNOWN
    assert len(several.faces) == 3
    assert results[clip_key(3)].status is ResultStatus.NO_FACE
    assert not results[clip_key(3)].faces
    assert any(line["message"] == "event ignored" for line in logs)
    malformed = [line for line in logs if line["message"] == "malformed event"]
    assert malformed and malformed[0]["level"] == "ERROR"
    processed = [line for line in logs if line["message"] == "clip processed"]
    assert {line["correlation_id"] for line in processed} == {clip_key(2), clip_key(3)}


def _error_for(stack: Stack, record: dict[str, Any], logs: list[dict[str, Any]]) -> Any:
    assert invoke(sqs_event(body(s3_event(record)))) == {"batchItemFailures": []}
    [result] = stack.results()
    assert result.status is ResultStatus.ERROR
    assert result.error is not None
    assert not result.faces
    failed = [line for line in logs if line["message"] == "clip failed"]
    assert failed, "every error result comes with a structured log line"
    assert failed[-1]["error_code"] == result.error.code.value
    assert failed[-1]["correlation_id"] == result.clip.key
    return result.error


def test_object_missing(stack: Stack, logs: list[dict[str, Any]]) -> None:
    record = s3_record(stack.bucket, clip_key(4), size=1000)
    error = _error_for(stack, record, logs)
    assert error.code is ErrorCode.OBJECT_MISSING and error.stage == "download"


def test_object_empty(stack: Stack, logs: list[dict[str, Any]]) -> None:
    assert _error_for(stack, stack.put(clip_key(5), b""), logs).code is ErrorCode.OBJECT_EMPTY


def test_not_a_video(stack: Stack, logs: list[dict[str, Any]]) -> None:
    record = stack.put(clip_key(6), b"GIF89a this is not an mp4 at all" * 40)
    assert _error_for(stack, record, logs).code is ErrorCode.NOT_A_VIDEO


def test_truncated_video(
    stack: Stack, clip_bytes: Callable[..., bytes], logs: list[dict[str, Any]]
) -> None:
    data = clip_bytes(320, 240, faces=0)
    record = stack.put(clip_key(7), data[: len(data) // 2])
    error = _error_for(stack, record, logs)
    assert error.code is ErrorCode.CORRUPT_VIDEO and error.stage == "decode"


def test_unsupported_codec(stack: Stack, undecodable: bytes, logs: list[dict[str, Any]]) -> None:
    record = stack.put(clip_key(8), undecodable)
    assert _error_for(stack, record, logs).code is ErrorCode.UNSUPPORTED_CODEC


def test_oversized_object(
    stack: Stack,
    clip_bytes: Callable[..., bytes],
    logs: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cloud_handler.runtime import get_runtime

    monkeypatch.setenv("ROLLCALL_MAX_OBJECT_BYTES", "1000")
    get_runtime.cache_clear()
    record = stack.put(clip_key(9), clip_bytes(320, 240, faces=0))
    error = _error_for(stack, record, logs)
    assert error.code is ErrorCode.OBJECT_TOO_LARGE and "ROLLCALL_MAX_OBJECT_BYTES" in error.message
    # an event that under-reports the size is caught while reading
    record["s3"]["object"]["size"] = 10
    record["eventTime"] = "2026-11-24T17:30:01.000Z"  # another event, not a duplicate delivery
    assert _error_for(stack, record, logs).code is ErrorCode.OBJECT_TOO_LARGE


def test_frame_too_large(
    stack: Stack,
    clip_bytes: Callable[..., bytes],
    logs: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cloud_handler.runtime import get_runtime

    monkeypatch.setenv("ROLLCALL_MAX_FRAME_PIXELS", str(320 * 240 - 1))
    get_runtime.cache_clear()
    record = stack.put(clip_key(10), clip_bytes(320, 240, faces=0))
    assert _error_for(stack, record, logs).code is ErrorCode.FRAME_TOO_LARGE


def test_any_key_is_answered_and_a_malformed_record_once(
    stack: Stack, logs: list[dict[str, Any]]
) -> None:
    record = stack.put("uploads/holiday photo.mp4", b"\x00" * 100)
    assert _error_for(stack, record, logs).code is ErrorCode.NOT_A_VIDEO
    broken = s3_record(stack.bucket, clip_key(11))
    broken["s3"]["object"]["size"] = "big"
    message = body(s3_event(broken))
    assert invoke(sqs_event(message)) == {"batchItemFailures": []}
    assert invoke(sqs_event(message, receive_count=2)) == {"batchItemFailures": []}
    [delivered] = stack.deliveries()
    result = delivered.result
    assert result.error is not None and result.error.code is ErrorCode.MALFORMED_EVENT
    assert result.clip.key == clip_key(11)
    assert delivered.attributes == {"route": "device", "device": "cam1"}


def test_a_refused_aws_call_is_access_denied(stack: Stack, logs: list[dict[str, Any]]) -> None:
    """Without s3:GetObject (or, for a missing object, without s3:ListBucket) S3 answers 403."""
    from cloud_handler.runtime import get_runtime

    record = stack.put("denied.mp4", b"\x00" * 100)
    fail_calls(get_runtime().s3, "GetObject", 1, "AccessDenied", status=403)
    error = _error_for(stack, record, logs)
    assert error.code is ErrorCode.ACCESS_DENIED and error.stage == "download"
    assert "AccessDenied" in error.message


def test_a_refused_publish_leaves_the_record_for_redelivery(
    stack: Stack, logs: list[dict[str, Any]]
) -> None:
    """Nothing can be answered without sns:Publish: the record fails (and ends in the
    dead-letter queue), the log line says access_denied, and nothing is remembered."""
    from cloud_handler.runtime import get_runtime

    record = stack.put(clip_key(12), b"not a video" * 10)
    calls = fail_calls(get_runtime().sns, "Publish", 1, "AuthorizationError", 403)
    event = sqs_event(body(s3_event(record)))
    assert invoke(event)["batchItemFailures"] == [
        {"itemIdentifier": event["Records"][0]["messageId"]}
    ]
    assert calls[0] == 1  # a refusal is not retried
    [line] = [line for line in logs if line["message"].startswith("clip not answered")]
    assert line["error_code"] == "access_denied"
    assert not stack.results()
    assert invoke(sqs_event(body(s3_event(record)), receive_count=2)) == {"batchItemFailures": []}
    [result] = stack.results()
    assert result.error is not None and result.error.code is ErrorCode.NOT_A_VIDEO
    assert result.attempt == 2


def test_an_event_that_is_not_an_sqs_batch_is_refused(
    stack: Stack, logs: list[dict[str, Any]]
) -> None:
    """S3 no longer invokes the function directly: such an event is logged, not processed."""
    record = stack.put(clip_key(13), b"x")
    assert invoke(s3_event(record)) == {"batchItemFailures": []}
    assert not stack.results()
    [line] = [line for line in logs if line["message"] == "malformed event"]
    assert line["reason"] == "not an SQS batch event"


def test_configuration_error_names_the_variable(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cloud_handler.errors import ConfigError
    from cloud_handler.runtime import get_runtime

    monkeypatch.delenv("ROLLCALL_TABLE")
    get_runtime.cache_clear()
    with pytest.raises(ConfigError, match="ROLLCALL_TABLE is not set"):
        invoke(sqs_event(body(s3_event(s3_record(stack.bucket, clip_key(0))))))


def test_metrics_disabled_print_nothing(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """POWERTOOLS_METRICS_DISABLED silences every EMF line, the cold start's included."""
    from aws_lambda_powertools.metrics.provider import cold_start

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setattr(cold_start, "is_cold_start", True)
    record = stack.put(clip_key(14), b"x" * 10)
    invoke(sqs_event(body(s3_event(record))))
    assert '"_aws"' not in capsys.readouterr().out
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.setattr(cold_start, "is_cold_start", True)
    invoke(sqs_event(body(s3_event(stack.put(clip_key(15), b"x" * 10)))))
    out = capsys.readouterr().out
    assert '"ColdStart"' in out and '"Records"' in out


def test_dynamodb_unreachable_through_its_own_endpoint(
    stack: Stack, logs: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ROLLCALL_ENDPOINT_URL: botocore's AWS_ENDPOINT_URL reaches moto for every service,
    AWS_ENDPOINT_URL_DYNAMODB sends DynamoDB (both tables) to a closed port. The record
    fails and nothing is published; with DynamoDB back, the redelivery is answered once."""
    import socket

    from cloud_handler.runtime import get_runtime

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.delenv("ROLLCALL_ENDPOINT_URL")
    monkeypatch.setenv("AWS_ENDPOINT_URL", stack.endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", closed)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    get_runtime.cache_clear()
    record = stack.put(clip_key(16), b"not a video" * 10)
    event = sqs_event(body(s3_event(record)))
    assert invoke(event)["batchItemFailures"] == [
        {"itemIdentifier": event["Records"][0]["messageId"]}
    ]
    [line] = [line for line in logs if line["message"].startswith("clip not answered")]
    assert line["error_code"] == "transient" and "EndpointConnectionError" in line["reason"]
    assert not stack.results()
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB")
    get_runtime.cache_clear()
    assert invoke(sqs_event(body(s3_event(record)), receive_count=2)) == {"batchItemFailures": []}
    [result] = stack.results()
    assert result.error is not None and result.error.code is ErrorCode.NOT_A_VIDEO
    assert result.attempt == 2
