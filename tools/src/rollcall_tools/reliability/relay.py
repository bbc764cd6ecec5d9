"""A TCP relay on loopback in front of the local AWS endpoint, which can be shut and reopened.

Shut, the port refuses new connections and every open connection is reset: to its clients
the endpoint is down. Reopened on the same port, everything behind it is as it was (moto
keeps its state in memory in its own process, untouched). This is how ``tools faults``
stops "the local AWS endpoint" without losing the stack's state.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading

from rollcall_tools.local.moto import free_port

log = logging.getLogger(__name__)
_CHUNK = 256 * 1024


class Relay:
    """Relay ``127.0.0.1:port`` -> ``127.0.0.1:upstream_port`` (thread per direction)."""

    def __init__(self, upstream_port: int, port: int | None = None) -> None:
        self.upstream_port = upstream_port
        self.port = port or free_port()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self.shut_count = 0
        self.relayed = 0
        """Connections relayed so far."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def is_open(self) -> bool:
        return self._listener is not None

    def open(self) -> None:
        """Listen (again) on the relay's port."""
        with self._lock:
            if self._listener is not None:
                return
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self.port))
            sock.listen(256)
            self._listener = sock
        threading.Thread(
            target=self._accept, args=(sock,), name="relay-accept", daemon=True
        ).start()

    def shut(self) -> None:
        """Stop listening and reset every relayed connection."""
        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._conns = self._conns, set()
            self.shut_count += 1
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for conn in conns:
            _reset(conn)

    def close(self) -> None:
        """Shut for good."""
        self.shut()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # shut
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                if self._listener is not listener:
                    _reset(client)
                    _reset(upstream)
                    return
                self._conns.update((client, upstream))
                self.relayed += 1
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=self._pump, args=(src, dst), name="relay-pump", daemon=True
                ).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(_CHUNK):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._conns.discard(src)
                self._conns.discard(dst)
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


def _reset(sock: socket.socket) -> None:
    """Drop a connection as a dying server would (RST where data is pending).

    ``shutdown`` comes first: closing a socket that another thread is blocked reading
    does not wake that thread on Linux, and the connection would silently stay open.
    """
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
