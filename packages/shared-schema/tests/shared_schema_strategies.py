"""Hypothesis strategies for every message of the contract.

Importable from every test in the workspace (the root pytest config puts this folder on
``pythonpath``): other packages' tests use them to fuzz their parsers.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import strategies as st

from shared_schema import (
    MAX_SEQUENCE,
    BoundingBox,
    ClipId,
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
    format_key,
)

safe_ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")
timestamps = st.datetimes(
    min_value=datetime(2001, 9, 10), max_value=datetime(2286, 11, 19), timezones=st.just(UTC)
)
# Letters, digits, punctuation and symbols from all of Unicode, with inner spaces: what a
# name or a major may hold. No control characters (the contract refuses them).
_visible = st.characters(categories=("L", "N", "P", "S"))


def printable(min_size: int = 1, max_size: int = 32) -> st.SearchStrategy[str]:
    """Text without control characters or leading/trailing whitespace."""
    return st.text(st.one_of(_visible, st.just(" ")), min_size=min_size, max_size=max_size).filter(
        lambda s: s == s.strip() and len(s) >= min_size
    )


clip_ids = st.builds(
    ClipId,
    device_id=safe_ids,
    session_id=safe_ids,
    seq=st.integers(0, MAX_SEQUENCE),
    captured_at=timestamps,
)

extra_values = st.one_of(
    printable(0, 128),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)


def student_records(name: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[StudentRecord]:
    """Valid student records, optionally with a given name strategy."""
    return st.builds(
        StudentRecord,
        name=name if name is not None else printable(1, 128),
        major=printable(1, 128),
        year=printable(1, 32),
        id=st.none() | st.integers(0, 10**9),
        extra=st.dictionaries(
            st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,63}\Z").filter(
                lambda k: k not in {"name", "major", "year", "id"}
            ),
            extra_values,
            max_size=8,
        ),
    )


@st.composite
def boxes(draw: st.DrawFn) -> BoundingBox:
    xs = sorted(draw(st.lists(st.floats(0, 16384), min_size=2, max_size=2)))
    ys = sorted(draw(st.lists(st.floats(0, 16384), min_size=2, max_size=2)))
    return BoundingBox(x1=xs[0], x2=xs[1], y1=ys[0], y2=ys[1])


@st.composite
def face_results(draw: st.DrawFn) -> FaceResult:
    identity = draw(st.none() | printable(1, 128))
    if identity is None:
        lookup, record = RecordLookup.NOT_APPLICABLE, None
    elif draw(st.booleans()):
        lookup, record = RecordLookup.FOUND, draw(student_records(name=st.just(identity)))
    else:
        lookup, record = RecordLookup.MISSING, None
    return FaceResult(
        identity=identity,
        similarity=draw(st.floats(-1, 1)),
        box=draw(boxes()),
        frame_time_ms=draw(st.integers(0, 3_600_000)),
        votes=draw(st.integers(1, 1000)),
        lookup=lookup,
        record=record,
    )


ms = st.floats(0, 3_600_000)


@st.composite
def recognition_results(draw: st.DrawFn) -> RecognitionResult:
    clip = draw(st.none() | clip_ids)
    key = format_key(clip) if clip is not None else draw(st.text(min_size=1, max_size=1024))
    ref = ClipRef(
        bucket=draw(st.from_regex(r"\A[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")),
        key=key,
        clip=clip,
        etag=draw(st.none() | st.text(max_size=128)),
        version_id=draw(st.none() | st.text(max_size=64)),
    )
    error = None
    faces: list[FaceResult] = []
    if draw(st.booleans()):
        error = ErrorDetail(
            code=draw(st.sampled_from(ErrorCode)),
            message=draw(st.text(max_size=2048)),
            stage=draw(
                st.sampled_from(
                    ["event", "download", "decode", "detect", "embed", "lookup", "send"]
                )
            ),
        )
        status = ResultStatus.ERROR
    else:
        faces = draw(st.lists(face_results(), max_size=4))
        if not faces:
            status = ResultStatus.NO_FACE
        elif any(f.identity is not None for f in faces):
            status = ResultStatus.RECOGNIZED
        else:
            status = ResultStatus.UNKNOWN
    return RecognitionResult(
        clip=ref,
        status=status,
        faces=faces,
        faces_truncated=draw(st.booleans()),
        frames_sampled=draw(st.integers(0, 1000)),
        error=error,
        model=draw(
            st.none()
            | st.builds(
                ModelInfo,
                name=st.text(min_size=1, max_size=128),
                version=st.text(min_size=1, max_size=64),
                backbone=st.text(min_size=1, max_size=64),
                pretrained=st.booleans(),
            )
        ),
        timings=draw(
            st.builds(
                StageTimings,
                download_ms=ms,
                decode_ms=ms,
                detect_ms=ms,
                embed_ms=ms,
                lookup_ms=ms,
                total_ms=ms,
            )
        ),
        processed_at=draw(timestamps),
        attempt=draw(st.integers(1, 1000)),
    )
