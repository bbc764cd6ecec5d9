"""The embedded local stack, instrumented for reliability runs.

It is ``tools local``'s stack (moto server in its own process, deployed by the same deploy
code, cloud-handler's local runner), with three additions:

* two :class:`~.relay.Relay` relays in front of moto: the runner and the edge talk to the
  first, the runner's DynamoDB client (``AWS_ENDPOINT_URL_DYNAMODB``) to the second. An
  outage is made by shutting a relay (connections refused/reset) while moto, in its own
  process, keeps every bucket, queue, table and message; or by freezing moto (SIGSTOP);
* a tap: a queue subscribed to the results topic without a filter records every result in
  an :class:`~.book.AnswerBook`: an independent count of what the cloud side answered, per
  clip, whatever the devices (each on its own route) do with them;
* start, SIGKILL and restart of the local runner.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psutil

from rollcall_tools.dlq import queue_counts
from rollcall_tools.local.moto import MotoServer
from rollcall_tools.local.processes import clean_environment
from rollcall_tools.local.stack import (
    deploy_local,
    local_target,
    runner_env,
    runner_executable,
    serve_arguments,
    start_moto,
)
from rollcall_tools.local.state import LocalState
from rollcall_tools.reliability.book import AnswerBook
from rollcall_tools.reliability.relay import Relay
from rollcall_tools.stack.devices import Devices
from rollcall_tools.stack.names import StackNames
from rollcall_tools.stack.settings import (
    DEFAULT_TIMEOUT_S,
    QUEUE_MAX_RECEIVES,
    VISIBILITY_PER_TIMEOUT,
)

log = logging.getLogger(__name__)

OutageMode = str  # "refuse" (relay shut) or "freeze" (SIGSTOP)
OUTAGE_MODES = ("refuse", "freeze")


def default_workers() -> int:
    """Local runner workers sized to the machine: one per core."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


@dataclass
class StackOptions:
    """How to build the instrumented stack."""

    work_dir: Path
    workers: int = 1
    stack: str = "rollcall"
    region: str = "us-east-1"
    model_dir: Path | None = None
    max_receives: int = QUEUE_MAX_RECEIVES
    """Deliveries of a failing message before the events queue dead-letters it."""
    visibility_s: int | None = None
    """The events queue's visibility timeout: the stack is deployed with a function timeout of
    1/6 of it (at least 1 s), as deploy does; None: deploy's default (30 s, 180 s)."""


class Collector:
    """Threads draining the tap queue into an :class:`AnswerBook`."""

    def __init__(self, sqs: Any, queue_url: str, book: AnswerBook, *, threads: int = 2) -> None:
        self.sqs, self.queue_url, self.book = sqs, queue_url, book
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name=f"collector-{i}", daemon=True)
            for i in range(threads)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                reply = self.sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                )
            except Exception as exc:
                log.warning("collector: receive failed (%s)", exc)
                self._stop.wait(0.5)
                continue
            now = time.time()
            for message in reply.get("Messages", []):
                try:
                    self.book.add_message(message["Body"], now)
                    self.sqs.delete_message(
                        QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                    )
                except Exception as exc:
                    log.warning("collector: could not handle a message (%s)", exc)


