"""``tools``: deploy/destroy the stack, seed DynamoDB, build the image, local stack, demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from rollcall_tools.aws import DEFAULT_REGION, AwsTarget
from rollcall_tools.cli_bench import bench
from rollcall_tools.cli_common import (
    DryRun,
    EndpointUrl,
    Json,
    Local,
    Profile,
    Region,
    StackName,
    StateDir,
    print_change,
    resolve_stack,
    summary,
)
from rollcall_tools.cli_demo import demo
from rollcall_tools.cli_devices import devices_app, print_device_settings
from rollcall_tools.cli_dlq import dlq_app
from rollcall_tools.cli_results import results
from rollcall_tools.errors import ConfigError
from rollcall_tools.local import stack as local_stack
from rollcall_tools.local.state import DEFAULT_STATE_DIR
from rollcall_tools.output import err, handles_errors, out, print_json
from rollcall_tools.reliability import cli as reliability_cli
from rollcall_tools.stack.names import DEFAULT_STACK, check_prefix
from rollcall_tools.stack.plan import Action
from rollcall_tools.stack.settings import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_BATCHING_WINDOW_S,
    DEFAULT_IMAGE_TAG,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MEMORY_MB,
    DEFAULT_RETENTION_DAYS,
    DEFAULT_TIMEOUT_S,
    QUEUE_MAX_RECEIVES,
    StackSettings,
)

app = typer.Typer(
    name="tools",
    help="rollcall operations: deploy to AWS, seed DynamoDB, build the image, run locally.",
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
    add_completion=False,
)
local_app = typer.Typer(
    help="The embedded local stack: moto server + deployed stack + local runner.",
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
)
app.add_typer(local_app, name="local")
app.add_typer(devices_app, name="devices")
app.add_typer(dlq_app, name="dlq")
app.command("results")(results)
app.command("demo")(demo)
app.command("bench")(bench)
app.command("soak")(reliability_cli.soak)
app.command("faults")(reliability_cli.faults)


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
Devices = Annotated[
    list[str] | None,
    typer.Option(
        "--device",
        help="Register this device (its own results queue; repeat for more) and print its "
        "edge-capture settings. See `tools devices`.",
        show_default=False,
    ),
]


@app.command()
@handles_errors
def deploy(
    region: Region = DEFAULT_REGION,
    profile: Profile = None,
    endpoint_url: EndpointUrl = None,
    stack: StackName = DEFAULT_STACK,
    local: Local = None,
    retention_days: Annotated[
        int,
        typer.Option(envvar="ROLLCALL_RETENTION_DAYS", help="Days before a clip expires."),
    ] = DEFAULT_RETENTION_DAYS,
    timeout: Annotated[
        int,
        typer.Option(
            envvar="ROLLCALL_LAMBDA_TIMEOUT",
            help="Function timeout, seconds (the events queue hides a message 6x as long).",
        ),
    ] = DEFAULT_TIMEOUT_S,
    memory: Annotated[
        int, typer.Option(envvar="ROLLCALL_LAMBDA_MEMORY", help="Lambda memory, MB.")
    ] = DEFAULT_MEMORY_MB,
    batch_size: Annotated[
        int,
        typer.Option(
            envvar="ROLLCALL_BATCH_SIZE",
            help="Events per invocation (the event source mapping's batch size, 1..10000; "
            "over 10 needs --batching-window).",
        ),
    ] = DEFAULT_BATCH_SIZE,
    batching_window: Annotated[
        int,
        typer.Option(
            envvar="ROLLCALL_BATCHING_WINDOW_S",
            help="Seconds the mapping may wait to fill a batch (0..300; 0: no wait).",
        ),
    ] = DEFAULT_BATCHING_WINDOW_S,
    max_concurrency: Annotated[
        int,
        typer.Option(
            envvar="ROLLCALL_MAX_CONCURRENCY",
            help="Most concurrent invocations the mapping starts (2..1000).",
        ),
    ] = DEFAULT_MAX_CONCURRENCY,
    max_receives: Annotated[
        int,
        typer.Option(
            envvar="ROLLCALL_MAX_RECEIVES",
            help="Receives of an event before the events queue dead-letters it (1..1000).",
        ),
    ] = QUEUE_MAX_RECEIVES,
    image_tag: Annotated[
        str, typer.Option(envvar="ROLLCALL_IMAGE_TAG", help="ECR image tag the Lambda runs.")
    ] = DEFAULT_IMAGE_TAG,
    model_s3_uri: Annotated[
        str | None,
        typer.Option(
            envvar="ROLLCALL_MODEL_S3_URI",
            help="s3://bucket/prefix/ of an exported recognizer artifact, instead of the one "
            "baked into the image.",
        ),
    ] = None,
    device: Devices = None,
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    """Create or update the whole stack, idempotently; print the settings edge-capture needs."""
    settings = StackSettings(
        clip_retention_days=retention_days,
        timeout_s=timeout,
        memory_mb=memory,
        image_tag=image_tag,
        model_s3_uri=model_s3_uri,
        batch_size=batch_size,
        batching_window_s=batching_window,
        max_concurrency=max_concurrency,
        max_receives=max_receives,
    )
    target = resolve_stack(
        region,
        profile=profile,
        endpoint_url=endpoint_url,
        stack=stack,
        local=local,
        settings=settings,
    )
    flavour = "local" if target.settings.local else "aws"
    err.print(
        f"{'plan for' if dry_run else 'deploying'} stack [bold]{stack}[/] ({flavour}) "
        f"in {region} (account {target.names.account})"
    )
    result = target.deploy(dry_run=dry_run, on_change=print_change)
    devices = target.devices
    if device and not dry_run:
        result.changes += devices.add(device, on_change=print_change).changes
    registered = {d: devices.settings(d) for d in device or []}
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
        verb = "would change" if dry_run else "changed"
        err.print(f"{verb}: {'yes' if result.changed else 'nothing'}")
        out.print("\n# settings every edge device shares:")
        for key, value in target.edge_env().items():
            out.print(f"export {key}={value}")
        for settings_of in registered.values():
            print_device_settings(settings_of)
        if not registered:
            out.print("# then give each device its results queue: tools devices add DEVICE_ID")
    for change in result.blocked:
        err.print(f"[magenta]not deployed yet:[/] {change.name}: {change.details[0]}")


@app.command()
@handles_errors
def destroy(
    region: Region = DEFAULT_REGION,
    profile: Profile = None,
    endpoint_url: EndpointUrl = None,
    stack: StackName = DEFAULT_STACK,
    local: Local = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Also delete the bucket when it still holds objects."),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be deleted; delete nothing.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Remove everything deploy made and every registered device's route (asks first unless
    --yes; keeps a bucket that holds objects unless --force)."""
    target = resolve_stack(
        region, profile=profile, endpoint_url=endpoint_url, stack=stack, local=local
    )
    if not (yes or dry_run) and not typer.confirm(
        f"Delete stack {stack!r} in {region} (account {target.names.account})?", err=True
    ):
        raise ConfigError("not confirmed: nothing was deleted (use --yes to skip the question)")
    result = target.destroy(force=force, dry_run=dry_run, on_change=print_change)
    if as_json:
        print_json(summary(result, dry_run))
    else:
        err.print(
            f"{'would delete' if dry_run else 'deleted'}: "
            f"{sum(c.action is Action.DELETE for c in result.changes)} resource(s)"
        )


