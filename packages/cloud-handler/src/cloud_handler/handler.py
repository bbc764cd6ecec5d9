"""The Lambda entry point: S3 notifications (direct or via SQS) in, one result per clip out."""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)

from cloud_handler.aws import with_retries
from cloud_handler.context import LocalContext
from cloud_handler.errors import ClipError
from cloud_handler.events import (
    ClipTask,
    Ignored,
    Item,
    Malformed,
    direct_s3_items,
    is_sqs_event,
    parse_body,
)
from cloud_handler.pipeline import Outcome, process_clip
from cloud_handler.runtime import Runtime, get_runtime
from shared_schema import ClipRef, ErrorCode, RecognitionResult, ResultStatus

SERVICE = "rollcall-cloud-handler"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "rollcall")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
_metrics_lock = threading.Lock()
_cold_start = threading.Event()
_replayed = threading.local()


class RedeliverError(RuntimeError):
    """At least one clip of a direct S3 event must be retried (Lambda retries async events)."""


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Process an S3 notification event or an SQS batch of them.

    SQS batches return ``{"batchItemFailures": [...]}`` naming only the records to retry.
    Direct S3 events return a summary, or raise :class:`RedeliverError` when a clip hit
    a transient failure (Lambda then retries the event; finished clips are not redone).
    """
    runtime = get_runtime()  # ConfigError here names every missing variable
    context = context if context is not None else LocalContext()
    cold = not _cold_start.is_set()
    if cold:
        _cold_start.set()
        if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() not in ("1", "true"):
            metrics.provider.add_cold_start_metric(context=context)
    logger.thread_safe_append_keys(
        function_request_id=getattr(context, "aws_request_id", None), cold_start=cold
    )
    try:
        if is_sqs_event(event):
            return _sqs_batch(event, context, runtime)
        return _direct(event, context, runtime)
    finally:
        logger.thread_safe_clear_keys()
        with _metrics_lock:
            metrics.add_metric(name="Invocations", unit=MetricUnit.Count, value=1)
            metrics.flush_metrics()


def _sqs_batch(event: dict[str, Any], context: Any, runtime: Runtime) -> dict[str, Any]:
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def record_handler(record: SQSRecord) -> None:
        attempt = int(record.attributes.approximate_receive_count or 1)
        for item in parse_body(record.body):
            _handle_item(item, runtime, context, attempt, source=f"sqs:{record.message_id}")

    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


def _direct(event: dict[str, Any], context: Any, runtime: Runtime) -> dict[str, Any]:
    handled: list[dict[str, Any]] = []
    failed: list[str] = []
    for item in direct_s3_items(event):
        try:
            handled.append(_handle_item(item, runtime, context, 1, source="s3"))
        except Exception as exc:
            failed.append(f"{getattr(item, 'key', '?')}: {exc}")
    if failed:
        raise RedeliverError("retry needed for " + "; ".join(failed))
    return {"handled": handled}


def _handle_item(
    item: Item, runtime: Runtime, context: Any, attempt: int, *, source: str
) -> dict[str, Any]:
    if isinstance(item, Ignored):
        logger.info("event ignored", extra={"reason": item.reason, "source": source})
        _count("IgnoredEvents")
        return {"ignored": item.reason}
    if isinstance(item, Malformed):
        return _malformed(item, runtime, source)
    return _handle_clip(item, runtime, context, attempt)


def _malformed(item: Malformed, runtime: Runtime, source: str) -> dict[str, Any]:
    """Log it; answer with an error result when the clip it names is known. Never retried."""
    logger.error(
        "malformed event",
        extra={"reason": item.reason, "bucket": item.bucket, "key": item.key, "source": source},
    )
    _count("MalformedEvents")
    if not (item.bucket and item.key):
        return {"malformed": item.reason}
    from datetime import UTC, datetime

    error = ClipError(ErrorCode.MALFORMED_EVENT, item.reason, "event")
    result = RecognitionResult(
        clip=ClipRef(bucket=item.bucket[:63].ljust(3, "?"), key=item.key[:1024], clip=None),
        status=ResultStatus.ERROR,
        error=error.detail(),
        model=runtime.model,
        processed_at=datetime.now(UTC),
    )
    _send(runtime, result.to_message(), group=item.key, dedup=f"malformed:{item.key}")
    return {"key": item.key, "status": "error", "code": error.code.value}


def _handle_clip(task: ClipTask, runtime: Runtime, context: Any, attempt: int) -> dict[str, Any]:
    logger.thread_safe_append_keys(correlation_id=task.key)
    try:
        compute, deliver = _idempotent(runtime, context)
        _replayed.value = False
        try:
            stored = compute(clip=task.as_payload(), attempt=attempt)
            duplicate = _replayed.value
            _replayed.value = False
            sent = deliver(stored["body"], clip=task.as_payload())
        except IdempotencyAlreadyInProgressError:
            logger.info("clip in progress elsewhere; this delivery will be retried")
            _count("InProgressElsewhere")
            raise
        except Exception as exc:
            logger.warning(
                "clip not answered; this delivery will be retried",
                extra={"reason": f"{type(exc).__name__}: {exc}", "attempt": attempt},
            )
            _count("RetriedDeliveries")
            raise
        if duplicate or _replayed.value:
            logger.info("duplicate delivery answered from the idempotency store")
            _count("DuplicateDeliveries")
        return {
            "key": task.key,
            "status": stored["status"],
            "message_id": sent.get("message_id"),
            "duplicate": bool(duplicate),
        }
    finally:
        logger.thread_safe_remove_keys(["correlation_id"])


def _idempotent(runtime: Runtime, context: Any) -> tuple[Any, Any]:
    """The idempotent compute and deliver steps, bound to this invocation's deadline."""
    stores = runtime.stores
    base = runtime.idempotency_config
    config = IdempotencyConfig(
        event_key_jmespath=base.event_key_jmespath,
        raise_on_no_idempotency_key=True,
        expires_after_seconds=base.expires_after_seconds,
        use_local_cache=base.use_local_cache,
        local_cache_max_items=base.local_cache_max_items,
        response_hook=_on_replay,
    )
    config.register_lambda_context(context)

    def compute_result(clip: dict[str, Any], attempt: int = 1) -> dict[str, Any]:
        return _compute(runtime, clip, attempt)

    def deliver_result(body: str, clip: dict[str, Any]) -> dict[str, Any]:
        return {"message_id": _send(runtime, body, group=clip["key"], dedup=clip["id"])}

    compute = idempotent_function(
        data_keyword_argument="clip",
        persistence_store=stores["clip"],
        config=config,
        key_prefix="rollcall-clip",
    )(compute_result)
    deliver = idempotent_function(
        data_keyword_argument="clip",
        persistence_store=stores["result"],
        config=config,
        key_prefix="rollcall-result",
    )(deliver_result)
    return compute, deliver


