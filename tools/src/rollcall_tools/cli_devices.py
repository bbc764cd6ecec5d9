"""``tools devices add|list|remove``: each device's own results route."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from rollcall_tools.cli_common import (
    DryRun,
    Json,
    Where,
    confirm,
    located,
    print_change,
    print_deleted,
    summary,
)
from rollcall_tools.output import handles_errors, out, print_json

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


def print_edge_settings(env: dict[str, str], devices: dict[str, dict[str, Any]]) -> None:
    """The ``export`` lines every edge device shares, then each registered device's own."""
    out.print("# settings every edge device shares:")
    for key, value in env.items():
        out.print(f"export {key}={value}")
    for settings in devices.values():
        print_device_settings(settings)
    if not devices:
        out.print("# then give each device its results queue: tools devices add DEVICE_ID")


@devices_app.command("add")
@handles_errors
@located
def add(
    device_ids: DeviceIds, where: Where, dry_run: DryRun = False, as_json: Json = False
) -> None:
    """Register devices (idempotent): a results queue + DLQ each, subscribed with a filter on
    the device id; print each one's edge-capture settings and IAM policy (--json)."""
    devices = where.resolve().devices
    result = devices.add(device_ids, dry_run=dry_run, on_change=print_change)
    registered = {d: devices.settings(d) for d in device_ids}
    if as_json:
        print_json({**summary(result, dry_run), "devices": registered})
        return
    for settings in registered.values():
        print_device_settings(settings)


@devices_app.command("list")
@handles_errors
@located
def list_devices(where: Where, as_json: Json = False) -> None:
    """The registered devices, their queues and how many results wait on each."""
    found = where.resolve().devices.describe()
    if as_json:
        print_json([d.to_json() for d in found])
        return
    if not found:
        out.print(f"no devices registered in stack {where.stack!r} (add one: tools devices add ID)")
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
@located
def remove(
    device_ids: DeviceIds,
    where: Where,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    """Remove devices' routes (their unread results go too; asks first unless --yes)."""
    target = where.resolve()
    confirm(
        f"Remove the results route of {', '.join(device_ids)} in stack {where.stack!r}?",
        yes or dry_run,
        "nothing was removed",
    )
    result = target.devices.remove(device_ids, dry_run=dry_run, on_change=print_change)
    print_deleted(result, dry_run, as_json)
