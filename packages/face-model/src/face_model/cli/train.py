"""``face-model train``: build a model directory from folders of photos."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from face_model.backbones import DEFAULT_BACKBONE, TORCH_BACKBONES
from face_model.cli.common import (
    BACKBONE_CHOICES,
    EXIT_FAILED,
    FilesOpt,
    ThreadsOpt,
    VerboseOpt,
    err,
    fail,
    friendly_errors,
    out,
    print_issues,
    print_json,
    progress_bar,
    setup,
    warn,
)

if TYPE_CHECKING:
    from face_model.dataset import Dataset
    from face_model.training import EnrollReport, TuneRequest

DataDirOpt = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        help="DIR/train/<person>/* (+ DIR/val/<person>/*) or DIR/<person>/*; "
        "any image format (JPEG, PNG, PGM, GIF...).",
    ),
]
OutOpt = Annotated[Path, typer.Option("--out", help="Model directory to write.")]
BackboneOpt = Annotated[
    str | None,
    typer.Option(
        help=f"Embedding network: {', '.join(BACKBONE_CHOICES)} (default: ROLLCALL_BACKBONE, "
        f"else {DEFAULT_BACKBONE}, dlib's public-domain ResNet, built in: no weights file, "
        f"no torch); {', '.join(TORCH_BACKBONES)} need --weights and the train extra.",
    ),
]
WeightsOpt = Annotated[
    Path | None,
    typer.Option(
        help="Local weights of a torch backbone (state dict or {'net_state_dict'} "
        "checkpoint) (default: ROLLCALL_WEIGHTS). Without it a torch network is random and "
        "cannot recognise anyone.",
    ),
]
ThresholdOpt = Annotated[
    float | None,
    typer.Option(help="Cosine threshold below which a face is unknown (default: the backbone's)."),
]
MarginOpt = Annotated[float, typer.Option(help="Minimum best-minus-second similarity.")]
MatchingOpt = Annotated[
    str,
    typer.Option(help="Person score: centroid, knn (mean of k best) or hybrid (higher of both)."),
]
KOpt = Annotated[int, typer.Option(help="k for knn/hybrid.", min=1)]
MinFaceOpt = Annotated[int, typer.Option(help="Smallest face (px) to keep.")]
EpochsOpt = Annotated[
    int,
    typer.Option(
        help="Fine-tune the backbone for this many epochs first (0: no fine-tuning).", min=0
    ),
]
LrOpt = Annotated[float, typer.Option(help="Backbone learning rate.")]
BatchOpt = Annotated[int, typer.Option(help="Fine-tuning batch size.", min=1)]
SeedOpt = Annotated[int, typer.Option(help="Fine-tuning seed.")]
ResumeOpt = Annotated[
    bool,
    typer.Option(help="Continue from the last checkpoint in OUT/checkpoints (else start over)."),
]
StrictOpt = Annotated[bool, typer.Option(help="Fail (exit 1) if any image had a problem.")]
SummaryJsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON summary.")]


def train(
    data_dir: DataDirOpt,
    out_dir: OutOpt,
    backbone: BackboneOpt = None,
    weights: WeightsOpt = None,
    threshold: ThresholdOpt = None,
    margin: MarginOpt = 0.03,
    matching: MatchingOpt = "hybrid",
    k: KOpt = 3,
    min_face_size: MinFaceOpt = 20,
    files: FilesOpt = None,
    epochs: EpochsOpt = 0,
    lr: LrOpt = 1e-4,
    batch_size: BatchOpt = 16,
    seed: SeedOpt = 0,
    resume: ResumeOpt = True,
    strict: StrictOpt = False,
    as_json: SummaryJsonOpt = False,
    threads: ThreadsOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Build a model: detect, align and embed every training image into the gallery.

    Images with no face or several faces are reported by path; in a group photo the face
    that agrees with the person's other photos is enrolled. With --epochs the backbone is
    first fine-tuned on these people (CosFace, seeded, one resumable checkpoint per epoch in
    OUT/checkpoints); small sets overfit easily, so evaluate before and after.
    """
    from face_model.dataset import discover
    from face_model.training import build_model, train_summary

    setup(threads, verbose)
    with friendly_errors():
        backbone, weights = _choose_backbone(backbone, weights, matching, epochs)
        dataset = discover(data_dir, files or ())
        with progress_bar() as progress:
            task = progress.add_task("enrolling", total=dataset.count("train"))
            model, report = build_model(
                dataset.train,
                backbone=backbone,
                weights=weights,
                threshold=threshold,
                margin=margin,
                matching=matching,
                k=k,
                min_face_size=min_face_size,
                out=out_dir,
                progress=lambda _p, n: progress.advance(task, n),
                tune=_tune(progress, out_dir, epochs, lr, batch_size, seed, resume),
            )
    if as_json:
        print_json(train_summary(out_dir, model, report, dataset))
    else:
        _print_summary(out_dir, data_dir, backbone, report, dataset)
    if strict and report.issues:
        raise typer.Exit(EXIT_FAILED)


def _choose_backbone(
    backbone: str | None, weights: Path | None, matching: str, epochs: int
) -> tuple[str, Path | None]:
    """The backbone and weights to train with (options, else settings, else the default),
    checked against the other options."""
    from face_model.backbones import get_spec
    from face_model.gallery import METHODS
    from face_model.settings import load_settings

    configured = load_settings()
    backbone = backbone or configured.backbone or DEFAULT_BACKBONE
    weights = weights or configured.weights
    try:
        get_spec(backbone)
    except ValueError as exc:
        fail(str(exc))
    if matching not in METHODS:
        fail(f"--matching must be one of {', '.join(METHODS)}, got {matching!r}")
    if epochs and backbone not in TORCH_BACKBONES:
        fail(
            f"--epochs fine-tunes torch backbones ({', '.join(TORCH_BACKBONES)}); "
            f"{backbone} is used as it is"
        )
    if weights is None and backbone in TORCH_BACKBONES:
        warn(
            f"no --weights: {backbone} has random weights and cannot "
            "recognise anyone; export will refuse it without --allow-untrained"
        )
    return backbone, weights


def _tune(
    progress: Any, out_dir: Path, epochs: int, lr: float, batch_size: int, seed: int, resume: bool
) -> TuneRequest | None:
    """The fine-tuning request of ``--epochs`` (None without), reporting each epoch."""
    if not epochs:
        return None
    from face_model.finetune import FineTuneConfig
    from face_model.training import TuneRequest

    epoch_task = progress.add_task("fine-tuning (epochs)", total=epochs)

    def on_epoch(epoch: int, loss: float) -> None:
        progress.update(epoch_task, completed=epoch)
        err.print(f"epoch {epoch}/{epochs}: loss {loss:.4f}", highlight=False)

    return TuneRequest(
        FineTuneConfig(epochs=epochs, lr=lr, batch_size=batch_size, seed=seed),
        out_dir / "checkpoints",
        resume=resume,
        on_epoch=on_epoch,
    )


def _print_summary(
    out_dir: Path, data_dir: Path, backbone: str, report: EnrollReport, dataset: Dataset
) -> None:
    table = Table(title=f"enrolled into {out_dir} ({backbone}, {dataset.layout} layout)")
    table.add_column("person")
    table.add_column("images", justify="right")
    for person, n in report.enrolled.items():
        table.add_row(person, str(n))
    out.print(table)
    if report.issues:
        print_issues(report.issues)
    if dataset.val:
        out.print(
            f"validation images: {dataset.count('val')} - run "
            f"`face-model evaluate --model {out_dir} --data-dir {data_dir}`"
        )
