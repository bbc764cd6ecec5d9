"""``face-model models``: the built-in ONNX networks in the model cache."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from face_model.cli.common import EXIT_FAILED, JsonOpt, err, friendly_errors, out, print_json
from face_model.errors import FaceModelError

models_app = typer.Typer(
    help="The built-in ONNX networks (MTCNN, dlib ResNet): converted on first need from "
    "weights inside installed wheels into a cache (ROLLCALL_MODEL_CACHE, default "
    "~/.cache/rollcall/models), sha256-verified on every load.",
    no_args_is_help=True,
)


@models_app.command("build")
def models_build(
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if up to date.")] = False,
) -> None:
    """Convert every built-in network into the cache (skips those already up to date)."""
    from face_model.model_cache import BUILTIN, build

    with friendly_errors():
        for name in BUILTIN:
            record = build(name, force=force, progress=lambda m: err.print(m, highlight=False))
            out.print(f"{name}: {record.path} (sha256 {record.sha256[:12]}...)", highlight=False)


@models_app.command("list")
def models_list(as_json: JsonOpt = False) -> None:
    """Show each built-in network, where it comes from and whether it is built."""
    from face_model.model_cache import cache_dir, describe_builtin

    rows = describe_builtin()
    if as_json:
        print_json({"cache": str(cache_dir()), "models": rows})
        return
    table = Table(title=f"built-in networks in {cache_dir()}")
    for column in ("name", "description", "from", "licence", "built"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["name"],
            row["description"],
            row["package"],
            row["licence"],
            "yes" if row["built"] else "[yellow]no[/]",
        )
    out.print(table)


@models_app.command("verify")
def models_verify() -> None:
    """Check every built network's sha256 against its record (exit 1 on any mismatch)."""
    from face_model.model_cache import BUILTIN, verify

    bad = 0
    for name in BUILTIN:
        try:
            record = verify(name)
        except FaceModelError as exc:
            bad += 1
            err.print(f"[red]{name}:[/] {exc}", highlight=False, soft_wrap=True)
            continue
        out.print(f"{name}: ok (sha256 {record.sha256[:12]}...)", highlight=False)
    if bad:
        raise typer.Exit(EXIT_FAILED)
