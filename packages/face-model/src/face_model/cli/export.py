"""``face-model export``: the serving artifact."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from face_model.cli.common import ThreadsOpt, VerboseOpt, fail, friendly_errors, out, setup, warn

OutOpt = Annotated[
    Path,
    typer.Option(
        "--out",
        help="Artifact directory to write (what the handler loads); an older artifact "
        "there is replaced.",
    ),
]
ModelOpt = Annotated[
    Path | None,
    typer.Option(
        "--model",
        help="Model directory written by `face-model train` (omit with --detection-only).",
    ),
]
DetectionOnlyOpt = Annotated[
    bool,
    typer.Option(
        "--detection-only",
        help="Export the detector alone: faces are found, nobody is ever named.",
    ),
]
AllowUntrainedOpt = Annotated[
    bool,
    typer.Option(
        "--allow-untrained",
        help="Export a random-weights model anyway, marked pretrained=false (it never "
        "names anyone).",
    ),
]


def export(
    out_dir: OutOpt,
    model: ModelOpt = None,
    detection_only: DetectionOnlyOpt = False,
    allow_untrained: AllowUntrainedOpt = False,
    threads: ThreadsOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Write the serving artifact: MTCNN and embedding networks as ONNX (a torch backbone is
    checked against torch), gallery and a manifest with every file's sha256."""
    from face_model.artifact import export_detection_only, export_model

    setup(threads, verbose)
    if (model is None) == (not detection_only):
        fail("give either --model MODEL_DIR or --detection-only")
    with friendly_errors():
        if model is None:
            report = export_detection_only(out_dir)
        else:
            report = export_model(model, out_dir, allow_untrained=allow_untrained)
    manifest = report.manifest
    if model is not None and not manifest["pretrained"]:
        warn("exported UNTRAINED weights: marked pretrained=false")
    parity = (
        f" (torch vs ONNX max diff {report.parity_max_abs_diff:.1e})"
        if report.parity_max_abs_diff is not None
        else ""
    )
    out.print(
        f"exported {manifest['backbone']} {manifest['version']} with "
        f"{len(manifest['people'])} people to {out_dir}{parity}",
        highlight=False,
    )
