"""What every ``tools`` command shares: the common options, stack resolution, plan output."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from rollcall_tools.aws import AwsTarget, aws_errors, if_present, is_loopback
from rollcall_tools.errors import ConfigError
from rollcall_tools.output import err
from rollcall_tools.stack.deploy import Stack
from rollcall_tools.stack.names import check_prefix
from rollcall_tools.stack.plan import Action, Change, PlanResult
from rollcall_tools.stack.settings import StackSettings

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
        help="Local flavour (no Lambda: the local runner consumes the events queue). Default: "
        "local when --endpoint-url is on 127.0.0.1/localhost.",
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON only.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Print the plan; change nothing.")]
StateDir = Annotated[
    Path,
    typer.Option(
        "--state-dir",
        envvar="ROLLCALL_STATE_DIR",
        help="Where the local stack's state file and logs live.",
    ),
]


def resolve_stack(
    region: str,
    *,
    profile: str | None,
    endpoint_url: str | None,
    stack: str,
    local: bool | None = None,
    settings: StackSettings | None = None,
) -> Stack:
    """The named stack at this target (one STS call for the account)."""
    check_prefix(stack)
    target = AwsTarget(region=region, profile=profile, endpoint_url=endpoint_url)
    local = is_loopback(endpoint_url) if local is None else local
    base = settings or StackSettings()
    settings = StackSettings(**{**base.__dict__, "local": local})
    return Stack.resolve(target, stack, settings)


def find_queue(sqs: Any, name: str, hint: str) -> str:
    """The URL of queue ``name``; a missing queue is a configuration error naming ``hint``."""
    with aws_errors(f"finding queue {name}"):
        found = if_present(sqs.get_queue_url, QueueName=name)
    if found is None:
        raise ConfigError(f"queue {name} does not exist here: {hint}")
    return str(found["QueueUrl"])


_STYLE = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.DELETE: "red",
    Action.BLOCKED: "magenta",
    Action.NOOP: "dim",
    Action.ABSENT: "dim",
}


def print_change(change: Change) -> None:
    """One plan line on stderr (and its differences below it)."""
    style = _STYLE[change.action]
    err.print(f"  [{style}]{change.action:>9}[/] {change.kind:<20} {change.name}")
    for detail in change.details:
        err.print(f"            [dim]{detail}[/]")


def summary(result: PlanResult, dry_run: bool) -> dict[str, object]:
    """A plan or apply as JSON: counts per action and every change."""
    counts: dict[str, int] = {}
    for change in result.changes:
        counts[str(change.action)] = counts.get(str(change.action), 0) + 1
    return {
        "dry_run": dry_run,
        "changed": result.changed,
        "counts": counts,
        "changes": [c.to_json() for c in result.changes],
    }
