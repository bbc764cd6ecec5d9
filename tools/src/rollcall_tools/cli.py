"""``tools``: deploy/destroy the stack, seed DynamoDB, build the image, local stack, demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from rollcall_tools import __version__
from rollcall_tools.aws import DEFAULT_REGION, AwsTarget, is_loopback
from rollcall_tools.cli_bench import bench
from rollcall_tools.cli_demo import demo
from rollcall_tools.errors import ConfigError
from rollcall_tools.local import stack as local_stack
from rollcall_tools.local.state import DEFAULT_STATE_DIR
from rollcall_tools.output import err, handles_errors, out, print_json
from rollcall_tools.reliability import cli as reliability_cli
from rollcall_tools.stack.deploy import Stack
from rollcall_tools.stack.names import DEFAULT_STACK, check_prefix
from rollcall_tools.stack.plan import Action, Change, PlanResult
from rollcall_tools.stack.settings import (
    DEFAULT_IMAGE_TAG,
    DEFAULT_MEMORY_MB,
    DEFAULT_RETENTION_DAYS,
    DEFAULT_TIMEOUT_S,
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
app.command("demo")(demo)
app.command("bench")(bench)
app.command("soak")(reliability_cli.soak)
app.command("faults")(reliability_cli.faults)

# --- shared options -------------------------------------------------------------------------
Region = Annotated[
    str,
    typer.Option(
        "--region", envvar=["AWS_REGION", "AWS_DEFAULT_REGION"], help="AWS region of the stack."
    ),
]
Profile = Annotated[
    str | None,
    typer.Option("--profile", envvar="AWS_PROFILE", help="AWS credentials profile to use."),
]
EndpointUrl = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        envvar="ROLLCALL_ENDPOINT_URL",
        help="AWS endpoint (e.g. the local moto server); default: real AWS.",
    ),
]
StackName = Annotated[
    str,
    typer.Option(
        "--stack", envvar="ROLLCALL_STACK", help="Stack name: the prefix of every resource name."
    ),
]
Local = Annotated[
    bool | None,
    typer.Option(
        "--local/--aws",
        envvar="ROLLCALL_LOCAL",
        help="Local flavour (bucket notifies an events queue; no Lambda). Default: local when "
        "--endpoint-url is on 127.0.0.1/localhost.",
        show_default=False,
    ),
]
Json = Annotated[
    bool, typer.Option("--json", envvar="ROLLCALL_JSON", help="Print one JSON object only.")
]
StateDir = Annotated[
    Path,
    typer.Option(
        "--state-dir",
        envvar="ROLLCALL_STATE_DIR",
        help="Where the local stack's state file and logs live.",
    ),
]


def _version(value: bool) -> None:
    if value:
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


def _stack(
    region: str,
    *,
    profile: str | None,
    endpoint_url: str | None,
    stack: str,
    local: bool | None,
    settings: StackSettings | None = None,
) -> Stack:
    check_prefix(stack)
    target = AwsTarget(region=region, profile=profile, endpoint_url=endpoint_url)
    local = is_loopback(endpoint_url) if local is None else local
    base = settings or StackSettings()
    settings = StackSettings(**{**base.__dict__, "local": local})
    return Stack.resolve(target, stack, settings)


_STYLE = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.DELETE: "red",
    Action.BLOCKED: "magenta",
    Action.NOOP: "dim",
    Action.ABSENT: "dim",
}


def _print_change(change: Change) -> None:
    style = _STYLE[change.action]
    err.print(f"  [{style}]{change.action:>9}[/] {change.kind:<17} {change.name}")
    for detail in change.details:
        err.print(f"            [dim]{detail}[/]")


def _summary(result: PlanResult, dry_run: bool) -> dict[str, object]:
    counts: dict[str, int] = {}
    for change in result.changes:
        counts[str(change.action)] = counts.get(str(change.action), 0) + 1
    return {
        "dry_run": dry_run,
        "changed": result.changed,
        "counts": counts,
        "changes": [c.to_json() for c in result.changes],
    }


# --- deploy / destroy ------------------------------------------------------------------------
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
        int, typer.Option(envvar="ROLLCALL_LAMBDA_TIMEOUT", help="Lambda timeout, seconds.")
    ] = DEFAULT_TIMEOUT_S,
    memory: Annotated[
        int, typer.Option(envvar="ROLLCALL_LAMBDA_MEMORY", help="Lambda memory, MB.")
    ] = DEFAULT_MEMORY_MB,
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
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; change nothing.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Create or update the whole stack, idempotently; print the settings edge-capture needs."""
    settings = StackSettings(
        clip_retention_days=retention_days,
        timeout_s=timeout,
        memory_mb=memory,
        image_tag=image_tag,
        model_s3_uri=model_s3_uri,
    )
    target = _stack(
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
    result = target.deploy(dry_run=dry_run, on_change=_print_change)
    summary = {**_summary(result, dry_run), "outputs": target.outputs(), "env": target.edge_env()}
    if as_json:
        print_json(summary)
    else:
        verb = "would change" if dry_run else "changed"
        err.print(f"{verb}: {'yes' if result.changed else 'nothing'}")
        out.print("\n# settings for edge-capture:")
        for key, value in target.edge_env().items():
            out.print(f"export {key}={value}")
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
        typer.Option("--force", help="Also delete the clips bucket when it still holds clips."),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be deleted; delete nothing.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Remove everything deploy made (asks first unless --yes; keeps clips unless --force)."""
    target = _stack(region, profile=profile, endpoint_url=endpoint_url, stack=stack, local=local)
    if not (yes or dry_run) and not typer.confirm(
        f"Delete stack {stack!r} in {region} (account {target.names.account})?", err=True
    ):
        raise ConfigError("not confirmed: nothing was deleted (use --yes to skip the question)")
    result = target.destroy(force=force, dry_run=dry_run, on_change=_print_change)
    if as_json:
        print_json(_summary(result, dry_run))
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
        int, typer.Option(envvar="ROLLCALL_WORKERS", min=1, help="Local runner workers.")
    ] = 1,
    port: Annotated[
        int, typer.Option(envvar="ROLLCALL_LOCAL_PORT", min=0, help="Port (0: any free port).")
    ] = 0,
    as_json: Json = False,
) -> None:
    """Start moto on 127.0.0.1, deploy the stack into it, seed it, start the local runner."""
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
        port=port,
        say=err.print,
    )
    if as_json:
        print_json(
            {"endpoint_url": state.endpoint_url, "state_file": str(state.path), **state.outputs}
        )
        return
    out.print(f"local stack up: {state.endpoint_url} (state {state.path})")
    out.print(f"export ROLLCALL_ENDPOINT_URL={state.endpoint_url}")
    out.print(f"export AWS_REGION={region}")
    out.print(f"export ROLLCALL_BUCKET={state.outputs['bucket']}")
    out.print(f"export ROLLCALL_RESULTS_QUEUE={state.outputs['results_queue']}")


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
        for queue, depth in status.queues.items():
            table.add_row(f"queue {queue}", f"{depth} waiting")
        out.print(table)
    if not status.running:
        raise typer.Exit(1)