def _on_replay(response: Any, record: Any) -> Any:
    _replayed.value = True
    return response


def _compute(runtime: Runtime, clip: dict[str, Any], attempt: int) -> dict[str, Any]:
    task = ClipTask(
        bucket=clip["bucket"],
        key=clip["key"],
        etag=clip.get("etag"),
        version_id=clip.get("version_id"),
        size=clip.get("size"),
    )
    outcome = process_clip(task, runtime.deps, attempt=attempt)
    _log_outcome(outcome)
    result = outcome.result
    return {"body": result.to_message(), "status": result.status.value}


def _log_outcome(outcome: Outcome) -> None:
    result = outcome.result
    timings = result.timings.model_dump()
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
        _count(f"Error_{result.error.code.value}")
        _count("ClipErrors")
        return
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
        _count("RecordsMissing", len(outcome.missing_records))
    _count(f"Clips_{result.status.value}")
    with _metrics_lock:
        for stage in ("download", "decode", "detect", "embed", "lookup", "total"):
            metrics.add_metric(
                name=f"{stage.capitalize()}Ms",
                unit=MetricUnit.Milliseconds,
                value=timings[f"{stage}_ms"],
            )


def _send(runtime: Runtime, body: str, *, group: str, dedup: str) -> str:
    url = runtime.settings.results_queue_url
    kwargs: dict[str, Any] = {"QueueUrl": url, "MessageBody": body}
    if url.endswith(".fifo"):
        kwargs["MessageGroupId"] = hashlib.sha256(group.encode()).hexdigest()[:64]
        kwargs["MessageDeduplicationId"] = hashlib.sha256(dedup.encode()).hexdigest()[:128]
    response = with_retries(
        lambda: runtime.clients.sqs.send_message(**kwargs),
        what=f"SendMessage to {url}",
        attempts=runtime.settings.aws_max_attempts,
        base_s=runtime.settings.aws_backoff_base_s,
    )
    return str(response.get("MessageId", ""))


def _count(name: str, value: float = 1) -> None:
    with _metrics_lock:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


if os.environ.get("AWS_LAMBDA_RUNTIME_API"):
    # Inside Lambda: validate the configuration and load the model during the init phase
    # (full CPU, not billed against the first event's latency budget).
    get_runtime()
