"""Serve the dashboard: follow the results topic, bind, print the URL, run until Ctrl-C."""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import uvicorn

from rollcall_tools.dashboard.app import create_app
from rollcall_tools.dashboard.feed import LiveFeed, Subscriber, dashboard_queue_name
from rollcall_tools.dashboard.security import Access
from rollcall_tools.dashboard.views import Dashboard
from rollcall_tools.errors import ConfigError
from rollcall_tools.stack.deploy import Stack

SHUTDOWN_S = 1
"""Open event streams get this long to end on Ctrl-C."""


class _Server(uvicorn.Server):
    """uvicorn's server that also ends the open event streams when told to stop, so that
    stopping waits for no one."""

    def __init__(self, config: uvicorn.Config, feed: LiveFeed) -> None:
        super().__init__(config)
        self.feed = feed

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.feed.close()
        super().handle_exit(sig, frame)


def url_of(host: str, port: int, access: Access) -> str:
    """The URL to open; with the token when it was generated here (the user has no other
    way to learn it)."""
    shown = f"[{host}]" if ":" in host else host
    login = f"?token={access.token}" if access.generated else ""
    return f"http://{shown}:{port}/{login}"


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (0: any free port); a clear error otherwise."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    return sock


def _terminate_as_interrupt() -> None:
    """SIGTERM ends the dashboard as Ctrl-C does, its queue deleted (uvicorn re-raises the
    signal it caught once it has stopped; Python's default for SIGTERM would exit at once)."""

    def interrupt(_sig: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def serve(
    stack: Stack,
    access: Access,
    host: str,
    port: int,
    *,
    state_dir: Path | None,
    announce: Callable[[str, str], None],
    model_dir: Path | None = None,
) -> None:
    """Subscribe the dashboard's queue, serve until interrupted, then delete the queue.
    ``announce(url, queue)`` is called once the socket listens. Ctrl-C (and SIGTERM) end
    it with KeyboardInterrupt, after the queue is deleted."""
    _terminate_as_interrupt()
    feed = LiveFeed()
    queue = dashboard_queue_name(stack)
    subscriber = Subscriber(stack, feed, queue)
    sock = bind(host, port)
    try:
        subscriber.start()
        dashboard = Dashboard(
            stack, feed, access, queue=queue, state_dir=state_dir, model_dir=model_dir
        )
        config = uvicorn.Config(
            create_app(dashboard),
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=SHUTDOWN_S,
        )
        announce(url_of(host, sock.getsockname()[1], access), queue)
        _Server(config, feed).run(sockets=[sock])
    finally:
        sock.close()
        subscriber.stop()