class InstrumentedStack:
    """Start with :meth:`start` (or ``with``); everything started is stopped by :meth:`stop`."""

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.book = AnswerBook()
        self.state: LocalState | None = None
        self.relay: Relay | None = None
        self.dynamodb_relay: Relay | None = None
        self.moto: MotoServer | None = None
        self.runner: subprocess.Popen[bytes] | None = None
        self.collector: Collector | None = None
        self.outputs: dict[str, Any] = {}
        self.runner_starts = 0

    # -- lifecycle --------------------------------------------------------------------------
    def __enter__(self) -> InstrumentedStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        o = self.options
        state_dir = o.work_dir / "stack"
        timeout = DEFAULT_TIMEOUT_S
        if o.visibility_s is not None:
            timeout = max(1, o.visibility_s // VISIBILITY_PER_TIMEOUT)
        try:
            self.moto, self.state = start_moto(
                o.work_dir,
                state_dir,
                region=o.region,
                stack=o.stack,
                model_dir=str(o.model_dir) if o.model_dir else None,
                workers=o.workers,
                timeout_s=timeout,
            )
            port = self.state.port
            self.relay = Relay(port)
            self.relay.open()
            self.dynamodb_relay = Relay(port)
            self.dynamodb_relay.open()
            deployed = deploy_local(
                local_target(port, o.region),
                o.stack,
                timeout_s=timeout,
                max_receives=o.max_receives,
                model_dir=o.model_dir,
            )
            self.outputs = deployed.outputs()
            sqs = self.client("sqs", direct=True)
            self.collector = Collector(sqs, self._tap(sqs), self.book)
            self.collector.start()
            self.start_runner()
        except BaseException:
            self.stop()
            raise

    def _tap(self, sqs: Any) -> str:
        """A queue subscribed to the results topic without a filter (raw): every result."""
        url = sqs.create_queue(
            QueueName=f"{self.options.stack}-results-tap",
            Attributes={"VisibilityTimeout": "30", "SqsManagedSseEnabled": "true"},
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        self.client("sns").subscribe(
            TopicArn=str(self.outputs["results_topic_arn"]),
            Protocol="sqs",
            Endpoint=arn["QueueArn"],
            Attributes={"RawMessageDelivery": "true"},
        )
        return str(url)

    def stop(self) -> None:
        """Stop the runner, the collector, the relays and moto (whatever is running)."""
        if self.runner is not None:
            _stop_group(self.runner, timeout_s=15)
            self.runner = None
        if self.collector is not None:
            self.collector.stop()
            self.collector = None
        for relay in (self.relay, self.dynamodb_relay):
            if relay is not None:
                relay.close()
        if self.moto is not None:
            self.moto.stop()
            self.moto = None

    # -- endpoints and clients --------------------------------------------------------------
    @property
    def direct_url(self) -> str:
        """moto itself (the harness's own observers use it; never shut)."""
        assert self.state is not None
        return self.state.endpoint_url

    @property
    def endpoint_url(self) -> str:
        """What the system under test talks to: the relay."""
        assert self.relay is not None
        return self.relay.url

    def client(self, service: str, *, direct: bool = True) -> Any:
        assert self.state is not None
        if direct:
            port = self.state.port
        else:
            assert self.relay is not None
            port = self.relay.port
        return local_target(port, self.options.region).client(service)

    @property
    def bucket(self) -> str:
        return str(self.outputs["bucket"])

    def queue_url(self, name: str) -> str:
        return str(self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])

    def queue_depth(self, name: str) -> tuple[int, int]:
        """(visible, in flight) messages of queue ``name``."""
        return queue_counts(self.client("sqs"), self.queue_url(name))

    @property
    def names(self) -> StackNames:
        """The stack's resource names."""
        return StackNames(self.options.stack, self.options.region, str(self.outputs["account"]))

    def add_device(self, device_id: str) -> str:
        """Register a device (its own results route, as `tools devices add` does); the name of
        its results queue."""
        assert self.state is not None
        target = local_target(self.state.port, self.options.region)
        Devices(target, self.names).add([device_id])
        return self.names.device_queue(device_id)

    def edge_env(self, results_queue: str) -> dict[str, str]:
        """Environment for an edge-capture process aimed at this stack (through the relay),
        reading ``results_queue`` (its device's, from :meth:`add_device`)."""
        env = clean_environment()
        env.update(
            {
                "AWS_REGION": self.options.region,
                "AWS_DEFAULT_REGION": self.options.region,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "ROLLCALL_ENDPOINT_URL": self.endpoint_url,
                "ROLLCALL_BUCKET": self.bucket,
                "ROLLCALL_RESULTS_QUEUE": results_queue,
            }
        )
        return env

    # -- the local runner -------------------------------------------------------------------
    def start_runner(self) -> subprocess.Popen[bytes]:
        """Start ``cloud-handler serve`` on the events queue, through the relays: botocore's
        own endpoint variables send its DynamoDB calls to the second relay, the rest to the
        first."""
        assert self.state is not None and self.relay is not None and self.dynamodb_relay is not None
        state = replace(self.state, outputs=self.outputs, workers=self.options.workers)
        command = [runner_executable(), *serve_arguments(state)]
        env = runner_env(state, self.outputs)
        del env["ROLLCALL_ENDPOINT_URL"]
        env["AWS_ENDPOINT_URL"] = self.relay.url
        env["AWS_ENDPOINT_URL_DYNAMODB"] = self.dynamodb_relay.url
        env.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        self.runner_starts += 1
        log_path = self.options.work_dir / f"runner-{self.runner_starts}.log"
        with log_path.open("ab") as log_file:
            self.runner = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own group: the workers die with it
            )
        return self.runner

    def kill_runner(self) -> int:
        """SIGKILL the runner's whole process group (a worker dies mid-clip); returns its pid."""
        assert self.runner is not None
        pid = self.runner.pid
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        self.runner.wait(10)
        self.runner = None
        return pid

    def workers(self) -> list[psutil.Process]:
        """The runner's worker processes (multiprocessing children, not its resource tracker)."""
        if self.runner is None or self.runner.poll() is not None:
            return []
        proc = psutil.Process(self.runner.pid)
        out = []
        for child in proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if "resource_tracker" not in " ".join(child.cmdline()):
                    out.append(child)
        return out

    def kill_busiest_worker(self, sample_s: float = 0.3) -> int | None:
        """SIGKILL the worker using the most CPU right now (the one mid-clip); its pid."""
        workers = self.workers()
        for worker in workers:
            with contextlib.suppress(psutil.Error):
                worker.cpu_percent(None)
        time.sleep(sample_s)
        busy: list[tuple[float, psutil.Process]] = []
        for worker in workers:
            with contextlib.suppress(psutil.Error):
                busy.append((worker.cpu_percent(None), worker))
        if not busy:
            return None
        _, victim = max(busy, key=lambda item: item[0])
        victim.send_signal(signal.SIGKILL)
        with contextlib.suppress(psutil.Error):
            victim.wait(5)
        return int(victim.pid)

    def runner_alive(self) -> bool:
        return self.runner is not None and self.runner.poll() is None and bool(self.workers())

    def runner_cpu_s(self) -> float:
        """CPU seconds used so far by the running runner (and its children)."""
        if self.runner is None or self.runner.poll() is not None:
            return 0.0
        return _cpu_s(psutil.Process(self.runner.pid))

    def server_cpu_s(self) -> float:
        if self.moto is None:
            return 0.0
        return _cpu_s(psutil.Process(self.moto.pid))

    # -- outages ----------------------------------------------------------------------------
    def outage(self, seconds: float, mode: OutageMode = "refuse") -> None:
        """Make the endpoint unavailable for ``seconds`` (blocking), then bring it back."""
        assert self.moto is not None
        if mode == "freeze":
            self.moto.freeze()
            try:
                time.sleep(seconds)
            finally:
                self.moto.thaw()
            return
        relays = [r for r in (self.relay, self.dynamodb_relay) if r is not None]
        for relay in relays:
            relay.shut()
        try:
            time.sleep(seconds)
        finally:
            for relay in relays:
                relay.open()


def _stop_group(proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    """SIGTERM a process group we started, SIGKILL it after ``timeout_s``; reap the leader."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout_s)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # leftovers of the group (workers)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(10)


def _cpu_s(proc: psutil.Process) -> float:
    total = 0.0
    with contextlib.suppress(psutil.Error):
        times = proc.cpu_times()
        total += times.user + times.system
        for child in proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                t = child.cpu_times()
                total += t.user + t.system
    return total
