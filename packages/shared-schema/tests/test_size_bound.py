"""The largest possible result message still fits in one SQS message."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from shared_schema import (
    MAX_FACES,
    SQS_MAX_BYTES,
    BoundingBox,
    ClipRef,
    ErrorCode,
    ErrorDetail,
    FaceResult,
    ModelInfo,
    RecognitionResult,
    RecordLookup,
    ResultStatus,
    StageTimings,
    StudentRecord,
)
from shared_schema.student import MAX_EXTRA_ATTRIBUTES

# The costliest characters in JSON: a 4-byte UTF-8 code point, and a quote that escapes.
WIDE = "\U0001f600"
CONTROL = "\x01"  # escapes to \u0001 (6 bytes) where control characters are allowed


def _record(name: str, fill: str) -> StudentRecord:
    return StudentRecord(
        name=name,
        major=fill * 128,
        year=fill * 32,
        id=10**9,
        extra={f"attribute_{i:02d}_" + "x" * 50: fill * 128 for i in range(MAX_EXTRA_ATTRIBUTES)},
    )


def _largest_result(fill: str, free_text: str) -> RecognitionResult:
    names = [f"{i:03d}" + fill * 125 for i in range(MAX_FACES)]
    faces = [
        FaceResult(
            identity=name,
            similarity=-0.123456789012345,
            box=BoundingBox(x1=16383.123456789, y1=16383.123456789, x2=16384.0, y2=16384.0),
            frame_time_ms=3_600_000,
            votes=1000,
            lookup=RecordLookup.FOUND,
            record=_record(name, fill),
        )
        for name in names
    ]
    at = datetime(2286, 11, 19, 23, 59, 59, 999000, tzinfo=UTC)
    ms = 3_599_999.123456789
    return RecognitionResult(
        clip=ClipRef(
            bucket="b" * 63,
            key=free_text * 1024,
            clip=None,
            etag=free_text * 128,
            version_id=free_text * 1024,
        ),
        status=ResultStatus.RECOGNIZED,
        faces=faces,
        faces_truncated=True,
        frames_sampled=1000,
        model=ModelInfo(
            name=free_text * 128, version=free_text * 64, backbone=free_text * 64, pretrained=True
        ),
        timings=StageTimings(
            download_ms=ms, decode_ms=ms, detect_ms=ms, embed_ms=ms, lookup_ms=ms, total_ms=ms
        ),
        processed_at=at,
        attempt=1000,
    )


def test_the_worst_case_result_fits_in_one_sqs_message() -> None:
    for fill in (WIDE, '"', "\\"):
        for free_text in (WIDE, CONTROL, '"'):
            size = len(_largest_result(fill, free_text).to_message().encode())
            assert size <= SQS_MAX_BYTES, (fill, free_text, size)


def test_an_error_result_with_the_longest_message_fits() -> None:
    result = RecognitionResult(
        clip=ClipRef(bucket="b" * 63, key=CONTROL * 1024, clip=None),
        status=ResultStatus.ERROR,
        error=ErrorDetail(code=ErrorCode.INTERNAL, message=CONTROL * 2048, stage="decode"),
        processed_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert len(result.to_message().encode()) <= SQS_MAX_BYTES


@settings(max_examples=25)
@given(st.sampled_from([WIDE, '"', "\\", "a", "\u00e9", "\u4e2d"]), st.text(min_size=1, max_size=1))
def test_largest_results_fit_whatever_the_characters(fill: str, free_text: str) -> None:
    result = _largest_result(fill, free_text)
    assert len(result.faces) == MAX_FACES
    assert len(result.to_message().encode()) <= SQS_MAX_BYTES
