"""``tools``: deploy/destroy the stack, seed DynamoDB, build the image; and the app that
gathers every command (local stack, devices, results, dlq, demo, bench, soak, faults)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rollcall_tools.cli_attendance import attendance_app
from rollcall_tools.cli_bench import bench, bench_gate
from rollcall_tools.cli_common import (
    Devices,
    DryRun,
    InputBucket,
    Json,
    ModelDir,
    OutputBucket,
    OutputFormat,
    Where,
    confirm,
    located,
    print_change,
    print_deleted,
    summary,
)
from rollcall_tools.cli_course import course
from rollcall_tools.cli_dashboard import dashboard
from rollcall_tools.cli_demo import demo
from rollcall_tools.cli_devices import devices_app, print_edge_settings
from rollcall_tools.cli_dlq import dlq_app
from rollcall_tools.cli_faces import faces_app
from rollcall_tools.cli_local import local_app
from rollcall_tools.cli_results import results
from rollcall_tools.errors import ConfigError
from rollcall_tools.output import err, handles_errors, out, print_json
from rollcall_tools.reliability import cli as reliability_cli
from rollcall_tools.stack.buckets import Buckets
from rollcall_tools.stack.settings import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_BATCHING_WINDOW_S,
    DEFAULT_IMAGE_TAG,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MEMORY_MB,
    DEFAULT_RETENTION_DAYS,
    DEFAULT_SIGHTINGS_RETENTION_DAYS,
    DEFAULT_TIMEOUT_S,
    DEFAULT_UNKNOWN_RETENTION_DAYS,
    LAMBDA_ARCHITECTURES,
    QUEUE_MAX_RECEIVES,
    StackSettings,
)

if TYPE_CHECKING:
    from rollcall_tools.stack.deploy import Stack
    from rollcall_tools.stack.plan import PlanResult

app = typer.Typer(
    name="tools",
    help="rollcall operations: deploy to AWS, seed DynamoDB, build the image, run locally.",
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(local_app, name="local")
app.add_typer(devices_app, name="devices")
app.add_typer(dlq_app, name="dlq")
app.add_typer(attendance_app, name="attendance")
app.add_typer(faces_app, name="faces")
app.command("results")(results)
app.command("demo")(demo)
app.command("bench")(bench)
app.command("bench-gate")(bench_gate)
app.command("course")(course)
app.command("soak")(reliability_cli.soak)
app.command("faults")(reliability_cli.faults)
app.command("dashboard")(dashboard)


def _version(value: bool) -> None:
    if value:
        from rollcall_tools import __version__

        out.print(f"tools (rollcall-tools) {__version__}")
        raise typer.Exit


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """rollcall operations."""


# --- deploy / destroy ------------------------------------------------------------------------
Local = Annotated[
    bool | None,
    typer.Option(
        "--local/--aws",
        help="Local flavour (no Lambda: the local runner consumes the events queue). Default: "
        "local when --endpoint-url is on 127.0.0.1/localhost.",
        show_default=False,
    ),
]


Architecture = Annotated[
    str,
    typer.Option(
        help="Lambda architecture: x86_64 or arm64 (build-image and deploy must name the same)."
    ),
]


RetentionDays = Annotated[int, typer.Option(help="Days before a clip expires.")]
SightingsRetentionDays = Annotated[
    int, typer.Option(help="Days a sighting (attendance) is kept: the table's TTL.")
]
UnknownRetentionDays = Annotated[
    int,
    typer.Option(
        help="Days the face store keeps unknown faces (S3 lifecycle, DynamoDB TTL; 0 keeps none)."
    ),
]
Timeout = Annotated[
    int,
    typer.Option(help="Function timeout, seconds (the events queue hides a message 6x as long)."),
]
Memory = Annotated[int, typer.Option(help="Lambda memory, MB.")]
BatchSize = Annotated[
    int,
    typer.Option(
        help="Events per invocation (the event source mapping's batch size, 1..10000; "
        "over 10 needs --batching-window).",
    ),
]
BatchingWindow = Annotated[
    int, typer.Option(help="Seconds the mapping may wait to fill a batch (0..300; 0: no wait).")
]
MaxConcurrency = Annotated[
    int, typer.Option(help="Most concurrent invocations the mapping starts (2..1000).")
]
MaxReceives = Annotated[
    int,
    typer.Option(help="Receives of an event before the events queue dead-letters it (1..1000)."),
]
ImageTag = Annotated[str, typer.Option(help="ECR image tag the Lambda runs.")]
ModelS3Uri = Annotated[
    str | None,
    typer.Option(
        help="s3://bucket/prefix/ of an exported recognizer artifact, instead of the one "
        "baked into the image (default: ROLLCALL_MODEL_S3_URI).",
        show_default=False,
    ),
]


@app.command()
@handles_errors
@located
def deploy(
    where: Where,
    local: Local = None,
    retention_days: RetentionDays = DEFAULT_RETENTION_DAYS,
    sightings_retention_days: SightingsRetentionDays = DEFAULT_SIGHTINGS_RETENTION_DAYS,
    unknown_retention_days: UnknownRetentionDays = DEFAULT_UNKNOWN_RETENTION_DAYS,
    timeout: Timeout = DEFAULT_TIMEOUT_S,
    memory: Memory = DEFAULT_MEMORY_MB,
    batch_size: BatchSize = DEFAULT_BATCH_SIZE,
    batching_window: BatchingWindow = DEFAULT_BATCHING_WINDOW_S,
    max_concurrency: MaxConcurrency = DEFAULT_MAX_CONCURRENCY,
    max_receives: MaxReceives = QUEUE_MAX_RECEIVES,
    image_tag: ImageTag = DEFAULT_IMAGE_TAG,
    architecture: Architecture = LAMBDA_ARCHITECTURES[0],
    model_s3_uri: ModelS3Uri = None,
    device: Devices = None,
    input_bucket: InputBucket = None,
    output_bucket: OutputBucket = None,
    output_format: OutputFormat = "course",
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    """Create or update the whole stack, idempotently; print the settings edge-capture needs."""
    target = where.resolve(
        local=local,
        buckets=Buckets.from_options(input_bucket, output_bucket, output_format),
        settings=StackSettings(
            clip_retention_days=retention_days,
            sightings_retention_days=sightings_retention_days,
            unknown_retention_days=unknown_retention_days,
            timeout_s=timeout,
            memory_mb=memory,
            image_tag=image_tag,
            model_s3_uri=model_s3_uri or where.settings.model_s3_uri,
            batch_size=batch_size,
            batching_window_s=batching_window,
            max_concurrency=max_concurrency,
            max_receives=max_receives,
            architecture=architecture,
        ),
    )
    flavour = "local" if target.settings.local else "aws"
    err.print(
        f"{'plan for' if dry_run else 'deploying'} stack [bold]{where.stack}[/] ({flavour}) "
        f"in {where.region} (account {target.names.account})"
    )
    result = target.deploy(dry_run=dry_run, on_change=print_change)
    if device and not dry_run:
        result.changes += target.devices.add(device, on_change=print_change).changes
    _print_deployed(target, result, device or [], dry_run, as_json)


def _print_deployed(
    target: Stack, result: PlanResult, device: list[str], dry_run: bool, as_json: bool
) -> None:
    """What deploy did (or would do) and the settings edge-capture needs."""
    registered = {d: target.devices.settings(d) for d in device}
    if as_json:
        print_json(
            {
                **summary(result, dry_run),
                "outputs": target.outputs(),
                "env": target.edge_env(),
                "devices": registered,
            }
        )
    else:
        err.print(
            f"{'would change' if dry_run else 'changed'}: {'yes' if result.changed else 'nothing'}"
        )
        print_edge_settings(target.edge_env(), registered)
    for change in result.blocked:
        err.print(f"[magenta]not deployed yet:[/] {change.name}: {change.details[0]}")


@app.command()
@handles_errors
@located
def destroy(
    where: Where,
    local: Local = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Also delete the bucket when it still holds objects."),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be deleted; delete nothing.")
    ] = False,
    input_bucket: Annotated[
        str | None,
        typer.Option(help="The upload bucket's name, when deployed with --input-bucket."),
    ] = None,
    output_bucket: Annotated[
        str | None,
        typer.Option(help="The output bucket, when deployed with --output-bucket."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Remove everything deploy made and every registered device's route (asks first unless
    --yes; keeps a bucket that holds objects unless --force)."""
    target = where.resolve(local=local, buckets=Buckets(input_bucket, output_bucket))
    confirm(
        f"Delete stack {where.stack!r} in {where.region} (account {target.names.account})?",
        yes or dry_run,
        "nothing was deleted",
    )
    result = target.destroy(force=force, dry_run=dry_run, on_change=print_change)
    print_deleted(result, dry_run, as_json)


