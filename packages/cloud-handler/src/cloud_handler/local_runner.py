"""Run the handler locally: the stand-in for Lambda's SQS event source mapping.

S3 (the local bucket) notifies the events queue; each worker receives up to
``batch_size`` messages, turns them into the SQS event Lambda would deliver, calls the
handler with a context whose deadline is the function timeout, and deletes only the
messages the handler did not report in ``batchItemFailures``. Like the mapping it never
changes a message's visibility: a failed message comes back after the queue's own
visibility timeout, and the queue's redrive policy moves one that keeps failing to its
dead-letter queue after ``maxReceiveCount`` receives. Workers (the mapping's maximum
concurrency) are processes, each with its own model and the handler's module-level state,
as each Lambda execution environment has; :func:`run_worker` runs one worker in the calling
thread (tests, and the bench's in-process timings).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from cloud_handler.aws import client, session
from cloud_handler.context import LocalContext

log = logging.getLogger(__name__)
Handler = Callable[[dict[str, Any], Any], Mapping[str, Any]]


class RunnerError(RuntimeError):
    """The runner cannot start: the queue is unknown or the endpoint is unreachable."""

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


@dataclass(frozen=True)
class RunnerConfig:
    """Where to poll and how."""

    queue: str
    endpoint_url: str | None = None
    region: str = "us-east-1"
    workers: int = 2
    """Worker processes (:func:`run_local`; :func:`run_worker` is one, in this thread)."""
    batch_size: int = 10
    wait_time_s: int = 5
    function_timeout_s: float = 30.0
    """The handler's deadline (``LocalContext``), like the deployed function's timeout."""
    threads_per_worker: int | None = None


@dataclass
class RunnerStats:
    """Messages received, deleted (succeeded) and left for redelivery (failed)."""

    received: int = 0
    succeeded: int = 0
    failed: int = 0
    batches: int = 0

    def add(self, received: int, succeeded: int, failed: int) -> None:
        """Count one handled batch."""
        self.received += received
        self.succeeded += succeeded
        self.failed += failed
        self.batches += 1


def sqs_client(endpoint_url: str | None, region: str) -> Any:
    """An SQS client (the package's one client factory) whose read timeout allows 20 s long
    polls."""
    return client(session(region), "sqs", endpoint_url=endpoint_url, read_timeout_s=30)


def resolve_queue(sqs: Any, queue: str) -> tuple[str, str]:
    """(URL, ARN) of a queue given by name or URL.

    Raises:
        RunnerError: no such queue, or the endpoint cannot be reached.
    """
    url, attributes = _queue(sqs, queue)
    return url, attributes["QueueArn"]


def check_visibility(sqs: Any, queue: str, function_timeout_s: float) -> int:
    """The queue's visibility timeout; logs a warning when it is under six times the
    function timeout (AWS's advice for event source mappings: a message must not come
    back while an invocation may still be working on it)."""
    _, attributes = _queue(sqs, queue)
    visibility = int(attributes.get("VisibilityTimeout", "30"))
    if visibility < 6 * function_timeout_s:
        log.warning(
            "the events queue's visibility timeout (%s s) is under 6x the function timeout "
            "(%s s): a slow batch may be delivered twice",
            visibility,
            function_timeout_s,
        )
    return visibility


def _queue(sqs: Any, queue: str) -> tuple[str, dict[str, str]]:
    try:
        url = queue if queue.startswith(("http://", "https://")) else None
        if url is None:
            url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn", "VisibilityTimeout"]
        )["Attributes"]
    except ClientError as exc:
        raise RunnerError(f"events queue {queue!r}: {exc}") from None
    except BotoCoreError as exc:
        raise RunnerError(f"events queue {queue!r}: {exc}", unreachable=True) from None
    return url, attributes


def to_lambda_event(messages: list[dict[str, Any]], arn: str, region: str) -> dict[str, Any]:
    """The event Lambda's SQS event source mapping would deliver for ``messages``."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m.get("Body", ""),
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def poll_once(
    sqs: Any, url: str, arn: str, config: RunnerConfig, *, handler: Handler, stats: Any
) -> int:
    """Receive one batch, run it through ``handler``, delete what succeeded. Returns received.

    The messages stay invisible for the queue's own visibility timeout; failures are left
    alone to come back after it (or to move to the dead-letter queue).
    """
    response = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=config.batch_size,
        WaitTimeSeconds=config.wait_time_s,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    messages = response.get("Messages", [])
    if not messages:
        return 0
    event = to_lambda_event(messages, arn, config.region)
    context = LocalContext(timeout_s=config.function_timeout_s)
    try:
        result = handler(event, context)
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
    except Exception:
        log.exception("handler raised; the whole batch will be redelivered")
        failed = {m["MessageId"] for m in messages}
    done = [m for m in messages if m["MessageId"] not in failed]
    for start in range(0, len(done), 10):
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(done[start : start + 10])
            ],
        )
    stats.add(len(messages), len(done), len(messages) - len(done))
    return len(messages)