# --- seed-db / build-image -------------------------------------------------------------------
@app.command("seed-db")
@handles_errors
def seed_db(
    file: Annotated[
        Path,
        typer.Option(
            "--file", "-f", envvar="ROLLCALL_SEED_FILE", help="Student seed JSON (course format)."
        ),
    ],
    region: Region = DEFAULT_REGION,
    profile: Profile = None,
    endpoint_url: EndpointUrl = None,
    stack: StackName = DEFAULT_STACK,
    table: Annotated[
        str | None,
        typer.Option(envvar="ROLLCALL_TABLE", help="Table name (default: <stack>-students)."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Validate a student seed file and write it to the students table (idempotent)."""
    from rollcall_tools.seed import seed_file

    check_prefix(stack)
    target = AwsTarget(region=region, profile=profile, endpoint_url=endpoint_url)
    report = seed_file(target, table or f"{stack}-students", file)
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


@app.command("build-image")
@handles_errors
def build_image(
    region: Region = DEFAULT_REGION,
    profile: Profile = None,
    endpoint_url: EndpointUrl = None,
    stack: StackName = DEFAULT_STACK,
    model_dir: Annotated[
        Path | None,
        typer.Option(
            envvar="ROLLCALL_MODEL_DIR",
            help="Recognizer artifact to bake into the image (`face-model export`).",
        ),
    ] = None,
    detection_only: Annotated[
        bool,
        typer.Option(
            "--detection-only",
            help="Bake a detection-only artifact instead: faces are found, nobody is named.",
        ),
    ] = False,
    architecture: Annotated[
        str,
        typer.Option(
            envvar="ROLLCALL_ARCHITECTURE",
            help="Lambda architecture of the image: x86_64 or arm64.",
        ),
    ] = "x86_64",
    tag: Annotated[
        str, typer.Option(envvar="ROLLCALL_IMAGE_TAG", help="Image tag to build and push.")
    ] = DEFAULT_IMAGE_TAG,
    push: Annotated[
        bool, typer.Option("--push/--no-push", help="Push to ECR after building.")
    ] = True,
    task_root_only: Annotated[
        bool,
        typer.Option(
            "--task-root-only",
            help="Only assemble build/image/<architecture>/, the exact directory the image's "
            "task root holds (no Docker needed), and report its size.",
        ),
    ] = False,
    root: Annotated[
        Path, typer.Option(envvar="ROLLCALL_REPO_ROOT", help="Repository root (build context).")
    ] = Path(),
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

    check_prefix(stack)
    if (model_dir is None) == (not detection_only):
        raise ConfigError(
            "build-image needs --model-dir DIR (an exported artifact) or --detection-only"
        )
    if architecture not in DOCKER_PLATFORMS:
        raise ConfigError(f"--architecture must be x86_64 or arm64, not {architecture!r}")
    root = root.resolve()
    if not task_root_only:
        docker = docker_binary()
        target = AwsTarget(region=region, profile=profile, endpoint_url=endpoint_url)
        names = StackNames(stack, region, target.account_id())
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


# --- local stack ----------------------------------------------------------------------------
@local_app.command("up")
@handles_errors
def local_up(
    region: Region = DEFAULT_REGION,
    stack: StackName = DEFAULT_STACK,
    state_dir: StateDir = DEFAULT_STATE_DIR,
    roster: Annotated[
        Path | None,
        typer.Option(
            envvar="ROLLCALL_ROSTER", help="Student seed JSON (default: the demo's roster)."
        ),
    ] = None,
    model_dir: Annotated[
        Path | None,
        typer.Option(
            envvar="ROLLCALL_MODEL_DIR", help="Exported recognizer artifact (none: detection only)."
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            envvar="ROLLCALL_WORKERS",
            min=1,
            help="Local runner workers (the stand-in for the mapping's maximum concurrency).",
        ),
    ] = 1,
    batch_size: Annotated[
        int,
        typer.Option(
            envvar="ROLLCALL_BATCH_SIZE", min=1, max=10, help="Events the runner takes per batch."
        ),
    ] = DEFAULT_BATCH_SIZE,
    timeout: Annotated[
        int,
        typer.Option(
            envvar="ROLLCALL_LAMBDA_TIMEOUT",
            min=1,
            max=900,
            help="Function timeout, seconds: the runner's deadline per batch (the events "
            "queue hides a message 6x as long).",
        ),
    ] = DEFAULT_TIMEOUT_S,
    device: Devices = None,
    port: Annotated[
        int, typer.Option(envvar="ROLLCALL_LOCAL_PORT", min=0, help="Port (0: any free port).")
    ] = 0,
    as_json: Json = False,
) -> None:
    """Start moto on 127.0.0.1, deploy the stack into it, seed it, start the local runner
    (in place of the event source mapping), register --device ids."""
    from rollcall_tools.demo.roster import DEMO_ROSTER
    from rollcall_tools.seed import load_seed

    records = list(DEMO_ROSTER)
    if roster is not None:
        records, invalid = load_seed(roster)
        if invalid:
            raise ConfigError(
                f"{roster}: entry {invalid[0].index}: {invalid[0].message} "
                f"({len(invalid)} invalid; check it with `tools seed-db`)"
            )
    state = local_stack.up(
        state_dir,
        region=region,
        stack=stack,
        roster=records,
        model_dir=model_dir,
        workers=workers,
        batch_size=batch_size,
        timeout_s=timeout,
        devices=device,
        port=port,
        say=err.print,
    )
    env = {
        "ROLLCALL_ENDPOINT_URL": state.endpoint_url,
        "AWS_REGION": region,
        "ROLLCALL_BUCKET": str(state.outputs["bucket"]),
    }
    if as_json:
        print_json(
            {
                "endpoint_url": state.endpoint_url,
                "state_file": str(state.path),
                **state.outputs,
                "env": env,
                "devices": state.devices,
            }
        )
        return
    out.print(f"local stack up: {state.endpoint_url} (state {state.path})")
    out.print("# settings every edge device shares:")
    for key, value in env.items():
        out.print(f"export {key}={value}")
    for settings in state.devices.values():
        print_device_settings(settings)
    if not state.devices:
        out.print("# then give each device its results queue: tools devices add DEVICE_ID")


@local_app.command("down")
@handles_errors
def local_down(state_dir: StateDir = DEFAULT_STATE_DIR) -> None:
    """Stop the local runner and the local AWS server; forget the state."""
    ran = local_stack.down(state_dir)
    out.print("local stack stopped" if ran else "no local stack was running")


@local_app.command("status")
@handles_errors
def local_status(state_dir: StateDir = DEFAULT_STATE_DIR, as_json: Json = False) -> None:
    """Is the local stack running? Messages waiting in its queues?"""
    status = local_stack.status(state_dir)
    if as_json:
        print_json(status.to_json())
    elif status.endpoint_url is None:
        out.print("no local stack recorded (start one with `tools local up`)")
    else:
        table = RichTable(show_header=False, box=None)
        table.add_row("endpoint", status.endpoint_url)
        table.add_row("server", "running" if status.server_alive else "[red]stopped[/]")
        table.add_row("runner", "running" if status.runner_alive else "[red]stopped[/]")
        table.add_row("devices", ", ".join(status.devices) or "[dim]none registered[/]")
        for queue, depth in status.queues.items():
            table.add_row(f"queue {queue}", f"{depth} waiting")
        out.print(table)
    if not status.running:
        raise typer.Exit(1)
