"""Rich consoles and the CLI's error handling (one red line, the team's exit codes)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from rollcall_tools.errors import ToolsError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int) -> typer.Exit:
    """Print ``message`` as one red line on stderr; the caller raises the returned Exit."""
    err.print(f"[bold red]error:[/] {message}", markup=True)
    return typer.Exit(code)


def handles_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn :class:`ToolsError` (and Ctrl-C) into a red line and the right exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ToolsError as exc:
            raise fail(exc.message, exc.exit_code) from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None

    return wrapper


def print_json(data: Any) -> None:
    """One JSON object on stdout (nothing else goes to stdout with --json)."""
    print(json.dumps(data, indent=2, default=str))  # noqa: T201
