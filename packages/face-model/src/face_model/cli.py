"""``face-model``: train, enroll, evaluate, calibrate, export, fetch weights, benchmark."""

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
from rich.table import Table

from face_model import __version__
from face_model.backbones import BACKBONES, DEFAULT_BACKBONE, TORCH_BACKBONES
from face_model.errors import (
    ArtifactError,
    DataError,
    DownloadError,
    FaceModelError,
    ModelDirError,
    UntrainedModelError,
    WeightsError,
)

app = typer.Typer(
    name="face-model",
    help="Train, evaluate, enroll and export rollcall's face recognizer.",
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
    add_completion=False,
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


def _setup(threads: int | None, verbose: bool) -> int:
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


def _print_issues(issues: list[Any]) -> None:
    """One line per problem image, full path first (never truncated)."""
    out.print(f"[bold]{len(issues)} image(s) needing attention:[/]")
    for issue in issues:
        out.print(
            f"  {issue.path}: [yellow]{issue.kind}[/] - {issue.detail}",
            soft_wrap=True,
            highlight=False,
        )


def _progress() -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
    )


@app.command()
def train(
    data_dir: Annotated[
        Path,
        typer.Option(
            "--data-dir",
            help="DIR/train/<person>/* (+ DIR/val/<person>/*) or DIR/<person>/*; "
            "any image format (JPEG, PNG, PGM, GIF...).",
        ),
    ],
    out_dir: Annotated[
        Path,
        typer.Option("--out", help="Model directory to write."),
    ],
    backbone: Annotated[
        str | None,
        typer.Option(
            help=f"Embedding network: {', '.join(BACKBONE_CHOICES)} (default: ROLLCALL_BACKBONE, "
            f"else {DEFAULT_BACKBONE}, dlib's public-domain ResNet, built in: no weights file, "
            f"no torch); {', '.join(TORCH_BACKBONES)} need --weights and the train extra.",
        ),
    ] = None,
    weights: Annotated[
        Path | None,
        typer.Option(
            help="Local weights of a torch backbone (state dict or {'net_state_dict'} "
            "checkpoint) (default: ROLLCALL_WEIGHTS). Without it a torch network is random and "
            "cannot recognise anyone.",
        ),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            help="Cosine threshold below which a face is unknown (default: the backbone's).",
        ),
    ] = None,
    margin: Annotated[
        float,
        typer.Option(help="Minimum best-minus-second similarity."),
    ] = 0.03,
    matching: Annotated[
        str,
        typer.Option(
            help="Person score: centroid, knn (mean of k best) or hybrid (higher of both).",
        ),
    ] = "hybrid",
    k: Annotated[int, typer.Option(help="k for knn/hybrid.", min=1)] = 3,
    min_face_size: Annotated[int, typer.Option(help="Smallest face (px) to keep.")] = 20,
    files: FilesOpt = None,
    epochs: Annotated[
        int,
        typer.Option(
            help="Fine-tune the backbone for this many epochs first (0: no fine-tuning).",
            min=0,
        ),
    ] = 0,
    lr: Annotated[float, typer.Option(help="Backbone learning rate.")] = 1e-4,
    batch_size: Annotated[int, typer.Option(help="Fine-tuning batch size.", min=1)] = 16,
    seed: Annotated[int, typer.Option(help="Fine-tuning seed.")] = 0,
    resume: Annotated[
        bool,
        typer.Option(
            help="Continue from the last checkpoint in OUT/checkpoints (else start over).",
        ),
    ] = True,
    strict: Annotated[
        bool,
        typer.Option(help="Fail (exit 1) if any image had a problem."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    threads: ThreadsOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Build a model: detect, align and embed every training image into the gallery.

    Images with no face or several faces are reported by path; in a group photo the face
    that agrees with the person's other photos is enrolled. With --epochs the backbone is
    first fine-tuned on these people (CosFace, seeded, one resumable checkpoint per epoch in
    OUT/checkpoints); small sets overfit easily, so evaluate before and after.
    """
    from face_model.backbones import get_spec
    from face_model.dataset import discover
    from face_model.gallery import METHODS

    _setup(threads, verbose)
    with friendly_errors():
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
        dataset = discover(data_dir, files or ())
        from face_model.training import TuneRequest, build_model

        total = dataset.count("train")
        with _progress() as progress:
            task = progress.add_task("enrolling", total=total)
            tune = None
            if epochs:
                from face_model.finetune import FineTuneConfig

                epoch_task = progress.add_task("fine-tuning (epochs)", total=epochs)

                def on_epoch(epoch: int, loss: float) -> None:
                    progress.update(epoch_task, completed=epoch)
                    err.print(f"epoch {epoch}/{epochs}: loss {loss:.4f}", highlight=False)

                tune = TuneRequest(
                    FineTuneConfig(epochs=epochs, lr=lr, batch_size=batch_size, seed=seed),
                    out_dir / "checkpoints",
                    resume=resume,
                    on_epoch=on_epoch,
                )
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
                tune=tune,
            )
    summary = {
        "model": str(out_dir),
        "backbone": backbone,
        "pretrained": model.config.pretrained,
        "layout": dataset.layout,
        "people": report.enrolled,
        "n_images": total,
        "threshold": model.config.threshold,
        "issues": [vars(i) for i in report.issues],
        "val_images": dataset.count("val"),
        "fine_tune": vars(report.fine_tune) if report.fine_tune else None,
    }
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
    else:
        table = Table(title=f"enrolled into {out_dir} ({backbone}, {dataset.layout} layout)")
        table.add_column("person")
        table.add_column("images", justify="right")
        for person, n in report.enrolled.items():
            table.add_row(person, str(n))
        out.print(table)
        if report.issues:
            _print_issues(report.issues)
        if dataset.val:
            out.print(
                f"validation images: {dataset.count('val')} - run "
                f"`face-model evaluate --model {out_dir} --data-dir {data_dir}`"
            )
    if strict and report.issues:
        raise typer.Exit(EXIT_FAILED)


@app.command()
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

    _setup(threads, verbose)
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
        _print_issues(report.issues)


@app.command()
def people(
    model: ModelOpt,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the enrolled people (model directory or exported artifact)."""
    from face_model.gallery import Gallery

    with friendly_errors():
        if (model / "manifest.json").is_file():
            from face_model.artifact import read_manifest

            read_manifest(model)
            gallery = Gallery.load(model / "gallery.npz")
        else:
            from face_model.model_dir import load_config, load_gallery

            load_config(model)
            gallery = load_gallery(model)
    counts = gallery.counts()
    if as_json:
        sys.stdout.write(json.dumps(counts) + "\n")
        return
    table = Table(title=f"{len(counts)} people in {model}")
    table.add_column("person")
    table.add_column("embeddings", justify="right")
    for name, n in counts.items():
        table.add_row(name, str(n))
    out.print(table)


@app.command()
def remove(
    model: ModelOpt,
    person: Annotated[str, typer.Option(help="Name to remove.")],
) -> None:
    """Forget a person in a model directory."""
    from face_model.training import remove as do_remove

    with friendly_errors():
        n = do_remove(model, person)
    out.print(f"removed [bold]{person}[/] ({n} embeddings)")


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
    with _progress() as progress:
        task = progress.add_task("evaluating", total=total)
        probes = run_probes(scorer, people_map, lambda: progress.advance(task))
    return scorer, probes


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


@app.command()
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
    report_dir: Annotated[
        Path | None,
        typer.Option(
            help="Where report.json and confusion.png go (default MODEL/evaluation, or "
            "./evaluation for an exported artifact).",
        ),
    ] = None,
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
    from face_model.evaluation import plot_confusion

    _setup(threads, verbose)
    with friendly_errors():
        scorer, probes = _probes(model, data_dir, split, files, allow_untrained)
        report = do_evaluate(scorer, probes, threshold)
        # never write into an exported artifact (it is shipped as is)
        is_artifact = (model / "manifest.json").is_file()
        target = report_dir or (Path.cwd() / "evaluation" if is_artifact else model / "evaluation")
        target.mkdir(parents=True, exist_ok=True)
        report["confusion_png"] = str(plot_confusion(report, target / "confusion.png"))
        report["report_json"] = str(target / "report.json")
        (target / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    if as_json:
        sys.stdout.write(json.dumps(report) + "\n")
    else:
        _print_report(report)
    if min_accuracy is not None and (report["accuracy"] or 0.0) < min_accuracy:
        err.print(f"[red]accuracy {report['accuracy']:.4f} is below {min_accuracy}[/]")
        raise typer.Exit(EXIT_FAILED)


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _print_report(report: dict[str, Any]) -> None:
    table = Table(title=f"evaluation of {report['model']} ({report['backbone']})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in (
        "n_images",
        "accuracy",
        "identification_rate",
        "misidentification_rate",
        "unknown_rejection",
        "tar",
        "far",
        "threshold",
        "mean_ms_per_image",
    ):
        table.add_row(key, _fmt(report[key]))
    out.print(table)
    per = Table(title="per person")
    per.add_column("person")
    per.add_column("precision", justify="right")
    per.add_column("recall", justify="right")
    per.add_column("images", justify="right")
    for person, row in report["per_person"].items():
        per.add_row(person, _fmt(row["precision"]), _fmt(row["recall"]), str(row["n_images"]))
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


@app.command()
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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    threads: ThreadsOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Pick the threshold for a target FAR from held-out images and store it in the model.

    Impostors are each image's best score against the wrong people (every enrolled person
    for people who are not enrolled); the lowest threshold meeting the FAR is chosen.
    """
    from face_model.evaluation import calibrate as do_calibrate
    from face_model.training import set_threshold

    _setup(threads, verbose)
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
        sys.stdout.write(json.dumps(result) + "\n")
    else:
        out.print(
            f"threshold [bold]{result['threshold']:.4f}[/] for FAR <= {target_far}: "
            f"FAR {_fmt(result['far'])}, TAR {_fmt(result['tar'])} on "
            f"{result['n_genuine']} genuine / {result['n_impostor']} impostor scores"
            + ("" if dry_run else f"; stored in {model}")
        )


@app.command()
def export(
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Artifact directory to write (what the handler loads); an older artifact "
            "there is replaced.",
        ),
    ],
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="Model directory written by `face-model train` (omit with --detection-only).",
        ),
    ] = None,
    detection_only: Annotated[
        bool,
        typer.Option(
            "--detection-only",
            help="Export the detector alone: faces are found, nobody is ever named.",
        ),
    ] = False,
    allow_untrained: Annotated[
        bool,
        typer.Option(
            "--allow-untrained",
            help="Export a random-weights model anyway, marked pretrained=false (it never "
            "names anyone).",
        ),
    ] = False,
    threads: ThreadsOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Write the serving artifact: MTCNN and embedding networks as ONNX (a torch backbone is
    checked against torch), gallery and a manifest with every file's sha256."""
    from face_model.artifact import export_detection_only, export_model

    _setup(threads, verbose)
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


models_app = typer.Typer(
    help="The built-in ONNX networks (MTCNN, dlib ResNet): converted on first need from "
    "weights inside installed wheels into a cache (ROLLCALL_MODEL_CACHE, default "
    "~/.cache/rollcall/models), sha256-verified on every load.",
    no_args_is_help=True,
)
app.add_typer(models_app, name="models")


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
def models_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show each built-in network, where it comes from and whether it is built."""
    from face_model.model_cache import BUILTIN, cache_dir, read_record

    rows: list[dict[str, Any]] = []
    for name, model in BUILTIN.items():
        record = read_record(name)
        rows.append(
            {
                "name": name,
                "description": model.description,
                "package": model.package,
                "licence": model.licence,
                "built": record is not None and record.path.is_file(),
                "path": str(record.path) if record else None,
                "sha256": record.sha256 if record else None,
            }
        )
    if as_json:
        sys.stdout.write(json.dumps({"cache": str(cache_dir()), "models": rows}) + "\n")
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


@app.command("fetch-weights")
def fetch_weights(
    name: Annotated[
        str, typer.Argument(help="Published weights: vggface2 or casia-webface.")
    ] = "vggface2",
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="File to write (default: ./<release name>)."),
    ] = None,
    sha256: Annotated[
        str | None,
        typer.Option(help="Expected sha256 of the file."),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(help="Download from here (mirror) instead."),
    ] = None,
    no_verify: Annotated[
        bool,
        typer.Option("--no-verify", help="Keep the file without a sha256 to check against."),
    ] = False,
    check_load: Annotated[
        bool,
        typer.Option(help="Check that the file loads into InceptionResnetV1 strictly."),
    ] = True,
    timeout: Annotated[float, typer.Option(help="Network timeout (s).")] = 60.0,
) -> None:
    """Download facenet-pytorch's InceptionResnetV1 weights (VGGFace2 or CASIA-WebFace),
    verified by sha256; exit 3 when the server is unreachable."""
    from face_model.fetch import PUBLISHED, download

    if name not in PUBLISHED:
        fail(f"unknown weights {name!r}; choose one of: {', '.join(PUBLISHED)}")
    published = PUBLISHED[name]
    expected = sha256 or published.sha256
    if expected is None and not no_verify:
        fail(
            f"no sha256 is pinned for {published.filename}: pass --sha256 HEX "
            "(from a trusted source) or --no-verify to accept the file unverified"
        )
    target = out_file or Path.cwd() / published.filename
    source = url or published.url
    with friendly_errors():
        with _progress() as progress:
            task = progress.add_task(f"fetching {target.name}", total=None)
            digest = download(
                source,
                target,
                sha256=expected,
                timeout=timeout,
                on_progress=lambda done, size: progress.update(
                    task, completed=done, total=size or None
                ),
            )
        if check_load:
            from face_model.weights import load_backbone

            try:
                load_backbone("inception-resnet-v1", target)
            except WeightsError:
                target.unlink(missing_ok=True)
                raise
    status = "verified" if expected else "UNVERIFIED"
    out.print(f"wrote {target} (sha256 {digest}, {status})")


@app.command()
def bench(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
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

    threads = _setup(threads, verbose)
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
        sys.stdout.write(json.dumps(report) + "\n")
        return
    detect = report["detect"]
    table = Table(title=f"MTCNN, ms per {report['image'][1]}x{report['image'][0]} frame")
    for column in ("onnxruntime, batch 1", "onnxruntime, batch 8", "torch, batch 1"):
        table.add_column(column, justify="right")
    table.add_row(
        *(
            _fmt(detect[k])
            for k in (
                "onnx_batch1_ms_per_frame",
                "onnx_batch8_ms_per_frame",
                "torch_batch1_ms_per_frame",
            )
        )
    )
    out.print(table)
    table = Table(title=f"ms per face, {threads} thread(s), median of {repeats}")
    table.add_column("stage")
    for name in report["backbones"]:
        table.add_column(name, justify="right")
    for label in (
        "align_ms_per_face",
        "embed_onnx_batch1_ms_per_face",
        "embed_onnx_batch8_ms_per_face",
        "embed_torch_batch1_ms_per_face",
        "embed_torch_batch8_ms_per_face",
        "artifact_load_ms",
    ):
        table.add_row(label, *(_ms(e.get(label)) for e in report["backbones"].values()))
    out.print(table)


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"
