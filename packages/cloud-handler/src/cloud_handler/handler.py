"""The Lambda entry point: an SQS batch of S3 notifications in, one published result per object.

Fed by an SQS event source mapping with ``ReportBatchItemFailures`` (on AWS) or by
``cloud-handler serve`` (locally); S3 notifies the events queue of every object created.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloud_handler.answer import malformed_payload
from cloud_handler.aws import describe, result_code
from cloud_handler.events import Ignored, Item, Malformed, parse_record
from cloud_handler.observability import count, logger, metrics
from cloud_handler.runtime import get_runtime
from shared_schema import MAX_ATTEMPT

__all__ = ["lambda_handler", "logger", "metrics"]

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
"""One batch at a time per process, as Powertools shapes it (module level)."""


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Answer every object the batch's S3 notifications name; returns
    ``{"batchItemFailures": [...]}`` naming only the records to deliver again.

    Raises:
        ConfigError: the environment does not configure the handler (nothing is deleted).
    """
    records = event.get("Records") if isinstance(event, dict) else None
    try:
        runtime = get_runtime()  # ConfigError here names every missing variable
        runtime.idempotency.register_lambda_context(context)  # in-progress expiry = deadline
        if not isinstance(records, list) or not all(
            isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records
        ):
            logger.error("malformed event", extra={"reason": "not an SQS batch event"})
            count("MalformedEvents")
            return {"batchItemFailures": []}
        return process_partial_response(
            event=event, record_handler=_record, processor=processor, context=context
        )
    finally:  # last, so that the invocation never flushes an empty metric set
        count("Records", len(records) if isinstance(records, list) else 0)


def _record(record: SQSRecord) -> None:
    """Answer every item of one SQS record; raise (the record fails) when any must be retried."""
    # a queue without a redrive policy may deliver more often than a result can say
    attempt = min(int(record.attributes.approximate_receive_count or 1), MAX_ATTEMPT)
    failures = []
    for item in parse_record(record):
        try:
            _item(item, attempt, source=record.message_id)
        except Exception as exc:  # the others still get their answer
            failures.append(exc)
    if failures:
        raise failures[0]


def _item(item: Item, attempt: int, *, source: str) -> None:
    if isinstance(item, Ignored):
        logger.info("event ignored", extra={"reason": item.reason, "source": source})
        count("IgnoredEvents")
        return
    if isinstance(item, Malformed):
        logger.error(
            "malformed event",
            extra={"reason": item.reason, "bucket": item.bucket, "key": item.key, "source": source},
        )
        count("MalformedEvents")
        if item.bucket and item.key:  # the object is known: it gets an error result
            _answer(item.key, malformed_payload(item), attempt)
        return
    _answer(item.key, item.as_payload(), attempt)


def _answer(key: str, payload: dict[str, Any], attempt: int) -> None:
    logger.append_keys(correlation_id=key)
    try:
        _, replayed = get_runtime().answer(payload, attempt)
    except IdempotencyAlreadyInProgressError:
        logger.info("clip in progress elsewhere; this delivery will be retried")
        count("InProgressElsewhere")
        raise
    except Exception as exc:
        cause = exc.__cause__ if exc.__cause__ is not None else exc
        code = result_code(cause)
        logger.warning(
            "clip not answered; this delivery will be retried",
            extra={
                "reason": describe(cause),
                "error_code": code.value if code is not None else "transient",
                "attempt": attempt,
            },
        )
        count("RetriedDeliveries")
        raise
    else:
        if replayed:
            logger.info("duplicate delivery answered from the idempotency store")
            count("DuplicateDeliveries")
    finally:
        logger.remove_keys(["correlation_id"])


if os.environ.get("AWS_LAMBDA_RUNTIME_API"):
    # Inside Lambda: validate the configuration and load the model during the init phase
    # (full CPU, not billed against the first event's latency budget).
    get_runtime()
