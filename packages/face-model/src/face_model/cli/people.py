"""``face-model enroll``, ``people`` and ``remove``: the people of a model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from face_model.cli.common import (
    JsonOpt,
    ModelOpt,
    ThreadsOpt,
    VerboseOpt,
    fail,
    friendly_errors,
    out,
    print_issues,
    print_json,
    setup,
)


def enroll(
    model: ModelOpt,
    person: Annotated[str, typer.Option(help="Name to enroll.")],
    images: Annotated[
        list[Path], typer.Argument(help="Image files or folders of images of this person.")
    ],
    replace: Annotated[
        bool, typer.Option(help="Replace the person's existing gallery entries.")
    ] = False,
    threads: ThreadsOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Add a person (or more photos of one) to a model without retraining. A photo whose
    content is already enrolled for that person is skipped and listed."""
    from face_model.images import list_images
    from face_model.training import enroll as do_enroll

    setup(threads, verbose)
    paths: list[Path] = []
    for item in images:
        if item.is_dir():
            paths.extend(list_images(item))
        elif item.exists():
            paths.append(item)
        else:
            fail(f"image or folder not found: {item}")
    if not paths:
        fail(f"no image files in {', '.join(map(str, images))}")
    with friendly_errors():
        report = do_enroll(model, person, paths, replace=replace)
    skipped = sum(issue.kind == "duplicate" for issue in report.issues)
    out.print(
        f"enrolled [bold]{person}[/] from {report.enrolled.get(person, 0)} image(s)"
        + (f"; skipped {skipped} already enrolled (same content)" if skipped else "")
    )
    if report.issues:
        print_issues(report.issues)


def people(model: ModelOpt, as_json: JsonOpt = False) -> None:
    """List the enrolled people (model directory or exported artifact)."""
    from face_model.model_dir import people_counts

    with friendly_errors():
        counts = people_counts(model)
    if as_json:
        print_json(counts)
        return
    table = Table(title=f"{len(counts)} people in {model}")
    table.add_column("person")
    table.add_column("embeddings", justify="right")
    for name, n in counts.items():
        table.add_row(name, str(n))
    out.print(table)


def remove(
    model: ModelOpt,
    person: Annotated[str, typer.Option(help="Name to remove.")],
) -> None:
    """Forget a person in a model directory."""
    from face_model.training import remove as do_remove

    with friendly_errors():
        n = do_remove(model, person)
    out.print(f"removed [bold]{person}[/] ({n} embeddings)")
