"""Peak memory of the handler: one Lambda event (an SQS batch) through ``cloud-handler
invoke`` in a fresh process, its peak resident set as the kernel counts it for that process
since it started (``VmHWM``: not ``ru_maxrss``, which counts the parent's pages a forked
child shares until it execs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rollcall_tools.bench.stack import Stack, body, s3_event, sqs_event


@dataclass(frozen=True)
class ChildRun:
    """A finished child process: exit code, peak RSS, what it printed."""

    returncode: int
    peak_rss_mb: float
    stdout: str
    stderr: str


_PEAK_CHILD = """
import atexit, runpy, sys
def _peak(path=sys.argv[1]):
    with open("/proc/self/status") as status:
        kib = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(path, "w") as out:
        out.write(kib)
atexit.register(_peak)
module = sys.argv[2]
sys.argv = [module, *sys.argv[3:]]
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


def run_measured(
    module: str, args: list[str], *, env: dict[str, str], stdin: str = "", timeout_s: float = 300
) -> ChildRun:
    """Run ``python -m module *args`` in a fresh process and report its peak resident set
    (MiB, Linux's ``VmHWM``). Killed after ``timeout_s``."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory(prefix="rollcall-peak-") as tmp,
    ):
        peak = Path(tmp) / "peak"
        argv = [sys.executable, "-c", _PEAK_CHILD, str(peak), module, *args]
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=out, stderr=err)
        timer = threading.Timer(timeout_s, proc.kill)
        timer.start()
        try:
            proc.communicate(stdin.encode())
        finally:
            timer.cancel()
        out.seek(0)
        err.seek(0)
        try:
            kib = int(peak.read_text())
        except (OSError, ValueError):
            kib = 0  # killed before its exit handlers ran
        return ChildRun(
            returncode=proc.returncode,
            peak_rss_mb=round(kib / 1024, 1),
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )


def invoke_batch_peak(
    stack: Stack, objects: dict[str, bytes], *, env: dict[str, str], timeout_s: float = 300
) -> ChildRun:
    """Upload ``objects`` (key -> bytes) and run them as one SQS batch through
    ``cloud-handler invoke`` in a fresh process with ``env`` (the stack's and the model's)."""
    records = [stack.put(key, data) for key, data in objects.items()]
    event = sqs_event(*(body(s3_event(record)) for record in records))
    child_env = {**os.environ, **env}
    return run_measured(
        "cloud_handler",
        ["invoke", "--event", "-"],
        env=child_env,
        stdin=json.dumps(event),
        timeout_s=timeout_s,
    )


def failures(run: ChildRun) -> list[Any]:
    """The records the handler asked to retry (its printed answer), or a one-item list
    describing why the run itself failed."""
    if run.returncode not in (0, 1):
        return [f"exit {run.returncode}: {run.stderr.strip()[-600:]}"]
    try:
        answer = json.loads(run.stdout)
    except json.JSONDecodeError:
        answer = None
    if not isinstance(answer, dict):
        return [f"no answer on stdout: {run.stdout[-300:]!r}"]
    items: list[Any] = answer.get("batchItemFailures", [])
    return items
