"""``face-model evaluate`` and ``calibrate``: a model against held-out images."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from face_model.cli.common import (
    EXIT_FAILED,
    FilesOpt,
    JsonOpt,
    ModelOpt,
    ThreadsOpt,
    VerboseOpt,
    err,
    fail,
    fmt,
    friendly_errors,
    out,
    print_json,
    progress_bar,
    setup,
)

SplitOpt = Annotated[
    str,
    typer.Option(
        help="auto (val/ of the course layout, else every image), train, val or all.",
    ),
]
DataOpt = Annotated[
    Path,
    typer.Option("--data-dir", help="Test images, one folder per person."),
]
AllowUntrainedOpt = Annotated[
    bool,
    typer.Option(
        "--allow-untrained",
        help="Run even though the model has random weights (figures are then meaningless).",
    ),
]
ReportDirOpt = Annotated[
    Path | None,
    typer.Option(
        help="Where report.json and confusion.png go (default MODEL/evaluation, or "
        "./evaluation for an exported artifact).",
    ),
]
_METRICS = (
    "n_images",
    "accuracy",
    "identification_rate",
    "misidentification_rate",
    "unknown_rejection",
    "tar",
    "far",
    "threshold",
    "mean_ms_per_image",
)


def _probes(
    model: Path, data_dir: Path, split: str, files: list[str] | None, allow_untrained: bool
) -> tuple[Any, list[Any]]:
    from face_model.dataset import people_split
    from face_model.evaluation import run_probes
    from face_model.scoring import load_scorer, require_pretrained

    if split not in ("auto", "train", "val", "all"):
        fail(f"--split must be auto, train, val or all, got {split!r}")
    people_map = people_split(data_dir, split, files or ())
    scorer = load_scorer(model)
    require_pretrained(scorer, allow_untrained=allow_untrained)
    total = sum(len(v) for v in people_map.values())
    with progress_bar() as progress:
        task = progress.add_task("evaluating", total=total)
        probes = run_probes(scorer, people_map, lambda: progress.advance(task))
    return scorer, probes


def evaluate(
    model: ModelOpt,
    data_dir: DataOpt,
    split: SplitOpt = "auto",
    files: FilesOpt = None,
    threshold: Annotated[
        float | None,
        typer.Option(help="Override the shipped threshold."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    report_dir: ReportDirOpt = None,
    min_accuracy: Annotated[
        float | None,
        typer.Option(help="Exit 1 when accuracy is below this."),
    ] = None,
    allow_untrained: AllowUntrainedOpt = False,
    threads: ThreadsOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Accuracy, TAR/FAR, per-person precision/recall, unknown rejection, time per image.

    People in the data who are not enrolled count as unknowns (open set).
    """
    from face_model.evaluation import evaluate as do_evaluate
    from face_model.evaluation import write_report

    setup(threads, verbose)
    with friendly_errors():
        scorer, probes = _probes(model, data_dir, split, files, allow_untrained)
        report = do_evaluate(scorer, probes, threshold)
        write_report(report, model, report_dir)
    if as_json:
        print_json(report)
    else:
        _print_report(report)
    if min_accuracy is not None and (report["accuracy"] or 0.0) < min_accuracy:
        err.print(f"[red]accuracy {report['accuracy']:.4f} is below {min_accuracy}[/]")
        raise typer.Exit(EXIT_FAILED)


def _print_report(report: dict[str, Any]) -> None:
    table = Table(title=f"evaluation of {report['model']} ({report['backbone']})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in _METRICS:
        table.add_row(key, fmt(report[key]))
    out.print(table)
    per = Table(title="per person")
    per.add_column("person")
    per.add_column("precision", justify="right")
    per.add_column("recall", justify="right")
    per.add_column("images", justify="right")
    for person, row in report["per_person"].items():
        per.add_row(person, fmt(row["precision"]), fmt(row["recall"]), str(row["n_images"]))
    out.print(per)
    for error in report["errors"][:20]:
        out.print(
            f"  [yellow]{error['path']}[/]: {error['truth']} -> {error['predicted']}",
            soft_wrap=True,
            highlight=False,
        )
    out.print(
        f"report: {report['report_json']}  confusion matrix: {report['confusion_png']}",
        soft_wrap=True,
    )


def calibrate(
    model: ModelOpt,
    data_dir: DataOpt,
    target_far: Annotated[
        float,
        typer.Option(
            help="Wanted false-accept rate on the held-out images.",
            min=0.0,
            max=1.0,
        ),
    ] = 0.01,
    split: SplitOpt = "auto",
    files: FilesOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report only; do not store the threshold.")
    ] = False,
    as_json: JsonOpt = False,
    threads: ThreadsOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Pick the threshold for a target FAR from held-out images and store it in the model.

    Impostors are each image's best score against the wrong people (every enrolled person
    for people who are not enrolled); the lowest threshold meeting the FAR is chosen.
    """
    from face_model.evaluation import calibrate as do_calibrate
    from face_model.training import set_threshold

    setup(threads, verbose)
    with friendly_errors():
        if (model / "manifest.json").is_file():
            fail(f"{model} is an exported artifact; calibrate the model directory and re-export")
        scorer, probes = _probes(model, data_dir, split, files, False)
        try:
            result = do_calibrate(scorer, probes, target_far)
        except ValueError as exc:
            fail(f"cannot calibrate on {data_dir}: {exc}")
        if not dry_run:
            set_threshold(model, result["threshold"], {**result, "data_dir": str(data_dir)})
    result["stored"] = not dry_run
    if as_json:
        print_json(result)
    else:
        out.print(
            f"threshold [bold]{result['threshold']:.4f}[/] for FAR <= {target_far}: "
            f"FAR {fmt(result['far'])}, TAR {fmt(result['tar'])} on "
            f"{result['n_genuine']} genuine / {result['n_impostor']} impostor scores"
            + ("" if dry_run else f"; stored in {model}")
        )
