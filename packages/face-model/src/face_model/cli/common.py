"""What every ``face-model`` command shares: consoles, exit codes, the error context manager,
logging and threads, and the options several commands take."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from face_model.backbones import BACKBONES
from face_model.errors import (
    ArtifactError,
    DataError,
    DownloadError,
    FaceModelError,
    ModelDirError,
    UntrainedModelError,
    WeightsError,
)

out = Console()
err = Console(stderr=True)

EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 1, 2, 3
BACKBONE_CHOICES = tuple(BACKBONES)


def warn(message: str) -> None:
    """One yellow warning line on stderr."""
    err.print(f"[yellow]warning:[/] {message}", markup=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """One red line on stderr, then exit."""
    err.print(f"[bold red]error:[/] {message}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn this package's errors into one clear line and a meaningful exit code."""
    from face_model.fetch import UnreachableError

    try:
        yield
    except UnreachableError as exc:
        fail(str(exc), EXIT_UNREACHABLE)
    except DownloadError as exc:
        fail(str(exc), EXIT_FAILED)
    except (DataError, ModelDirError, ArtifactError, WeightsError, UntrainedModelError) as exc:
        fail(str(exc), EXIT_USAGE)
    except FaceModelError as exc:
        fail(str(exc), EXIT_USAGE)
    except PermissionError as exc:
        fail(f"permission denied: {exc.filename}", EXIT_USAGE)


def setup(threads: int | None, verbose: bool) -> int:
    """Logging, and the CPU threads of the networks (returned)."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from face_model.settings import load_settings
    from face_model.threads import set_threads

    with friendly_errors():
        count = threads or load_settings().threads or 1
    set_threads(count)
    return count


def print_json(value: Any) -> None:
    """One line of JSON on stdout."""
    sys.stdout.write(json.dumps(value) + "\n")


def print_issues(issues: list[Any]) -> None:
    """One line per problem image, full path first (never truncated)."""
    out.print(f"[bold]{len(issues)} image(s) needing attention:[/]")
    for issue in issues:
        out.print(
            f"  {issue.path}: [yellow]{issue.kind}[/] - {issue.detail}",
            soft_wrap=True,
            highlight=False,
        )


def progress_bar() -> Any:
    """A transient progress display on stderr."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
    )


def fmt(value: Any) -> str:
    """A figure for a table: ``n/a``, 4 decimals, or as it is."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


ThreadsOpt = Annotated[
    int | None,
    typer.Option(
        help="CPU threads for the networks (onnxruntime, torch) (default: ROLLCALL_THREADS, "
        "else 1).",
        min=1,
    ),
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")]
ModelOpt = Annotated[
    Path,
    typer.Option(
        "--model",
        help="Model directory written by `face-model train` (evaluate/people also take an "
        "exported artifact directory).",
    ),
]
FilesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--files",
        help="Only image files whose names match this glob (repeatable), e.g. '[1-5].pgm'.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
