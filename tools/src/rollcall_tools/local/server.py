"""Entry point of the local AWS process: moto in server mode on 127.0.0.1 until SIGTERM.

Run as ``python -m rollcall_tools.local.server --port 0 --ready-file F``: once listening, it
writes ``{"host", "port", "pid"}`` to ``F`` (atomically), so the caller learns the port that
was actually bound, with no race for a "free" port.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from pathlib import Path

from moto.server import ThreadedMotoServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ready-file", type=Path, required=True)
    args = parser.parse_args(argv)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    tmp = args.ready_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"host": host, "port": port, "pid": os.getpid()}))
    tmp.replace(args.ready_file)
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
