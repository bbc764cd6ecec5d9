"""``face-model bench``: time per frame and face of each stage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from face_model.cli.common import (
    BACKBONE_CHOICES,
    JsonOpt,
    ThreadsOpt,
    VerboseOpt,
    fail,
    fmt,
    friendly_errors,
    out,
    print_json,
    setup,
)

_DETECT = ("onnx_batch1_ms_per_frame", "onnx_batch8_ms_per_frame", "torch_batch1_ms_per_frame")
_STAGES = (
    "align_ms_per_face",
    "embed_onnx_batch1_ms_per_face",
    "embed_onnx_batch8_ms_per_face",
    "embed_torch_batch1_ms_per_face",
    "embed_torch_batch8_ms_per_face",
    "artifact_load_ms",
)


def bench(
    as_json: JsonOpt = False,
    repeats: Annotated[int, typer.Option(help="Timed runs (median).", min=1)] = 5,
    mobilefacenet_weights: Annotated[
        Path | None,
        typer.Option(help="Optional MobileFaceNet checkpoint (timings do not depend on weights)."),
    ] = None,
    backbone: Annotated[
        list[str] | None,
        typer.Option(
            "--backbone",
            help="Backbone(s) to time (repeatable; default: dlib-resnet-v1, and the torch "
            "backbones when torch is installed).",
        ),
    ] = None,
    threads: ThreadsOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Time per frame and face: MTCNN (onnxruntime, and torch when installed), alignment,
    embedding (batch 1 and 8), artifact load; on skimage's astronaut photo."""
    from face_model.bench import run_bench

    threads = setup(threads, verbose)
    weights = {"mobilefacenet": mobilefacenet_weights} if mobilefacenet_weights else None
    with friendly_errors():
        for name in backbone or ():
            if name not in BACKBONE_CHOICES:
                fail(f"unknown backbone {name!r}; choose from {', '.join(BACKBONE_CHOICES)}")
        report = run_bench(
            repeats=repeats,
            threads=threads,
            weights=weights,
            backbones=tuple(backbone or ()) or None,
        )
    if as_json:
        print_json(report)
    else:
        _print_bench(report, threads, repeats)


def _print_bench(report: dict[str, Any], threads: int, repeats: int) -> None:
    detect = report["detect"]
    table = Table(title=f"MTCNN, ms per {report['image'][1]}x{report['image'][0]} frame")
    for column in ("onnxruntime, batch 1", "onnxruntime, batch 8", "torch, batch 1"):
        table.add_column(column, justify="right")
    table.add_row(*(fmt(detect[k]) for k in _DETECT))
    out.print(table)
    table = Table(title=f"ms per face, {threads} thread(s), median of {repeats}")
    table.add_column("stage")
    for name in report["backbones"]:
        table.add_column(name, justify="right")
    for label in _STAGES:
        table.add_row(label, *(_ms(e.get(label)) for e in report["backbones"].values()))
    out.print(table)


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"
