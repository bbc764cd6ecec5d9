"""``tools devices add|list|remove``: each device's own results route."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from rollcall_tools.aws import DEFAULT_REGION
from rollcall_tools.cli_common import (
    DryRun,
    EndpointUrl,
    Json,
    Profile,
    Region,
    StackName,
    print_change,
    resolve_stack,
    summary,
)
from rollcall_tools.errors import ConfigError
from rollcall_tools.output import err, handles_errors, out, print_json
from rollcall_tools.stack.names import DEFAULT_STACK
from rollcall_tools.stack.plan import Action

devices_app = typer.Typer(
    help="Devices: each registered device gets its own results queue (subscribed to the "
    "results topic with a filter on its id) and receives only its own results.",
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
)

DeviceIds = Annotated[
    list[str],
    typer.Argument(
        help="Device ids, as edge-capture puts them in clip keys (1-64 of A-Z a-z 0-9 _ -).",
        show_default=False,
    ),
]


def print_device_settings(settings: dict[str, Any]) -> None:
    """A device's edge-capture settings as ``export`` lines."""
    out.print(f"\n# device {settings['device_id']}:")
    for key, value in settings["env"].items():
        out.print(f"export {key}={value}")


@devices_app.command("add")
@handles_errors
def add(
    device_ids: DeviceIds,
    region: Region = DEFAULT_REGION,
    profile: Profile = None,
    endpoint_url: EndpointUrl = None,
    stack: StackName = DEFAULT_STACK,
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    """Register devices (idempotent): a results queue + DLQ each, subscribed with a filter on
    the device id; print each one's edge-capture settings and IAM policy (--json)."""
    target = resolve_stack(region, profile=profile, endpoint_url=endpoint_url, stack=stack)
    devices = target.devices
    result = devices.add(device_ids, dry_run=dry_run, on_change=print_change)
    registered = {d: devices.settings(d) for d in device_ids}
    if as_json:
        print_json({**summary(result, dry_run), "devices": registered})
        return
    for settings in registered.values():
        print_device_settings(settings)


@devices_app.command("list")
@handles_errors
def list_devices(
    region: Region = DEFAULT_REGION,
    profile: Profile = None,
    endpoint_url: EndpointUrl = None,
    stack: StackName = DEFAULT_STACK,
    as_json: Json = False,
) -> None:
    """The registered devices, their queues and how many results wait on each."""
    target = resolve_stack(region, profile=profile, endpoint_url=endpoint_url, stack=stack)
    found = target.devices.describe()
    if as_json:
        print_json([d.to_json() for d in found])
        return
    if not found:
        out.print(f"no devices registered in stack {stack!r} (add one: tools devices add ID)")
        return
    table = RichTable(
        "device", "results queue", "waiting", "in flight", "dead-lettered", "subscribed"
    )
    for d in found:
        table.add_row(
            d.device_id,
            d.results_queue,
            str(d.waiting),
            str(d.in_flight),
            f"[red]{d.dead_lettered}[/]" if d.dead_lettered else "0",
            "yes" if d.subscribed else "[red]no (run `tools devices add` again)[/]",
        )
    out.print(table)


@devices_app.command("remove")
@handles_errors
def remove(
    device_ids: DeviceIds,
    region: Region = DEFAULT_REGION,
    profile: Profile = None,
    endpoint_url: EndpointUrl = None,
    stack: StackName = DEFAULT_STACK,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    """Remove devices' routes (their unread results go too; asks first unless --yes)."""
    target = resolve_stack(region, profile=profile, endpoint_url=endpoint_url, stack=stack)
    if not (yes or dry_run) and not typer.confirm(
        f"Remove the results route of {', '.join(device_ids)} in stack {stack!r}?", err=True
    ):
        raise ConfigError("not confirmed: nothing was removed (use --yes to skip the question)")
    result = target.devices.remove(device_ids, dry_run=dry_run, on_change=print_change)
    if as_json:
        print_json(summary(result, dry_run))
    else:
        err.print(
            f"{'would delete' if dry_run else 'deleted'}: "
            f"{sum(c.action is Action.DELETE for c in result.changes)} resource(s)"
        )
