"""Bring the embedded local stack up and down: moto server, deploy, seed, local runner.

The local runner (``cloud-handler serve``) stands in for the event source mapping: it takes
batches of ``batch_size`` from the events queue, under the queue's own visibility timeout
and redrive policy, with ``timeout_s`` as the handler's deadline and ``workers`` in place of
the mapping's maximum concurrency.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rollcall_tools.aws import LOCAL_CREDENTIALS, AwsTarget, aws_errors
from rollcall_tools.errors import ConfigError, ToolsError
from rollcall_tools.local import processes
from rollcall_tools.local.moto import MotoServer
from rollcall_tools.local.probe import PROBE_DEVICE, wait_until_answering
from rollcall_tools.local.processes import ProcessRecord
from rollcall_tools.local.state import LocalState
from rollcall_tools.seed import seed_records
from rollcall_tools.stack.buckets import Buckets
from rollcall_tools.stack.deploy import Stack
from rollcall_tools.stack.devices import Devices
from rollcall_tools.stack.names import StackNames
from rollcall_tools.stack.settings import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_TIMEOUT_S,
    QUEUE_MAX_RECEIVES,
    StackSettings,
)
from shared_schema import StudentRecord

RUNNER_SETTLE_S = 1.5
RUNNER_POLL_S = 2
"""The runner's long poll: a worker sees a stop request after at most this long, so `down`
is quick (the mapping's 20 s polls would only save requests to a local server)."""
Say = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def local_target(port: int, region: str) -> AwsTarget:
    return AwsTarget(region=region, endpoint_url=f"http://127.0.0.1:{port}")


def deploy_local(
    target: AwsTarget,
    stack: str,
    *,
    timeout_s: int = DEFAULT_TIMEOUT_S,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_receives: int = QUEUE_MAX_RECEIVES,
    buckets: Buckets | None = None,
    model_dir: Path | None = None,
) -> Stack:
    """Deploy the local flavour of the stack (no Lambda: the runner consumes the events
    queue) into ``target``; ``buckets``: the upload and output buckets' names and format;
    the people of ``model_dir``'s gallery go into its face library."""
    from rollcall_tools.faces.seed import import_gallery

    buckets = buckets or Buckets()
    settings = StackSettings(
        local=True,
        timeout_s=timeout_s,
        batch_size=batch_size,
        max_receives=max_receives,
        output_format=buckets.output_format,
    )
    deployed = Stack.resolve(target, stack, settings, **buckets.names())
    deployed.deploy()
    if model_dir is not None:
        import_gallery(target, deployed.names, model_dir)
    return deployed


def runner_executable() -> str:
    """The ``cloud-handler`` console script of this environment."""
    beside = Path(sys.executable).with_name("cloud-handler")
    if beside.exists():
        return str(beside)
    found = shutil.which("cloud-handler")
    if found is None:
        raise ConfigError(
            "cloud-handler's CLI is not installed in this environment: run `uv sync` in the "
            "repository root"
        )
    return found


def runner_env(state: LocalState, outputs: dict[str, Any]) -> dict[str, str]:
    """The local runner's environment: the handler's env vars (api.md) for this stack, and
    torch threads sized so that the workers share this machine's cores."""
    threads = max(1, (os.cpu_count() or 1) // max(1, state.workers))
    env = processes.clean_environment(keep=("ROLLCALL_SHARED_MODELS", "ROLLCALL_MODEL_CACHE"))
    env.update(
        {
            "AWS_REGION": state.region,
            "AWS_DEFAULT_REGION": state.region,
            "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
            "ROLLCALL_ENDPOINT_URL": state.endpoint_url,
            "ROLLCALL_RESULTS_TOPIC_ARN": str(outputs["results_topic_arn"]),
            "ROLLCALL_TABLE": str(outputs["students_table"]),
            "ROLLCALL_IDEMPOTENCY_TABLE": str(outputs["idempotency_table"]),
            "ROLLCALL_SIGHTINGS_TABLE": str(outputs["sightings_table"]),
            "ROLLCALL_SIGHTINGS_RETENTION_DAYS": str(outputs["sightings_retention_days"]),
            "ROLLCALL_LIBRARY_TABLE": str(outputs["library_table"]),
            "ROLLCALL_FACE_STORE": str(outputs["face_store"]),
            "ROLLCALL_THREADS": str(threads),
            "OMP_NUM_THREADS": str(threads),
        }
    )
    if state.model_dir:
        env["ROLLCALL_MODEL_DIR"] = state.model_dir
    if outputs.get("output_bucket"):
        env["ROLLCALL_OUTPUT_BUCKET"] = str(outputs["output_bucket"])
        env["ROLLCALL_OUTPUT_FORMAT"] = str(outputs["output_format"])
    return env


def serve_arguments(state: LocalState) -> list[str]:
    """``serve``'s arguments for this stack: the events queue, the mapping's batch size, the
    function timeout and the workers (the endpoint comes from :func:`runner_env`)."""
    return [
        "serve",
        "--queue",
        str(state.outputs["events_queue"]),
        "--workers",
        str(state.workers),
        "--batch-size",
        str(state.batch_size),
        "--function-timeout",
        str(state.timeout_s),
        "--wait-time",
        str(RUNNER_POLL_S),
    ]


def start_runner(state: LocalState) -> ProcessRecord:
    """Start ``cloud-handler serve`` on the events queue; fail with its log if it dies at once."""
    command = [runner_executable(), *serve_arguments(state)]
    record = processes.start(
        command, state.state_dir / "runner.log", env=runner_env(state, state.outputs)
    )
    time.sleep(RUNNER_SETTLE_S)
    if not record.alive:
        raise ToolsError(
            "the local runner (cloud-handler serve) exited at once: "
            + (processes.log_tail(record.log, 5) or "no output")
        )
    return record


def start_moto(
    log_dir: Path,
    state_dir: Path,
    *,
    region: str,
    stack: str,
    port: int = 0,
    model_dir: str | None = None,
    workers: int = 1,
    batch_size: int = DEFAULT_BATCH_SIZE,
    timeout_s: int = DEFAULT_TIMEOUT_S,
) -> tuple[MotoServer, LocalState]:
    """Start moto on ``port`` (0: any free port; its log in ``log_dir``) and the state that
    records it (not saved)."""
    moto = MotoServer(log_dir, port=port)
    moto.start()
    assert moto.record is not None
    state = LocalState(
        state_dir=state_dir,
        region=region,
        stack=stack,
        port=moto.port,
        server=moto.record,
        model_dir=model_dir,
        workers=workers,
        batch_size=batch_size,
        timeout_s=timeout_s,
    )
    return moto, state


def up(
    state_dir: Path,
    *,
    region: str,
    stack: str,
    roster: list[StudentRecord],
    model_dir: Path | None = None,
    workers: int = 1,
    batch_size: int = DEFAULT_BATCH_SIZE,
    timeout_s: int = DEFAULT_TIMEOUT_S,
    devices: list[str] | None = None,
    port: int = 0,
    buckets: Buckets | None = None,
    say: Say = _quiet,
) -> LocalState:
    """Start the whole local stack, register ``devices`` and record it; on failure, stop
    whatever was started."""
    existing = LocalState.load(state_dir)
    if existing is not None:
        if existing.server.alive:
            raise ConfigError(
                f"a local stack is already running at {existing.endpoint_url} "
                f"(state {existing.path}): run `tools local down` first"
            )
        down(state_dir)
    if model_dir is not None and not (model_dir / "manifest.json").is_file():
        raise ConfigError(f"--model-dir {model_dir}: no manifest.json there (not an artifact)")
    if model_dir is None:  # the networks only: the face library holds the people
        from rollcall_tools.faces.seed import default_networks

        model_dir = default_networks(state_dir)
    # moto outlives this command: `tools local down` stops it by its record
    _, state = start_moto(
        state_dir,
        state_dir,
        region=region,
        stack=stack,
        port=port,
        model_dir=str(model_dir.resolve()) if model_dir else None,
        workers=workers,
        batch_size=batch_size,
        timeout_s=timeout_s,
    )
    state.save()
    try:
        say(f"local AWS (moto) listening on {state.endpoint_url}")
        deployed = deploy_local(
            local_target(state.port, region),
            stack,
            timeout_s=timeout_s,
            batch_size=batch_size,
            buckets=buckets,
            model_dir=model_dir,
        )
        state.outputs = deployed.outputs()
        state.save()
        report = seed_records(deployed.target, deployed.names.students_table, roster)
        say(f"stack {stack!r} deployed; {len(report.written)} student record(s) seeded")
        state.runner = start_runner(state)
        state.save()
        deployed.devices.add([PROBE_DEVICE])
        waited = wait_until_answering(state, deployed.names.device_queue(PROBE_DEVICE))
        deployed.devices.remove([PROBE_DEVICE])
        say(
            f"local runner (cloud-handler serve, {workers} worker(s), batches of "
            f"{batch_size}, {timeout_s} s timeout) consuming "
            f"{state.outputs['events_queue']}; a probe clip was answered in {waited:.1f} s"
        )
        if devices:
            deployed.devices.add(devices)
            state.devices = {d: deployed.devices.settings(d) for d in devices}
            state.save()
            say(f"registered device(s): {', '.join(devices)}")
    except BaseException:
        down(state_dir)
        raise
    return state


def down(state_dir: Path) -> bool:
    """Stop the runner and the server recorded in ``state_dir``; True when anything ran."""
    state = LocalState.load(state_dir)
    if state is None:
        return False
    ran = False
    if state.runner is not None:
        ran |= processes.stop(state.runner, timeout_s=15)
    ran |= processes.stop(state.server)
    state.remove()
    (state_dir / "moto.ready").unlink(missing_ok=True)
    return ran


@dataclass(frozen=True)
class LocalStatus:
    """What ``tools local status`` reports."""

    running: bool
    endpoint_url: str | None
    server_alive: bool
    runner_alive: bool
    queues: dict[str, int]
    state_file: str
    devices: list[str]

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def status(state_dir: Path) -> LocalStatus:
    """Processes alive? endpoint answering? messages waiting in each queue?"""
    state = LocalState.load(state_dir)
    if state is None:
        return LocalStatus(False, None, False, False, {}, str(state_dir / "local.json"), [])
    server_alive = state.server.alive
    runner_alive = state.runner.alive if state.runner else False
    queues: dict[str, int] = {}
    devices: list[str] = []
    if server_alive and state.outputs:
        target = local_target(state.port, state.region)
        names = StackNames(state.stack, state.region, str(state.outputs["account"]))
        registry = Devices(target, names)
        devices = registry.registered()
        watched = [names.events_queue, names.events_dlq, names.foreign_queue, names.foreign_dlq]
        watched += [names.device_queue(d) for d in devices]
        for name in watched:
            with aws_errors(f"reading queue {name}"):
                queues[name] = registry.depth(name)[0]
    return LocalStatus(
        server_alive and (runner_alive or state.runner is None),
        state.endpoint_url,
        server_alive,
        runner_alive,
        queues,
        str(state.path),
        devices,
    )
