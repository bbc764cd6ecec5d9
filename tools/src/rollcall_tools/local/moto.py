"""The one way rollcall starts a local AWS: moto in server mode, in its own process, on
127.0.0.1 (``tools local``, the reliability suite, the benchmarks and every test).

The process keeps every resource in memory; :meth:`MotoServer.freeze` (SIGSTOP: the port
still accepts connections, nothing answers) and :meth:`MotoServer.thaw` simulate an outage
without losing that state.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from rollcall_tools.aws import DEFAULT_REGION, LOCAL_CREDENTIALS
from rollcall_tools.errors import ServiceUnreachableError
from rollcall_tools.local import processes
from rollcall_tools.local.processes import ProcessRecord

START_TIMEOUT_S = 30.0


class MotoServer:
    """``python -m rollcall_tools.local.server`` on ``port`` (0: any free port).

    Use it as a context manager (stopped on exit), or :meth:`start` it and keep its
    :attr:`record` to stop it later from another process (``tools local down``).
    """

    def __init__(self, log_dir: Path | None = None, *, port: int = 0) -> None:
        self._own_dir = log_dir is None
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="rollcall-moto-"))
        self.requested_port = port
        self.record: ProcessRecord | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        if self.record is None:
            raise RuntimeError("moto server not started")
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = START_TIMEOUT_S) -> str:
        """Start the server, wait until it listens; its URL.

        Raises:
            ServiceUnreachableError: it did not start within ``timeout_s``.
        """
        self.log_dir.mkdir(parents=True, exist_ok=True)
        ready = self.log_dir / "moto.ready"
        ready.unlink(missing_ok=True)
        command = [
            sys.executable, "-m", "rollcall_tools.local.server",
            "--port", str(self.requested_port), "--ready-file", str(ready),
        ]  # fmt: skip
        record = processes.start(command, self.log_dir / "moto.log")
        deadline = time.monotonic() + timeout_s
        while not ready.exists():
            if not record.alive or time.monotonic() > deadline:
                processes.stop(record)
                raise ServiceUnreachableError(
                    f"the local AWS server (moto) did not start on 127.0.0.1:"
                    f"{self.requested_port or 'any port'}: "
                    f"{processes.log_tail(record.log, 3) or 'no output'}"
                )
            time.sleep(0.05)
        self.record = record
        self.port = int(json.loads(ready.read_text())["port"])
        return self.url

    @property
    def pid(self) -> int:
        """The server's process id."""
        if self.record is None:
            raise RuntimeError("moto server not started")
        return self.record.pid

    def freeze(self) -> None:
        """SIGSTOP the server: connections hang until :meth:`thaw`."""
        os.kill(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT the server."""
        os.kill(self.pid, signal.SIGCONT)

    def stop(self) -> None:
        """Stop the server (thawing it first so that it can exit)."""
        if self.record is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.record.pid, signal.SIGCONT)
        processes.stop(self.record)
        self.record = None
        if self._own_dir:
            shutil.rmtree(self.log_dir, ignore_errors=True)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
    "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
    "AWS_DEFAULT_REGION": DEFAULT_REGION,
}


@contextlib.contextmanager
def local_aws() -> Iterator[str]:
    """A :class:`MotoServer` for as long as the block runs (the benchmarks, every test's
    ``moto_endpoint``); its URL.

    Dummy credentials are set in this process's environment when none are (never real
    ones: the endpoint is moto).
    """
    for name, value in DUMMY_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    with MotoServer() as url:
        yield url
