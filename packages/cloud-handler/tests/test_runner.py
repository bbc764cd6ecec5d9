"""The local runner, the event source mapping's stand-in: long-poll, invoke, delete only
successes, leave visibility and redrive to the queue; a killed worker's clip is redelivered
and answered once; SIGTERM stops ``cloud-handler serve`` cleanly. In-process tests run one
worker in a thread (``run_worker``); ``serve`` runs worker processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cloud_handler.events import ClipTask
from cloud_handler.local_runner import RunnerConfig, RunnerStats, run_local, run_worker
from rollcall_testkit.handler_stack import (
    Stack,
    body,
    clip_key,
    expire_in_progress,
    leave_in_progress,
    make_stack,
    s3_event,
    wait_until,
)
from shared_schema import RecognitionResult, ResultStatus

pytestmark = pytest.mark.slow


def _queue_empty(stack: Stack) -> bool:
    attrs = stack.sqs.get_queue_attributes(
        QueueUrl=stack.events_queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return attrs == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }


def _collect(stack: Stack, into: list[RecognitionResult], n: int, timeout_s: float) -> bool:
    def enough() -> bool:
        into.extend(stack.results())
        return len(into) >= n

    return wait_until(enough, timeout_s, 0.1)


def _notify(stack: Stack, record: dict[str, Any]) -> None:
    stack.sqs.send_message(QueueUrl=stack.events_queue_url, MessageBody=body(s3_event(record)))


def _visibility(stack: Stack, seconds: int) -> None:
    stack.sqs.set_queue_attributes(
        QueueUrl=stack.events_queue_url, Attributes={"VisibilityTimeout": str(seconds)}
    )


def _start(
    stack: Stack, **overrides: Any
) -> tuple[threading.Event, threading.Thread, list[RunnerStats]]:
    settings: dict[str, Any] = {"function_timeout_s": 10, **overrides}
    config = RunnerConfig(
        queue=stack.events_queue_url.rsplit("/", 1)[1],  # by name, as `serve --queue` takes it
        endpoint_url=stack.endpoint,
        wait_time_s=1,
        **settings,
    )
    stop = threading.Event()
    box: list[RunnerStats] = []
    thread = threading.Thread(target=lambda: box.append(run_worker(config, stop=stop)))
    thread.start()
    return stop, thread, box


def _said(logs: list[dict[str, Any]], message: str) -> Callable[[], bool]:
    return lambda: any(line["message"].startswith(message) for line in logs)


def test_runner_answers_every_clip_and_deletes_only_successes(
    stack: Stack, clip_bytes: Callable[..., bytes], logs: list[dict[str, Any]]
) -> None:
    records = [
        stack.put(clip_key(40), clip_bytes(320, 240, faces=0)),
        stack.put(clip_key(41), clip_bytes(640, 480, faces=1)),
        stack.put(clip_key(42), b"not a video" * 50),
    ]
    busy = stack.put(clip_key(43), clip_bytes(320, 240, faces=0, duration_s=0.4))
    for record in records:
        _notify(stack, record)
    _visibility(stack, 3)
    stop, thread, box = _start(stack, function_timeout_s=0.5)
    results: list[RecognitionResult] = []
    try:
        assert _collect(stack, results, 3, 120)
        # another worker "holds" clip 43: its message fails and is left alone; that worker's
        # deadline passes, and the message comes back after the queue's visibility timeout
        obj = busy["s3"]["object"]
        task = ClipTask(
            stack.bucket, clip_key(43), obj["eTag"], None, obj["size"], None, busy["eventTime"]
        )
        leave_in_progress(stack, task.as_payload(), remaining_ms=600_000)
        _notify(stack, busy)
        assert wait_until(_said(logs, "clip in progress elsewhere"), 60)
        assert expire_in_progress(stack) == 1
        assert _collect(stack, results, 4, 60)
        assert wait_until(lambda: _queue_empty(stack), 30)
    finally:
        stop.set()
        thread.join()
    statuses = {r.clip.key: r.status for r in results}
    assert statuses == {
        clip_key(40): ResultStatus.NO_FACE,
        clip_key(41): ResultStatus.UNKNOWN,
        clip_key(42): ResultStatus.ERROR,
        clip_key(43): ResultStatus.NO_FACE,
    }
    [stats] = box
    # a batch outliving the visibility timeout is received again: answered from the store
    assert stats.succeeded >= 4
    assert stats.failed >= 1  # clip 43 was refused while "in progress" elsewhere
    assert stats.received == stats.succeeded + stats.failed


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """An endpoint that accepts connections and never answers (a call to it hangs)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_worker_killed_mid_clip_then_serve_stops_on_sigterm(
    stack: Stack, clip_bytes: Callable[..., bytes], silent_endpoint: str
) -> None:
    """A real ``cloud-handler serve`` is SIGKILLed while a clip is in progress (its publish
    hangs: SNS never answers it); once that worker's deadline has passed, a new one answers
    the redelivered message exactly once, then exits 0 on SIGTERM."""
    record = stack.put(clip_key(44), clip_bytes(1280, 720, faces=3))
    _visibility(stack, 2)
    env = {**os.environ, "ROLLCALL_THREADS": "1"}
    serve = [
        sys.executable, "-m", "cloud_handler", "serve", "--queue", stack.events_queue_url,
        "--workers", "1", "--wait-time", "1", "--function-timeout", "1",
    ]  # fmt: skip
    hangs = {  # botocore's endpoint resolution: moto, except SNS
        **{k: v for k, v in env.items() if k != "ROLLCALL_ENDPOINT_URL"},
        "AWS_ENDPOINT_URL": stack.endpoint,
        "AWS_ENDPOINT_URL_SNS": silent_endpoint,
    }

    def in_progress() -> bool:
        items = stack.dynamodb.scan(TableName=stack.idempotency_table)["Items"]
        return any(i["status"]["S"] == "INPROGRESS" for i in items)

    first = subprocess.Popen(
        serve,
        env=hangs,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _notify(stack, record)
        assert wait_until(in_progress, 120), "the worker never started the clip"
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert not stack.results()
    assert expire_in_progress(stack) == 1  # the dead worker's deadline (1 s) passes
    second = subprocess.Popen(
        [*serve, "--endpoint-url", stack.endpoint],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    results: list[RecognitionResult] = []
    try:
        assert _collect(stack, results, 1, 120)
        assert wait_until(lambda: _queue_empty(stack), 30)
    finally:
        second.send_signal(signal.SIGTERM)
        _, stderr = second.communicate(timeout=60)
    assert second.returncode == 0, stderr
    assert b"stopped:" in stderr
    [result] = results
    assert result.status is ResultStatus.UNKNOWN
    assert len(result.faces) == 3
    assert result.attempt == 2
    assert not stack.results()


def test_process_runner_replaces_a_killed_worker(
    stack: Stack, clip_bytes: Callable[..., bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker process SIGKILLed by the OOM killer or a fault must not shrink the pool."""
    import multiprocessing

    from cloud_handler import local_runner

    monkeypatch.setattr(local_runner, "RESPAWN_AFTER_S", 0.0)  # any death is a fault
    config = RunnerConfig(
        queue=stack.events_queue_url,
        endpoint_url=stack.endpoint,
        workers=1,
        wait_time_s=1,
        function_timeout_s=10,
        threads_per_worker=1,
    )
    stop = threading.Event()
    thread = threading.Thread(target=run_local, args=(config,), kwargs={"stop": stop})
    thread.start()
    results: list[RecognitionResult] = []
    try:
        assert wait_until(lambda: len(multiprocessing.active_children()) == 1, 30)
        [first] = multiprocessing.active_children()
        os.kill(first.pid or 0, signal.SIGKILL)

        def replaced() -> bool:
            children = multiprocessing.active_children()
            return len(children) == 1 and children[0].pid != first.pid

        assert wait_until(replaced, 30), "the dead worker was not replaced"
        _notify(stack, stack.put(clip_key(45), clip_bytes(320, 240, faces=0)))
        assert _collect(stack, results, 1, 120)
    finally:
        stop.set()
        thread.join()
    assert [r.clip.key for r in results] == [clip_key(45)]


def test_a_message_that_keeps_failing_ends_in_the_dead_letter_queue(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runner neither deletes a failed message nor changes its visibility: SQS's own
    redrive policy moves it to the dead-letter queue after maxReceiveCount (2) receives."""
    from cloud_handler import local_runner

    stack = make_stack(moto_endpoint, events_visibility_s=1, events_redrive=2)
    calls: list[tuple[str, dict[str, Any]]] = []
    make_client = local_runner.sqs_client

    def recording_client(endpoint_url: str | None, region: str) -> Any:
        client = make_client(endpoint_url, region)
        client.meta.events.register(
            "provide-client-params.sqs.*",
            lambda params, model, **_: calls.append((model.name, dict(params))) and None,
        )
        return client

    monkeypatch.setattr(local_runner, "sqs_client", recording_client)
    seen: list[tuple[str, str]] = []

    def failing(event: dict[str, Any], context: Any) -> dict[str, Any]:
        records = event["Records"]
        seen.extend((r["body"], r["attributes"]["ApproximateReceiveCount"]) for r in records)
        ok = [r for r in records if r["body"] == "ok"]
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]} for r in records if r not in ok
            ]
        }

    for text in ("poison", "ok"):
        stack.sqs.send_message(QueueUrl=stack.events_queue_url, MessageBody=text)
    config = RunnerConfig(
        queue=stack.events_queue_url, endpoint_url=stack.endpoint,
        wait_time_s=1, batch_size=10, function_timeout_s=0.1,
    )  # fmt: skip
    stop = threading.Event()
    box: list[RunnerStats] = []
    thread = threading.Thread(
        target=lambda: box.append(run_worker(config, stop=stop, handler=failing))
    )
    thread.start()
    dlq = stack.sqs.get_queue_url(QueueName=stack.events_queue_url.rsplit("/", 1)[1] + "-dlq")
    try:

        def dead_lettered() -> bool:
            attrs = stack.sqs.get_queue_attributes(
                QueueUrl=dlq["QueueUrl"], AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
            return attrs["ApproximateNumberOfMessages"] == "1"

        assert wait_until(dead_lettered, 30)
        assert wait_until(lambda: _queue_empty(stack), 10)
    finally:
        stop.set()
        thread.join()
    assert sorted(seen) == [("ok", "1"), ("poison", "1"), ("poison", "2")]
    [dead] = stack.sqs.receive_message(QueueUrl=dlq["QueueUrl"])["Messages"]
    assert dead["Body"] == "poison"
    [stats] = box
    assert (stats.received, stats.succeeded, stats.failed) == (3, 1, 2)
    operations = {name for name, _ in calls}
    assert "ChangeMessageVisibility" not in operations
    assert "ChangeMessageVisibilityBatch" not in operations
    receives = [params for name, params in calls if name == "ReceiveMessage"]
    assert receives and all("VisibilityTimeout" not in p for p in receives)
    assert all(p["MaxNumberOfMessages"] == 10 for p in receives)  # the batch size
    [deleted] = [p for name, p in calls if name == "DeleteMessageBatch"]
    assert len(deleted["Entries"]) == 1  # only the message the handler did not report
