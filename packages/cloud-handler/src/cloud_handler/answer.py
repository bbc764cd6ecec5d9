"""Answer one object exactly once: compute its result and publish it, as one idempotent step.

Powertools idempotency (DynamoDB persistence, conditional writes) keys the step on the
object's identity, ``bucket/key#versionId#etag``. The record is ``INPROGRESS`` from the
first write until the result is published, then ``COMPLETED`` with the message id:

- a duplicate after completion is answered from the record: no work, nothing published;
- a duplicate while another worker holds the object raises
  ``IdempotencyAlreadyInProgressError``: that delivery fails and comes back later;
- a failure before or during publishing (a transient AWS error) deletes the record, so
  the redelivery computes and publishes afresh: nothing was published yet;
- a worker killed mid-object leaves an ``INPROGRESS`` record that expires at its
  invocation's deadline (the Lambda context), before the queue redelivers the message.

With an output bucket (``ROLLCALL_OUTPUT_BUCKET``) the step also writes the object's output
object, before publishing (:mod:`cloud_handler.output`): a replay writes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from cloud_handler.errors import ClipError
from cloud_handler.events import ClipTask, Malformed
from cloud_handler.observability import count, logger, milliseconds
from cloud_handler.output import write_output
from cloud_handler.pipeline import Outcome, error_result, process_clip
from cloud_handler.publish import publish_result
from cloud_handler.sightings import record_sightings
from shared_schema import ErrorCode

if TYPE_CHECKING:
    from cloud_handler.runtime import Runtime

KEY_PREFIX = "rollcall-clip"
"""Prefix of the idempotency record keys (``rollcall-clip#<md5 of the identity>``)."""
REMEMBER_S = 24 * 3600
"""How long an answer is remembered (the idempotency records' TTL)."""
Answer = Callable[[dict[str, Any], int], tuple[dict[str, Any], bool]]
"""``answer(payload, attempt)`` -> (what the step returned, True when it was a replay)."""

_replayed = False
"""Whether the last answer came from the idempotency store (one invocation at a time per
process, as Lambda runs them)."""


def idempotency_config() -> IdempotencyConfig:
    """Records keyed on the payload's ``id``, remembered :data:`REMEMBER_S` seconds."""
    return IdempotencyConfig(
        event_key_jmespath="id",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=REMEMBER_S,
        use_local_cache=True,
        local_cache_max_items=1024,
        response_hook=_on_replay,
    )


def build_answer(runtime: Runtime) -> Answer:
    """The container's idempotent answering step (see the module docstring)."""
    store = DynamoDBPersistenceLayer(
        table_name=runtime.settings.idempotency_table, boto3_client=runtime.dynamodb
    )

    def answer(*, clip: dict[str, Any], attempt: int) -> dict[str, Any]:
        outcome = _outcome(clip, runtime, attempt)
        result = outcome.result
        settings = runtime.settings
        if settings.output_bucket:  # before publishing: a retry rewrites it, never publishes twice
            write_output(runtime.s3, settings.output_bucket, settings.output_format, result)
        retention = settings.sightings_retention_days
        record_sightings(runtime.dynamodb, settings.sightings_table, result, retention)
        topic = settings.results_topic_arn
        message_id = publish_result(runtime.sns, topic, result, dedup=clip["id"])
        log_outcome(outcome)
        return {"key": result.clip.key, "status": result.status.value, "message_id": message_id}

    once: Callable[..., dict[str, Any]] = idempotent_function(
        data_keyword_argument="clip",
        persistence_store=store,
        config=runtime.idempotency,
        key_prefix=KEY_PREFIX,
    )(answer)

    def call(payload: dict[str, Any], attempt: int) -> tuple[dict[str, Any], bool]:
        global _replayed  # noqa: PLW0603 - set by the response hook during this call
        _replayed = False
        response = once(clip=payload, attempt=attempt)
        return response, _replayed

    return call


def malformed_payload(item: Malformed) -> dict[str, Any]:
    """The payload that answers a malformed record naming a bucket and key (once)."""
    reason = hashlib.sha256(item.reason.encode()).hexdigest()[:16]
    return {
        "id": f"malformed:{item.bucket}/{item.key}#{reason}",
        "bucket": item.bucket,
        "key": item.key,
        "malformed": item.reason,
    }


def _on_replay(response: Any, idempotent_data: DataRecord) -> Any:
    global _replayed  # noqa: PLW0603
    _replayed = True
    return response


def _outcome(clip: dict[str, Any], runtime: Runtime, attempt: int) -> Outcome:
    if "malformed" not in clip:
        return process_clip(ClipTask.from_payload(clip), runtime, attempt=attempt)
    # bucket and key were checked against the schema when parsed
    task = ClipTask(bucket=clip["bucket"], key=clip["key"])
    error = ClipError(ErrorCode.MALFORMED_EVENT, str(clip["malformed"]), "event")
    return Outcome(error_result(task, error, runtime.model, attempt))


def log_outcome(outcome: Outcome) -> None:
    """One ``clip processed`` / ``clip failed`` line and the metrics of an answered object."""
    result = outcome.result
    if result.error is not None:
        log = logger.error if result.error.code is ErrorCode.INTERNAL else logger.warning
        log(
            "clip failed",
            extra={
                "status": "error",
                "error_code": result.error.code.value,
                "stage": result.error.stage,
                "reason": result.error.message,
                "attempt": result.attempt,
            },
        )
        count(f"Error_{result.error.code.value}")
        count("ClipErrors")
        return
    timings = result.timings.model_dump()
    logger.info(
        "clip processed",
        extra={
            "status": result.status.value,
            "people": result.people,
            "faces": len(result.faces),
            "frames_sampled": result.frames_sampled,
            "timings_ms": timings,
            "model": result.model.model_dump() if result.model else None,
            "attempt": result.attempt,
            "notes": outcome.notes,
        },
    )
    if outcome.missing_records:
        logger.warning(
            "recognized people have no record in the students table",
            extra={"names": outcome.missing_records},
        )
        count("RecordsMissing", len(outcome.missing_records))
    count(f"Clips_{result.status.value}")
    for stage in ("download", "decode", "detect", "embed", "lookup", "total"):
        milliseconds(f"{stage.capitalize()}Ms", timings[f"{stage}_ms"])