def _worker_loop(config: RunnerConfig, stop: Any, handler: Handler, stats: Any) -> None:
    sqs = sqs_client(config.endpoint_url, config.region)
    url, arn = resolve_queue(sqs, config.queue)
    while not stop.is_set():
        try:
            poll_once(sqs, url, arn, config, handler=handler, stats=stats)
        except (ClientError, BotoCoreError) as exc:
            log.warning("polling %s failed: %s; retrying in 1 s", url, exc)
            stop.wait(1.0)


def _default_handler() -> Handler:
    from cloud_handler.handler import lambda_handler

    return cast(Handler, lambda_handler)


def run_local(config: RunnerConfig, *, stop: threading.Event | None = None) -> RunnerStats:
    """Poll with ``config.workers`` worker processes until ``stop`` is set; return counts.

    Raises:
        RunnerError: the queue does not exist or the endpoint is unreachable.
    """
    check_visibility(
        sqs_client(config.endpoint_url, config.region), config.queue, config.function_timeout_s
    )
    return _run_processes(config, stop or threading.Event())


def run_worker(
    config: RunnerConfig, *, stop: threading.Event, handler: Handler | None = None
) -> RunnerStats:
    """One worker in the calling thread (``config.workers`` aside): poll and run each batch
    through ``handler`` (default: the Lambda handler) until ``stop`` is set; return counts.

    Raises:
        RunnerError: the queue does not exist or the endpoint is unreachable.
    """
    check_visibility(
        sqs_client(config.endpoint_url, config.region), config.queue, config.function_timeout_s
    )
    stats = RunnerStats()
    _worker_loop(config, stop, handler or _default_handler(), stats)
    return stats


RESPAWN_AFTER_S = 10.0
"""A worker that dies after running this long is replaced; one dying sooner is a crash loop."""


def _run_processes(config: RunnerConfig, stop: threading.Event) -> RunnerStats:
    ctx = multiprocessing.get_context("spawn")
    mp_stop = ctx.Event()
    counters = ctx.Array("q", 4)

    def start(i: int) -> tuple[Any, float]:
        proc = ctx.Process(
            target=_process_main, args=(config, mp_stop, counters), name=f"worker-{i}"
        )
        proc.start()
        return proc, time.monotonic()

    workers = [start(i) for i in range(config.workers)]
    procs = [proc for proc, _ in workers]
    try:
        while not stop.is_set():
            dead = [(i, t) for i, (proc, t) in enumerate(workers) if not proc.is_alive()]
            if len(dead) == len(workers) and all(
                time.monotonic() - started < RESPAWN_AFTER_S for _, started in dead
            ):
                break  # every worker died right after starting: a crash loop, not a fault
            for i, started in dead:
                if time.monotonic() - started < RESPAWN_AFTER_S:
                    continue
                proc = workers[i][0]
                # A killed worker's messages come back after the visibility timeout; keep
                # the pool at full strength so that they (and new ones) are served.
                log.warning(
                    "worker %s exited with code %s; starting a replacement", i, proc.exitcode
                )
                workers[i] = start(i)
                procs.append(workers[i][0])
            stop.wait(0.2)
    finally:
        mp_stop.set()
        for proc in procs:
            proc.join(timeout=config.function_timeout_s + config.wait_time_s)
            if proc.is_alive():
                proc.terminate()
                proc.join()
    return RunnerStats(*counters[:4])


def _process_main(config: RunnerConfig, stop: Any, counters: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threads = config.threads_per_worker or max(1, (os.cpu_count() or 1) // config.workers)
    os.environ.setdefault("ROLLCALL_THREADS", str(threads))
    stats = _SharedStats(counters)
    _worker_loop(config, stop, _default_handler(), stats)


class _SharedStats:
    """RunnerStats over a shared array (the worker processes')."""

    def __init__(self, counters: Any) -> None:
        self.counters = counters

    def add(self, received: int, succeeded: int, failed: int) -> None:
        with self.counters.get_lock():
            self.counters[0] += received
            self.counters[1] += succeeded
            self.counters[2] += failed
            self.counters[3] += 1