# --- seed-db / build-image -------------------------------------------------------------------
@app.command("seed-db")
@handles_errors
@located
def seed_db(
    where: Where,
    file: Annotated[Path, typer.Option("--file", "-f", help="Student seed JSON (course format).")],
    table: Annotated[
        str | None,
        typer.Option(
            help="Table name (default: ROLLCALL_TABLE, else <stack>-students).", show_default=False
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """Validate a student seed file and write it to the students table (idempotent)."""
    from rollcall_tools.seed import seed_file

    name = table or where.settings.table or f"{where.stack}-students"
    report = seed_file(where.target(), name, file)
    if as_json:
        print_json(report.to_json())
    else:
        out.print(
            f"{report.table}: {len(report.written)} written, {len(report.unchanged)} unchanged, "
            f"{len(report.invalid)} invalid"
        )
        for entry in report.invalid:
            err.print(f"[red]invalid entry {entry.index}[/] in {file}: {entry.message}")
    if report.invalid:
        raise typer.Exit(1)


DetectionOnly = Annotated[
    bool,
    typer.Option(
        "--detection-only",
        help="Bake a detection-only artifact instead: faces are found, nobody is named.",
    ),
]
NetworksOnly = Annotated[
    bool,
    typer.Option(
        "--networks-only",
        help="Bake dlib's networks with nobody enrolled: the stack's face library holds "
        "the people (`tools faces`).",
    ),
]
Push = Annotated[bool, typer.Option("--push/--no-push", help="Push to ECR after building.")]
TaskRootOnly = Annotated[
    bool,
    typer.Option(
        "--task-root-only",
        help="Only assemble build/image/<architecture>/, the exact directory the image's "
        "task root holds (no Docker needed), and report its size.",
    ),
]


@app.command("build-image")
@handles_errors
@located
def build_image(
    where: Where,
    model_dir: ModelDir = None,
    detection_only: DetectionOnly = False,
    architecture: Architecture = LAMBDA_ARCHITECTURES[0],
    networks_only: NetworksOnly = False,
    tag: Annotated[str, typer.Option(help="Image tag to build and push.")] = DEFAULT_IMAGE_TAG,
    push: Push = True,
    task_root_only: TaskRootOnly = False,
    root: Annotated[Path, typer.Option(help="Repository root (build context).")] = Path(),
) -> None:
    """Assemble the handler's task root (locked wheels without torch, the workspace packages,
    the recognizer artifact), build the image from it with Docker, log in to ECR and push."""
    from rollcall_tools.image import (
        DOCKER_PLATFORMS,
        build_and_push,
        docker_binary,
        plan_image,
        prepare_task_root,
    )
    from rollcall_tools.stack.names import StackNames

    model_dir = _image_artifact(
        model_dir or where.settings.model_dir, detection_only, networks_only, root
    )
    if architecture not in DOCKER_PLATFORMS:
        raise ConfigError(f"--architecture must be x86_64 or arm64, not {architecture!r}")
    root = root.resolve()
    if not task_root_only:
        docker = docker_binary()
        target = where.target()
        who = target.identity()
        names = StackNames(where.stack, where.region, who.account, who.partition)
        plan = plan_image(target, names, root, tag, architecture)
    task = prepare_task_root(
        root, model_dir=model_dir, architecture=architecture, progress=err.print
    )
    out.print(
        f"task root {task.path}: {task.size_bytes / 1e6:.1f} MB, "
        f"{len(task.distributions())} distributions, no torch"
    )
    if task_root_only:
        return
    err.print(f"building {plan.reference} from {plan.dockerfile}")
    build_and_push(target, plan, docker, push=push)
    out.print(f"{'pushed' if push else 'built'} {plan.reference}")
    if push:
        out.print("next: `tools deploy` points the Lambda at this image")


def _image_artifact(
    model_dir: Path | None, detection_only: bool, networks_only: bool, root: Path
) -> Path | None:
    """The artifact to bake (None: detection only), from exactly one of the three choices."""
    if [model_dir is not None, detection_only, networks_only].count(True) != 1:
        raise ConfigError(
            "build-image needs --model-dir DIR (an exported artifact), --networks-only or "
            "--detection-only"
        )
    if networks_only:
        from rollcall_tools.faces.seed import default_networks

        return default_networks(root.resolve() / "build" / "image")
    return model_dir
