"""What the ``tools`` commands share: where the stack is (options over the environment's
settings), the common options, plan output."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from rollcall_tools.aws import AwsTarget, aws_errors, if_present, is_loopback
from rollcall_tools.errors import ConfigError
from rollcall_tools.output import err, print_json
from rollcall_tools.settings import Settings, load_settings
from rollcall_tools.stack.buckets import Buckets
from rollcall_tools.stack.deploy import Stack
from rollcall_tools.stack.names import check_prefix
from rollcall_tools.stack.plan import Action, Change, PlanResult
from rollcall_tools.stack.settings import StackSettings

R = TypeVar("R")

Region = Annotated[
    str | None,
    typer.Option(
        "--region",
        help="AWS region of the stack (default: AWS_REGION or AWS_DEFAULT_REGION, else us-east-1).",
        show_default=False,
    ),
]
Profile = Annotated[
    str | None,
    typer.Option(
        "--profile", help="AWS credentials profile (default: AWS_PROFILE).", show_default=False
    ),
]
EndpointUrl = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        help="AWS endpoint, e.g. the local moto server (default: ROLLCALL_ENDPOINT_URL, else "
        "AWS itself).",
        show_default=False,
    ),
]
StackName = Annotated[
    str | None,
    typer.Option(
        "--stack",
        help="Stack name, the prefix of every resource name (default: ROLLCALL_STACK, else "
        "rollcall).",
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON only.")]
InputBucket = Annotated[
    str | None,
    typer.Option(
        "--input-bucket",
        help="Name of the upload bucket instead of the generated <stack>-clips-<account>-"
        "<region>, e.g. the course's <id>-input (default: ROLLCALL_BUCKET).",
        show_default=False,
    ),
]
OutputBucket = Annotated[
    str | None,
    typer.Option(
        "--output-bucket",
        help="Also write one output object per answered object to this bucket (created, "
        "never notified), e.g. the course's <id>-output.",
        show_default=False,
    ),
]
OutputFormat = Annotated[
    str,
    typer.Option(
        "--output-format",
        help="What the output bucket receives: course (<stem>.txt holding name,major,year) "
        "or json (<stem>.json, the full result).",
    ),
]
Devices = Annotated[
    list[str] | None,
    typer.Option(
        "--device",
        help="Register this device (its own results queue; repeat for more) and print its "
        "edge-capture settings. See `tools devices`.",
        show_default=False,
    ),
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Print the plan; change nothing.")]
StateDir = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        help="Where the local stack's state file and logs live (default: ROLLCALL_STATE_DIR, "
        "else .rollcall).",
        show_default=False,
    ),
]
ModelDir = Annotated[
    Path | None,
    typer.Option(
        "--model-dir",
        help="Exported recognizer artifact, `face-model export` (default: ROLLCALL_MODEL_DIR).",
        show_default=False,
    ),
]


@dataclass(frozen=True)
class Where:
    """Which stack a command works on, and through which region, profile and endpoint."""

    region: str
    profile: str | None
    endpoint_url: str | None
    stack: str
    settings: Settings

    def __post_init__(self) -> None:
        check_prefix(self.stack)

    def target(self) -> AwsTarget:
        """The account, region and endpoint (no AWS call yet)."""
        return AwsTarget(region=self.region, profile=self.profile, endpoint_url=self.endpoint_url)

    def resolve(
        self,
        *,
        local: bool | None = None,
        settings: StackSettings | None = None,
        buckets: Buckets | None = None,
    ) -> Stack:
        """The named stack (one STS call for the account); the local flavour by default when
        the endpoint is on this machine; ``buckets``: its upload and output buckets (the
        upload bucket ``ROLLCALL_BUCKET`` names unless ``--input-bucket`` was given)."""
        flavour = is_loopback(self.endpoint_url) if local is None else local
        buckets = buckets or Buckets()
        if buckets.input_bucket is None and self.settings.bucket:
            buckets = replace(buckets, input_bucket=self.settings.bucket)
        chosen = replace(
            settings or StackSettings(), local=flavour, output_format=buckets.output_format
        )
        return Stack.resolve(self.target(), self.stack, chosen, **buckets.names())


_LOCATION = {
    "region": Region,
    "profile": Profile,
    "endpoint_url": EndpointUrl,
    "stack": StackName,
}


def located(command: Callable[..., R]) -> Callable[..., R]:
    """Give ``command`` the options that say where its stack is (``--region``, ``--profile``,
    ``--endpoint-url``, ``--stack``, each defaulting to its environment variable) and pass
    them to it as ``where``."""
    signature = inspect.signature(command, eval_str=True)
    kept = [p for p in signature.parameters.values() if p.name != "where"]
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=option)
        for name, option in _LOCATION.items()
    ]

    @functools.wraps(command)
    def wrapper(
        *args: Any,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        stack: str | None = None,
        **kwargs: Any,
    ) -> R:
        settings = load_settings()
        where = Where(
            region=region or settings.region,
            profile=profile or settings.profile,
            endpoint_url=endpoint_url or settings.endpoint_url,
            stack=stack or settings.stack,
            settings=settings,
        )
        return command(*args, where=where, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=[*kept, *added])  # type: ignore[attr-defined]
    return wrapper


def find_queue(sqs: Any, name: str, hint: str) -> str:
    """The URL of queue ``name``; a missing queue is a configuration error naming ``hint``."""
    with aws_errors(f"finding queue {name}"):
        found = if_present(sqs.get_queue_url, QueueName=name)
    if found is None:
        raise ConfigError(f"queue {name} does not exist here: {hint}")
    return str(found["QueueUrl"])


def confirm(question: str, yes: bool, nothing_done: str) -> None:
    """Ask ``question`` unless ``yes``; a "no" is a usage error saying ``nothing_done``."""
    if not yes and not typer.confirm(question, err=True):
        raise ConfigError(f"not confirmed: {nothing_done} (use --yes to skip the question)")


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


def print_deleted(result: PlanResult, dry_run: bool, as_json: bool) -> None:
    """The outcome of a destroy or removal: JSON, or how many resources went."""
    if as_json:
        print_json(summary(result, dry_run))
        return
    deleted = sum(c.action is Action.DELETE for c in result.changes)
    err.print(f"{'would delete' if dry_run else 'deleted'}: {deleted} resource(s)")
