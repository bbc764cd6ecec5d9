"""The output object (``ROLLCALL_OUTPUT_BUCKET``): its key and body for every kind of answer,
and, against a moto server, written in the answering step itself: a replayed event writes
nothing, and a failed write fails the delivery before anything is published."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from cloud_handler.output import course_text, output_key, render, write_output
from cloud_handler.runtime import get_runtime
from rollcall_testkit.handler_stack import Stack, invoke
from rollcall_testkit.results import result
from shared_schema import (
    BoundingBox,
    ClipRef,
    ErrorCode,
    ErrorDetail,
    FaceResult,
    RecognitionResult,
    RecordLookup,
)


@pytest.mark.parametrize(
    ("key", "course", "json_key"),
    [
        ("test_0.mp4", "test_0.txt", "test_0.json"),
        ("r2-test_0.MP4", "r2-test_0.txt", "r2-test_0.json"),
        ("clips/cam1/s1/00000000-1.mp4", "clips/cam1/s1/00000000-1.txt", None),
        ("a.b.mov", "a.b.txt", None),
        ("no-extension", "no-extension.txt", None),
        ("dir.v2/.hidden", "dir.v2/.hidden.txt", None),
    ],
)
def test_output_key_replaces_the_last_extension(key: str, course: str, json_key: str) -> None:
    assert output_key(key, "course") == course
    if json_key:
        assert output_key(key, "json") == json_key


def _face(identity: str | None, *, found: bool = True) -> FaceResult:
    from shared_schema import StudentRecord

    lookup = RecordLookup.NOT_APPLICABLE if identity is None else RecordLookup.FOUND
    record = StudentRecord(name=identity, major="math", year="senior") if identity else None
    if identity and not found:
        lookup, record = RecordLookup.MISSING, None
    box = BoundingBox(x1=0, y1=0, x2=10, y2=10)
    return FaceResult(
        identity=identity, similarity=0.9, box=box, frame_time_ms=0, lookup=lookup, record=record
    )


def _result(status: str, faces: list[FaceResult], error: ErrorDetail | None = None) -> str:
    made = RecognitionResult(
        clip=ClipRef(bucket="in-bucket", key="test_5.mp4", clip=None),
        status=status,
        faces=faces,
        error=error,
        processed_at=datetime.now(UTC),
    )
    return course_text(made)


def test_course_format_has_one_line_per_person_and_a_line_for_every_other_answer() -> None:
    assert course_text(result("in-bucket", "test_0.mp4", "mr_bean")) == "mr_bean,physics,senior"
    # test_5: the enrolled person, and an unenrolled one who is left out
    both = [_face("vin_diesel"), _face(None), _face("vin_diesel")]
    assert _result("recognized", both) == "vin_diesel,math,senior"
    assert _result("recognized", [_face("floki"), _face("mr_bean")]) == (
        "floki,math,senior\nmr_bean,math,senior"
    )
    assert _result("recognized", [_face("floki", found=False)]) == "floki,,"
    assert _result("unknown", [_face(None)]) == "unknown,,"
    assert _result("no_face", []) == "no_face,,"
    error = ErrorDetail(code=ErrorCode.NOT_A_VIDEO, message="text", stage="decode")
    assert _result("error", [], error) == "error,,"
    full = result("in-bucket", "test_0.mp4", "mr_bean")
    assert RecognitionResult.from_message(render(full, "json")) == full


def test_nothing_is_written_for_an_object_of_the_output_bucket_itself() -> None:
    """Were the output bucket notified (by hand), its own objects would not loop."""
    answer = result("out-bucket", "test_0.txt")
    assert write_output(None, "out-bucket", "course", answer) is None  # no S3 call at all
    assert write_output(None, "out-bucket", "json", result("in-bucket", "k" * 1024)) is None


@pytest.fixture
def output_bucket(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """Point the handler at an output bucket (created) in ``format``; returns its name."""

    def configure(output_format: str, *, create: bool = True) -> str:
        name = f"{stack.bucket}-output"
        if create:
            stack.s3.create_bucket(Bucket=name)
        monkeypatch.setenv("ROLLCALL_OUTPUT_BUCKET", name)
        monkeypatch.setenv("ROLLCALL_OUTPUT_FORMAT", output_format)
        get_runtime.cache_clear()
        return name

    return configure


@pytest.mark.slow
def test_a_replayed_event_writes_nothing(
    stack: Stack, output_bucket: Callable[..., str], clip_bytes: Callable[..., bytes]
) -> None:
    bucket = output_bucket("course")
    stack.notify_events()
    stack.put("test_0.mp4", clip_bytes(320, 240, faces=0))
    event = stack.received_events(1)  # the notification S3 (moto) sent, as it sent it
    assert invoke(event) == {"batchItemFailures": []}
    written = stack.s3.get_object(Bucket=bucket, Key="test_0.txt")
    assert written["Body"].read() == b"no_face,,"
    assert written["ContentType"].startswith("text/plain")
    stack.s3.delete_object(Bucket=bucket, Key="test_0.txt")
    assert invoke(event) == {"batchItemFailures": []}  # the same event again: a replay
    assert stack.s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    assert [r.clip.key for r in stack.results()] == ["test_0.mp4"]


@pytest.mark.slow
def test_json_format_and_a_failed_write_publishes_nothing_until_it_succeeds(
    stack: Stack, output_bucket: Callable[..., str], clip_bytes: Callable[..., bytes]
) -> None:
    bucket = output_bucket("json", create=False)  # the bucket is missing: writes fail
    stack.notify_events()
    stack.put("video.mp4", clip_bytes(320, 240, faces=0))
    event = stack.received_events(1)
    assert len(invoke(event)["batchItemFailures"]) == 1
    assert stack.results() == []
    stack.s3.create_bucket(Bucket=bucket)
    assert invoke(event) == {"batchItemFailures": []}  # the redelivery
    body = stack.s3.get_object(Bucket=bucket, Key="video.json")["Body"].read()
    written = RecognitionResult.from_message(body)
    (published,) = stack.results()
    assert written == published
    assert (written.clip.key, written.status.value) == ("video.mp4", "no_face")
