"""Start, check and stop the local stack's background processes, by recorded pid only."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

_STARTED: list[subprocess.Popen[bytes]] = []
"""Popen objects of the processes this interpreter started. The processes outlive the
command that starts them (that is the point of `tools local up`); holding the objects keeps
Python from warning that a child is still running when they would be collected."""


@dataclass(frozen=True)
class ProcessRecord:
    """A process we started: pid plus its start time, so a recycled pid is never signalled."""

    pid: int
    create_time: float
    command: list[str]
    log: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProcessRecord:
        return cls(int(data["pid"]), float(data["create_time"]), list(data["command"]), data["log"])

    def process(self) -> psutil.Process | None:
        """The live process, or None when it has exited (or the pid now belongs to another)."""
        try:
            proc = psutil.Process(self.pid)
            if abs(proc.create_time() - self.create_time) > 1.0:
                return None
            if proc.status() == psutil.STATUS_ZOMBIE:
                proc.wait(timeout=0)
                return None
        except (psutil.NoSuchProcess, psutil.TimeoutExpired):
            return None
        return proc

    @property
    def alive(self) -> bool:
        return self.process() is not None


SETTINGS = ("ROLLCALL_", "AWS_")
"""The prefixes of rollcall's and AWS's settings in an environment."""


def clean_environment(*, keep: Iterable[str] = ()) -> dict[str, str]:
    """This process's environment without its rollcall and AWS settings (but those named in
    ``keep``): for a child process that is given its own."""
    kept = set(keep)
    return {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS) or k in kept}


def start(
    command: Sequence[str], log: Path, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> ProcessRecord:
    """Start ``command`` in its own session (process group), output appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    _STARTED.append(proc)
    return ProcessRecord(proc.pid, psutil.Process(proc.pid).create_time(), list(command), str(log))


def stop(record: ProcessRecord, timeout_s: float = 10.0) -> bool:
    """SIGTERM the process group we created, then SIGKILL it after ``timeout_s``.

    Returns True when something was running.
    """
    proc = record.process()
    if proc is None:
        return False
    _signal_group(record.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except psutil.TimeoutExpired:
        _signal_group(record.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    _reap_group(record.pid)
    _forget(record.pid)
    return True


def _forget(pid: int) -> None:
    """Reap our Popen object of ``pid`` (if this interpreter started it) and drop it."""
    for proc in [p for p in _STARTED if p.pid == pid]:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        _STARTED.remove(proc)


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _reap_group(pgid: int) -> None:
    """Kill any child the leader left behind in its group (e.g. worker processes)."""
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        left = [p for p in psutil.process_iter(["pid"]) if _pgid(p.pid) == pgid]
        if not left:
            return
        time.sleep(0.1)
    _signal_group(pgid, signal.SIGKILL)


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except (ProcessLookupError, PermissionError):
        return None


def log_tail(path: str | Path, lines: int = 15) -> str:
    """The last lines of a log file ("" when unreadable)."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
