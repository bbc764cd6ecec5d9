"""Fixtures of the end-to-end tests: every process a test starts is gone when it ends."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest


def started_in(directory: Path) -> list[psutil.Process]:
    """Processes (not this one) whose cwd or command line lies in ``directory``."""
    found = []
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        if proc.pid == os.getpid():
            continue
        try:
            text = " ".join(proc.info["cmdline"] or []) + " " + (proc.info["cwd"] or "")
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            continue
        if str(directory) in text and proc.status() != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def reap(directory: Path) -> list[str]:
    """Terminate, then kill, what :func:`started_in` finds; returns their command lines."""
    procs = started_in(directory)
    lines = [" ".join(p.cmdline()) for p in procs if p.is_running()]
    for proc in procs:
        proc.terminate()
    _, alive = psutil.wait_procs(procs, timeout=10)
    for proc in alive:
        proc.kill()
    psutil.wait_procs(alive, timeout=5)
    return lines


@pytest.fixture
def reaped(tmp_path: Path) -> Iterator[Path]:
    """``tmp_path``, as the working directory of the processes under test; afterwards
    nothing started there may still run (stragglers are stopped, then reported)."""
    yield tmp_path
    left = reap(tmp_path)
    assert not left, f"processes left running: {left}"
