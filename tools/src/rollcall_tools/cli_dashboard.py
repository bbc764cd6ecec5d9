"""``tools dashboard``: the web dashboard of one stack (rollcall_tools.dashboard)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from rollcall_tools.cli_common import StateDir, Where, located
from rollcall_tools.errors import ConfigError
from rollcall_tools.output import err, handles_errors, out

DEFAULT_PORT = 8765


@handles_errors
@located
def dashboard(
    where: Where,
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on. Any other than 127.0.0.1/localhost/::1 requires the "
            "access token on every request (ROLLCALL_DASHBOARD_TOKEN, else one is generated "
            "and printed in the URL).",
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free port).")
    ] = DEFAULT_PORT,
    state_dir: StateDir = None,
    model_dir: Annotated[
        Path | None,
        typer.Option(
            "--model-dir",
            help="The handler's artifact (`face-model export`), for enrolling photos and "
            "'not this person' (default: ROLLCALL_MODEL_DIR, else the local stack's own).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve a web dashboard of the stack (Live, People, Unknowns, Attendance, Health) until
    Ctrl-C; print its URL.

    It follows the results topic through a queue of its own (never a device's), created now
    and deleted on exit."""
    try:
        from rollcall_tools.dashboard.security import Access
        from rollcall_tools.dashboard.server import serve
    except ImportError as exc:
        raise ConfigError(
            f"the dashboard needs rollcall-tools' `dashboard` extra ({exc.name} is missing): "
            "`uv sync` at the workspace root, or pip install 'rollcall-tools[dashboard]'"
        ) from None

    from rollcall_tools.faces.networks import artifact_dir

    stack = where.resolve()
    access = Access.for_host(host)
    try:
        networks = artifact_dir(model_dir, where)
    except ConfigError:  # the pages say so where they need it
        networks = None

    def announce(url: str, queue: str) -> None:
        err.print(
            f"dashboard of stack [bold]{where.stack}[/] in {where.region}, following the "
            f"results topic through {queue}; Ctrl-C stops it"
        )
        if access.token is not None and not access.generated:
            err.print("access token: ROLLCALL_DASHBOARD_TOKEN")
        out.print(url, markup=False)

    # Ctrl-C is how it ends (uvicorn re-raises the signal once it has stopped)
    with contextlib.suppress(KeyboardInterrupt):
        serve(
            stack,
            access,
            host,
            port,
            state_dir=state_dir or where.settings.state_dir,
            announce=announce,
            model_dir=networks,
        )
    err.print("dashboard stopped; its queue is deleted")
