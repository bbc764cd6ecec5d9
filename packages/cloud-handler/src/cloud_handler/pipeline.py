"""Process one uploaded object: fetch, decode, recognize, vote, look up; return its result.

A rollcall clip (its key parses) is one short moment; any other object is read as a whole
video, which may be answered by its first moment (see :mod:`cloud_handler.sampling`).

The result's limits are the schema's: the event's bucket, key, ETag and version were checked
against it when the event was parsed; face-model keeps boxes inside the frame and
similarities within [-1, 1]; decoding refuses frames a box could not describe and samples
no later than a frame time can say. Only a stage's duration can outgrow its field: it is
reported as the schema's maximum (see :func:`_ms`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from cloud_handler.aws import describe, result_code
from cloud_handler.errors import ClipError, Stage, TransientError
from cloud_handler.events import ClipTask
from cloud_handler.fetch import fetch_clip
from cloud_handler.lookup import lookup_students
from cloud_handler.sampling import look
from cloud_handler.unknowns import keep_unknowns
from shared_schema import (
    MAX_FACES,
    MAX_STAGE_MS,
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

if TYPE_CHECKING:
    from cloud_handler.runtime import Runtime

_log = logging.getLogger(__name__)
Clock = Callable[[], float]


@dataclass
class Outcome:
    """A clip's result and what a log line should say about it."""

    result: RecognitionResult
    notes: list[str] = field(default_factory=list)
    missing_records: list[str] = field(default_factory=list)


def process_clip(
    task: ClipTask, runtime: Runtime, *, attempt: int = 1, clock: Clock = time.perf_counter
) -> Outcome:
    """The one result for ``task``.

    Final problems (bad input, a missing object, a refused AWS call, a model failure)
    become an ``error`` result.

    Raises:
        TransientError, botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError:
            a transient failure (throttled, 5xx, unreachable) that botocore's retries did
            not overcome; the delivery must fail and be retried.
    """
    start = clock()
    stage: list[Stage] = ["event"]  # the stage in progress, for unexpected failures
    ref = _ref(task, task.etag)

    def error(exc: ClipError) -> Outcome:
        return Outcome(error_result(task, exc, runtime.model, attempt, _ms(clock() - start)))

    try:
        return _recognize(task, ref, runtime, attempt=attempt, stage=stage, clock=clock)
    except ClipError as exc:
        return error(exc)
    except (ClientError, BotoCoreError, TransientError) as exc:
        code = result_code(exc)
        if code is None:
            raise
        return error(ClipError(code, describe(exc), stage[0]))
    except Exception as exc:
        _log.exception("unexpected failure processing s3://%s/%s", task.bucket, task.key)
        return error(ClipError(ErrorCode.INTERNAL, f"{type(exc).__name__}: {exc}", stage[0]))


def error_result(
    task: ClipTask, exc: ClipError, model: ModelInfo, attempt: int, total_ms: float = 0.0
) -> RecognitionResult:
    """The ``error`` result that answers ``task`` (its ETag as the event gave it)."""
    return RecognitionResult(
        clip=_ref(task, task.etag),
        status=ResultStatus.ERROR,
        error=exc.detail(),
        model=model,
        timings=StageTimings(total_ms=total_ms),
        processed_at=datetime.now(UTC),
        attempt=attempt,
    )


def _clip_id(key: str) -> ClipId | None:
    """The rollcall clip a key names, or None for any other object (a whole video)."""
    try:
        return parse_key(key)
    except InvalidKeyError:
        return None


def _ref(task: ClipTask, etag: str | None) -> ClipRef:
    return ClipRef(
        bucket=task.bucket,
        key=task.key,
        clip=_clip_id(task.key),
        etag=etag,
        version_id=task.version_id,
    )


def _recognize(
    task: ClipTask,
    ref: ClipRef,
    runtime: Runtime,
    *,
    attempt: int,
    stage: list[Stage],
    clock: Clock,
) -> Outcome:
    from face_model import vote

    settings = runtime.settings
    start = clock()
    stage[0] = "download"
    blob = fetch_clip(runtime.s3, task, max_bytes=settings.max_object_bytes)
    if blob.etag and not ref.etag:
        ref = _ref(task, blob.etag)
    t_download = clock()
    stage[0] = "decode"
    data = blob.data
    del blob
    if runtime.library is not None:
        runtime.library.refresh()  # one GetItem per few seconds; a Query only on change
    sampled = look(
        data,
        runtime.recognizer,
        clip=ref.clip is not None,
        max_frame_pixels=settings.max_frame_pixels,
        where=f"s3://{task.bucket}/{task.key}",
        clock=clock,
        stage=stage,
        coarse=settings.coarse_detection,
    )
    del data
    batch = sampled.batch
    votes = vote(batch.faces, len(sampled.times_ms))
    stage[0] = "lookup"
    t_recognized = clock()
    names = [v.identity for v in votes if v.identity is not None]
    records = (
        lookup_students(runtime.dynamodb, settings.table, names, cache=runtime.cache)
        if names
        else {}
    )
    t_lookup = clock()
    keep_unknowns(runtime, task, ref.clip.device_id if ref.clip else None, votes, batch.faces)
    faces: list[FaceResult] = []
    for person in votes[:MAX_FACES]:
        record = records.get(person.identity) if person.identity else None
        if person.identity is None:
            lookup = RecordLookup.NOT_APPLICABLE
        else:
            lookup = RecordLookup.FOUND if record is not None else RecordLookup.MISSING
        x1, y1, x2, y2 = person.best.box
        faces.append(
            FaceResult(
                identity=person.identity,
                similarity=person.similarity,
                box=BoundingBox(x1=x1, y1=y1, x2=x2, y2=y2),
                frame_time_ms=sampled.times_ms[person.best.frame_index],
                votes=person.votes,
                lookup=lookup,
                record=record,
            )
        )
    if any(f.identity for f in faces):
        status = ResultStatus.RECOGNIZED
    else:
        status = ResultStatus.UNKNOWN if faces else ResultStatus.NO_FACE
    detect_ms, embed_ms = _split(sampled.recognize_s * 1000, batch.detect_ms, batch.embed_ms)
    timings = StageTimings(
        download_ms=_ms(t_download - start),
        decode_ms=_ms(sampled.decode_s),
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
        frames_sampled=len(sampled.times_ms),
        model=runtime.model,
        timings=timings,
        processed_at=datetime.now(UTC),
        attempt=attempt,
    )
    missing = [f.identity for f in faces if f.identity and f.lookup is RecordLookup.MISSING]
    return Outcome(result, notes=sampled.notes, missing_records=missing)


def _split(wall_ms: float, detect_ms: float, embed_ms: float) -> tuple[float, float]:
    """The recognizer's own detect/embed split, scaled down to the wall time we measured."""
    reported = detect_ms + embed_ms
    if reported <= 0:
        return _ms(wall_ms / 1000), 0.0
    scale = min(1.0, wall_ms / reported) / 1000
    return _ms(detect_ms * scale), _ms(embed_ms * scale)


def _ms(seconds: float) -> float:
    """Milliseconds for a result. A stage longer than the schema holds (an hour: only
    possible locally, e.g. a machine suspended mid-clip; Lambda stops after 15 minutes) is
    reported as the schema's ``MAX_STAGE_MS``, so that the object is still answered."""
    return round(min(seconds * 1000, float(MAX_STAGE_MS)), 3)
