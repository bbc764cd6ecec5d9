"""Process one uploaded object: fetch, decode, recognize, vote, look up; return its result.

A rollcall clip (its key parses) is one short moment: ``ROLLCALL_SAMPLE_FRAMES`` frames.
Any other object is read as a whole video: ``ROLLCALL_VIDEO_SAMPLE_FRAMES`` frames spread
over its full length.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cloud_handler.aws import Clients, describe, result_code
from cloud_handler.decode import sample_frames
from cloud_handler.errors import ClipError, Stage, TransientError
from cloud_handler.events import ClipTask
from cloud_handler.fetch import fetch_clip
from cloud_handler.lookup import RecordCache, lookup_students
from cloud_handler.settings import Settings
from shared_schema import (
    MAX_FACES,
    BoundingBox,
    ClipId,
    ClipRef,
    ErrorCode,
    FaceResult,
    InvalidKeyError,
    ModelInfo,
    RecognitionResult,
    RecordLookup,
    ResultStatus,
    StageTimings,
    parse_key,
)

_log = logging.getLogger(__name__)

TRACK_WITHIN_MS = 1000
"""Sampled frames at most this far apart show one moment: faces are detected in full in the
middle frame only and followed into the others (a whole uploaded video is searched in full,
frame by frame)."""


@dataclass
class Outcome:
    """A clip's result and what a log line should say about it."""

    result: RecognitionResult
    notes: list[str] = field(default_factory=list)
    missing_records: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Deps:
    """What processing a clip needs from the warm container."""

    settings: Settings
    clients: Clients
    recognizer: Any
    model: ModelInfo
    cache: RecordCache


def process_clip(task: ClipTask, deps: Deps, *, attempt: int = 1) -> Outcome:
    """The one result for ``task``.

    Final problems (bad input, a missing object, a refused AWS call, a model failure)
    become an ``error`` result.

    Raises:
        TransientError, botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError:
            a transient failure (throttled, 5xx, unreachable) that botocore's retries did
            not overcome; the delivery must fail and be retried.
    """
    start = time.perf_counter()
    stage: list[Stage] = ["event"]  # the stage in progress, for unexpected failures
    clip = clip_id(task.key)
    ref = ClipRef(
        bucket=_bucket(task.bucket),
        key=task.key[:1024],
        clip=clip,
        etag=task.etag[:128] if task.etag else None,
        version_id=task.version_id,
    )
    count = deps.settings.sample_frames if clip else deps.settings.video_sample_frames
    try:
        return _recognize(task, ref, deps, count=count, attempt=attempt, stage=stage)
    except ClipError as exc:
        return Outcome(_error(ref, exc, deps.model, attempt=attempt, start=start))
    except (ClientError, BotoCoreError, TransientError) as exc:
        code = result_code(exc)
        if code is None:
            raise
        error = ClipError(code, describe(exc), stage[0])
        return Outcome(_error(ref, error, deps.model, attempt=attempt, start=start))
    except Exception as exc:
        _log.exception("unexpected failure processing s3://%s/%s", task.bucket, task.key)
        error = ClipError(ErrorCode.INTERNAL, f"{type(exc).__name__}: {exc}", stage[0])
        return Outcome(_error(ref, error, deps.model, attempt=attempt, start=start))


def clip_id(key: str) -> ClipId | None:
    """The rollcall clip a key names, or None for any other object (a whole video)."""
    try:
        return parse_key(key)
    except InvalidKeyError:
        return None


