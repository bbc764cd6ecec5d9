"""``tools local up|down|status``: the embedded local stack."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table as RichTable

from rollcall_tools.cli_common import (
    Devices,
    InputBucket,
    Json,
    ModelDir,
    OutputBucket,
    OutputFormat,
    Region,
    StackName,
    StateDir,
)
from rollcall_tools.cli_devices import print_edge_settings
from rollcall_tools.errors import ConfigError
from rollcall_tools.local import stack as local_stack
from rollcall_tools.output import err, handles_errors, out, print_json
from rollcall_tools.settings import load_settings
from rollcall_tools.stack.buckets import Buckets
from rollcall_tools.stack.names import check_prefix
from rollcall_tools.stack.settings import DEFAULT_BATCH_SIZE, DEFAULT_TIMEOUT_S

if TYPE_CHECKING:
    from shared_schema import StudentRecord

local_app = typer.Typer(
    help="The embedded local stack: moto server + deployed stack + local runner.",
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
)


RosterOpt = Annotated[
    Path | None,
    typer.Option(help="Student seed JSON (default: the demo's roster).", show_default=False),
]
WorkersOpt = Annotated[
    int,
    typer.Option(
        min=1, help="Local runner workers (the stand-in for the mapping's maximum concurrency)."
    ),
]
BatchSizeOpt = Annotated[
    int, typer.Option(min=1, max=10, help="Events the runner takes per batch.")
]
TimeoutOpt = Annotated[
    int,
    typer.Option(
        min=1,
        max=900,
        help="Function timeout, seconds: the runner's deadline per batch (the events "
        "queue hides a message 6x as long).",
    ),
]


@local_app.command("up")
@handles_errors
def up(
    region: Region = None,
    stack: StackName = None,
    state_dir: StateDir = None,
    roster: RosterOpt = None,
    model_dir: ModelDir = None,
    workers: WorkersOpt = 1,
    batch_size: BatchSizeOpt = DEFAULT_BATCH_SIZE,
    timeout: TimeoutOpt = DEFAULT_TIMEOUT_S,
    device: Devices = None,
    port: Annotated[int, typer.Option(min=0, help="Port (0: any free port).")] = 0,
    input_bucket: InputBucket = None,
    output_bucket: OutputBucket = None,
    output_format: OutputFormat = "course",
    as_json: Json = False,
) -> None:
    """Start moto on 127.0.0.1, deploy the stack into it, seed it, start the local runner
    (in place of the event source mapping), register --device ids."""
    settings = load_settings()
    region, stack = region or settings.region, check_prefix(stack or settings.stack)
    buckets = Buckets.from_options(input_bucket, output_bucket, output_format)
    state = local_stack.up(
        state_dir or settings.state_dir,
        region=region,
        stack=stack,
        roster=_roster(roster),
        model_dir=model_dir or settings.model_dir,
        workers=workers,
        batch_size=batch_size,
        timeout_s=timeout,
        devices=device,
        port=port,
        buckets=buckets,
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
    if state.outputs.get("output_bucket"):
        out.print(
            f"upload bucket {state.outputs['bucket']}; output bucket "
            f"{state.outputs['output_bucket']} ({state.outputs['output_format']} format)"
        )
    print_edge_settings(env, state.devices)


def _roster(path: Path | None) -> list[StudentRecord]:
    """The students to seed: the file's (checked), else the demo roster."""
    from rollcall_tools.demo.roster import DEMO_ROSTER
    from rollcall_tools.seed import load_seed

    if path is None:
        return list(DEMO_ROSTER)
    records, invalid = load_seed(path)
    if invalid:
        raise ConfigError(
            f"{path}: entry {invalid[0].index}: {invalid[0].message} "
            f"({len(invalid)} invalid; check it with `tools seed-db`)"
        )
    return records


@local_app.command("down")
@handles_errors
def down(state_dir: StateDir = None) -> None:
    """Stop the local runner and the local AWS server; forget the state."""
    ran = local_stack.down(state_dir or load_settings().state_dir)
    out.print("local stack stopped" if ran else "no local stack was running")


@local_app.command("status")
@handles_errors
def status(state_dir: StateDir = None, as_json: Json = False) -> None:
    """Is the local stack running? Messages waiting in its queues?"""
    found = local_stack.status(state_dir or load_settings().state_dir)
    if as_json:
        print_json(found.to_json())
    elif found.endpoint_url is None:
        out.print("no local stack recorded (start one with `tools local up`)")
    else:
        table = RichTable(show_header=False, box=None)
        table.add_row("endpoint", found.endpoint_url)
        table.add_row("server", "running" if found.server_alive else "[red]stopped[/]")
        table.add_row("runner", "running" if found.runner_alive else "[red]stopped[/]")
        table.add_row("devices", ", ".join(found.devices) or "[dim]none registered[/]")
        for queue, depth in found.queues.items():
            table.add_row(f"queue {queue}", f"{depth} waiting")
        out.print(table)
    if not found.running:
        raise typer.Exit(1)
