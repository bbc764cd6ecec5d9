"""Find and stop the processes a test started in its own directory."""

from __future__ import annotations

import os
from pathlib import Path

import psutil


def started_in(directory: Path) -> list[psutil.Process]:
    """Processes (not this one) whose cwd or command line lies in ``directory``."""
    found = []
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        if proc.pid == os.getpid():
            continue
        try:
            text = " ".join(proc.info["cmdline"] or []) + " " + (proc.info["cwd"] or "")
            if str(directory) in text and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            continue
    return found


def reap(directory: Path) -> list[str]:
    """Terminate, then kill, what :func:`started_in` finds; returns their command lines."""
    procs = started_in(directory)
    lines = []
    for proc in procs:
        try:
            lines.append(" ".join(proc.cmdline()))
            proc.terminate()
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(procs, timeout=10)
    for proc in alive:
        proc.kill()
    psutil.wait_procs(alive, timeout=5)
    return lines