def _recognize(
    task: ClipTask, ref: ClipRef, deps: Deps, *, count: int, attempt: int, stage: list[Stage]
) -> Outcome:
    from face_model import vote

    settings, clients = deps.settings, deps.clients

    start = time.perf_counter()
    stage[0] = "download"
    blob = fetch_clip(clients.s3, task, max_bytes=settings.max_object_bytes)
    if blob.etag and not ref.etag:
        ref = ref.model_copy(update={"etag": blob.etag[:128]})
    t_download = time.perf_counter()
    stage[0] = "decode"
    sampled = sample_frames(
        blob.data,
        count=count,
        max_frame_pixels=settings.max_frame_pixels,
        max_decode_frames=settings.max_decode_frames,
        where=f"s3://{task.bucket}/{task.key}",
    )
    del blob
    t_decode = time.perf_counter()
    stage[0] = "detect"
    # frames of one moment (a short clip): detect in full once, follow the faces elsewhere
    track = max(sampled.times_ms) - min(sampled.times_ms) <= TRACK_WITHIN_MS
    batch = deps.recognizer.recognize(
        sampled.frames, max_side=settings.detect_max_side, track=track
    )
    votes = vote(batch.faces, len(sampled.frames))
    stage[0] = "lookup"
    t_recognized = time.perf_counter()
    names = [v.identity for v in votes if v.identity is not None]
    records = (
        lookup_students(clients.dynamodb, settings.table, names, cache=deps.cache) if names else {}
    )
    t_lookup = time.perf_counter()
    faces: list[FaceResult] = []
    for person in votes[:MAX_FACES]:
        record = records.get(person.identity) if person.identity else None
        if person.identity is None:
            lookup = RecordLookup.NOT_APPLICABLE
        else:
            lookup = RecordLookup.FOUND if record is not None else RecordLookup.MISSING
        faces.append(
            FaceResult(
                identity=person.identity,
                similarity=max(-1.0, min(1.0, float(person.similarity))),
                box=_box(person.best.box),
                frame_time_ms=sampled.times_ms[person.best.frame_index],
                votes=max(1, min(1000, person.votes)),
                lookup=lookup,
                record=record,
            )
        )
    if any(f.identity for f in faces):
        status = ResultStatus.RECOGNIZED
    else:
        status = ResultStatus.UNKNOWN if faces else ResultStatus.NO_FACE
    recognize_ms = (t_recognized - t_decode) * 1000
    detect_ms, embed_ms = _split(recognize_ms, batch.detect_ms, batch.embed_ms)
    timings = StageTimings(
        download_ms=_ms(t_download - start),
        decode_ms=_ms(t_decode - t_download),
        detect_ms=detect_ms,
        embed_ms=embed_ms,
        lookup_ms=_ms(t_lookup - t_recognized),
        total_ms=_ms(t_lookup - start),
    )
    result = RecognitionResult(
        clip=ref,
        status=status,
        faces=faces,
        faces_truncated=len(votes) > MAX_FACES,
        frames_sampled=len(sampled.frames),
        model=deps.model,
        timings=timings,
        processed_at=datetime.now(UTC),
        attempt=max(1, min(1000, attempt)),
    )
    missing = [f.identity for f in faces if f.identity and f.lookup is RecordLookup.MISSING]
    return Outcome(result, notes=sampled.notes, missing_records=missing)


def _error(
    ref: ClipRef, exc: ClipError, model: ModelInfo, *, attempt: int, start: float
) -> RecognitionResult:
    return RecognitionResult(
        clip=ref,
        status=ResultStatus.ERROR,
        error=exc.detail(),
        model=model,
        timings=StageTimings(total_ms=_ms(time.perf_counter() - start)),
        processed_at=datetime.now(UTC),
        attempt=max(1, min(1000, attempt)),
    )


def _split(total_ms: float, detect_ms: float, embed_ms: float) -> tuple[float, float]:
    """The recognizer's own detect/embed split, clamped to the wall time we measured."""
    detect_ms, embed_ms = max(0.0, float(detect_ms)), max(0.0, float(embed_ms))
    reported = detect_ms + embed_ms
    if reported <= 0:
        return _cap(total_ms), 0.0
    scale = min(1.0, total_ms / reported)
    return _cap(detect_ms * scale), _cap(embed_ms * scale)


def _box(box: tuple[float, float, float, float]) -> BoundingBox:
    x1, y1, x2, y2 = (max(0.0, min(16384.0, float(v))) for v in box)
    return BoundingBox(x1=min(x1, x2), y1=min(y1, y2), x2=max(x1, x2), y2=max(y1, y2))


def _bucket(name: str) -> str:
    return name if 3 <= len(name) <= 63 else (name + "???")[:63]


def _ms(seconds: float) -> float:
    return _cap(seconds * 1000)


def _cap(ms: float) -> float:
    return round(max(0.0, min(3_600_000.0, ms)), 3)
