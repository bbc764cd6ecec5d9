"""``tools dlq list|redrive``: the objects dead-lettered in the events DLQ, and their re-drive."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from rollcall_tools import dlq
from rollcall_tools.aws import aws_errors
from rollcall_tools.cli_common import Json, Where, find_queue, located
from rollcall_tools.output import err, handles_errors, out, print_json
from rollcall_tools.stack.deploy import Stack

dlq_app = typer.Typer(
    help="The events dead-letter queue: new objects whose event failed max-receives times.",
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
)


def _hint(stack: Stack) -> str:
    names = stack.names
    return f"stack {names.prefix!r} is not deployed in {names.region} (run `tools deploy`)"


def _dlq_url(stack: Stack) -> tuple[Any, str]:
    sqs = stack.target.client("sqs")
    return sqs, find_queue(sqs, stack.names.events_dlq, _hint(stack))


def _urls(stack: Stack) -> tuple[Any, str, str]:
    sqs, dlq_url = _dlq_url(stack)
    return sqs, dlq_url, find_queue(sqs, stack.names.events_queue, _hint(stack))


def _table(letters: list[dlq.DeadLetter]) -> RichTable:
    table = RichTable("object", "receives", "sent", "message")
    for letter in letters:
        what = ", ".join(o["key"] for o in letter.objects) or f"[dim]{letter.note}[/]"
        table.add_row(what, str(letter.receives), letter.sent_at or "-", letter.message_id)
    return table


@dlq_app.command("list")
@handles_errors
@located
def list_dead_letters(where: Where, as_json: Json = False) -> None:
    """List the dead-lettered events and the objects they name; leaves them in the DLQ."""
    target = where.resolve()
    sqs, dlq_url = _dlq_url(target)
    with aws_errors(f"reading {target.names.events_dlq}"):
        letters = dlq.peek(sqs, dlq_url)
    if as_json:
        print_json([letter.to_json() for letter in letters])
        return
    if not letters:
        out.print(f"{target.names.events_dlq} is empty")
        return
    out.print(_table(letters))


@dlq_app.command("redrive")
@handles_errors
@located
def redrive(
    where: Where,
    limit: Annotated[
        int | None,
        typer.Option(
            "--max", min=1, help="Move at most this many (default: all the DLQ held at start)."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be moved; move nothing.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Send the dead-lettered events back to the events queue, to be processed again."""
    target = where.resolve()
    sqs, dlq_url, events_url = _urls(target)
    names = target.names
    with aws_errors(f"re-driving {names.events_dlq} to {names.events_queue}"):
        if dry_run:
            report = dlq.Redrive(moved=dlq.peek(sqs, dlq_url)[:limit])
        else:
            report = dlq.redrive(sqs, dlq_url, events_url, limit=limit)
    if as_json:
        print_json({"dry_run": dry_run, **report.to_json()})
    elif report.moved:
        out.print(_table(report.moved))
    verb = "would move" if dry_run else "moved"
    err.print(
        f"{verb} {len(report.moved)} event(s) from {names.events_dlq} to {names.events_queue}"
    )
    for message_id in report.failed:
        err.print(f"[red]not sent, left in the DLQ:[/] {message_id}")
    if report.failed:
        raise typer.Exit(1)
