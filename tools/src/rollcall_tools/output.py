"""Rich consoles and the CLI's one error convention (CONTRIBUTING.md): one red line
``error: ...`` on stderr, never a traceback; exit 0 success, 1 the job failed, 2 bad usage or
configuration, 3 a service unreachable (130 interrupted)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from rollcall_tools.aws import aws_errors
from rollcall_tools.errors import ToolsError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")


def _fail(message: str, code: int) -> typer.Exit:
    """Print ``message`` as one red line on stderr; the caller raises the returned Exit."""
    err.print(f"[red]error:[/] {escape(message)}")
    return typer.Exit(code)


def handles_errors(command: Callable[P, R]) -> Callable[P, R]:
    """The convention for a command: :class:`ToolsError` (and any AWS error the command did
    not translate itself, and Ctrl-C) becomes one red line and its exit code."""
    doing = f"tools {command.__name__.replace('_', '-')}"

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            with aws_errors(doing):
                return command(*args, **kwargs)
        except ToolsError as exc:
            raise _fail(exc.message, exc.exit_code) from None
        except KeyboardInterrupt:
            raise _fail("interrupted", 130) from None

    return wrapper


def print_json(data: Any) -> None:
    """One JSON object on stdout (nothing else goes to stdout with --json)."""
    print(json.dumps(data, indent=2, default=str))  # noqa: T201
