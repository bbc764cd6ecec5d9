"""A moto server in its own process on 127.0.0.1: started, frozen/thawed, stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from rollcall_tools.errors import ServiceUnreachableError


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout_s: float) -> None:
    """Wait until ``url`` answers HTTP (any status).

    Raises:
        ServiceUnreachableError: nothing answered within ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback only
                return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                raise ServiceUnreachableError(
                    f"{url} did not answer within {timeout_s:.0f} s"
                ) from None
            time.sleep(0.1)


class MotoProcess:
    """``python -m moto.server`` on a free loopback port; its log goes to ``log_path``.

    The process keeps every resource in memory, so an outage is simulated without losing
    state: :meth:`freeze` (SIGSTOP: the port still accepts connections, nothing answers) and
    :meth:`thaw` (SIGCONT); a refused-connection outage is the job of :class:`~.gate.Gate`.
    """

    def __init__(self, log_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("moto server not started")
        return self._proc.pid

    def start(self, timeout_s: float = 30.0) -> None:
        """Start the server and wait until it answers."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        try:
            wait_http(f"{self.url}/moto-api/", timeout_s)
        except ServiceUnreachableError:
            self.stop()
            raise

    def freeze(self) -> None:
        """SIGSTOP the server: connections hang until :meth:`thaw`."""
        os.kill(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT the server."""
        os.kill(self.pid, signal.SIGCONT)

    def stop(self) -> None:
        """Terminate the server (thawing it first so that it can exit)."""
        if self._proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._proc.pid, signal.SIGCONT)
        self._proc.terminate()
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(10)
        self._proc = None
