"""``face-model``: train, enroll, evaluate, calibrate, export, fetch weights, benchmark.

This module holds the app; each group of commands lives in its own module (as in tools)
and only parses, calls the library and prints.
"""

from __future__ import annotations

from typing import Annotated

import typer

from face_model import __version__
from face_model.cli.bench import bench
from face_model.cli.common import fail, friendly_errors, out
from face_model.cli.evaluate import calibrate, evaluate
from face_model.cli.export import export
from face_model.cli.fetch_weights import fetch_weights
from face_model.cli.models import models_app
from face_model.cli.people import enroll, people, remove
from face_model.cli.train import train

__all__ = ["app", "fail", "friendly_errors"]

app = typer.Typer(
    name="face-model",
    help="Train, evaluate, enroll and export rollcall's face recognizer.",
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        out.print(f"face-model {__version__}")
        raise typer.Exit(0)


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """rollcall's face recognizer: MTCNN detection, MobileFaceNet/InceptionResnetV1 embeddings,
    open-set matching with a calibrated threshold."""


app.command()(train)
app.command()(enroll)
app.command()(people)
app.command()(remove)
app.command()(evaluate)
app.command()(calibrate)
app.command()(export)
app.add_typer(models_app, name="models")
app.command("fetch-weights")(fetch_weights)
app.command()(bench)
