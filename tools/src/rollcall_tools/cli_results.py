"""``tools results``: follow a results route live (the foreign route, or a device's)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table as RichTable

from rollcall_tools.aws import aws_errors
from rollcall_tools.cli_common import Where, find_queue, located
from rollcall_tools.errors import JobFailedError
from rollcall_tools.follow import Follower, ResultLine
from rollcall_tools.output import err, handles_errors, out
from rollcall_tools.stack.names import check_device_id

_COLUMNS = (("received", 12, None), ("object", None, 1), ("status", 10, None),
            ("people", None, 1), ("ms", 6, None))  # fmt: skip


def _row_table(header: bool) -> RichTable:
    """One table per row, all with the same column layout: rows stream as they arrive."""
    table = RichTable(
        show_header=header, box=None, pad_edge=False, header_style="bold", expand=True
    )
    for name, width, ratio in _COLUMNS:
        table.add_column(
            name,
            width=width,
            ratio=ratio,
            overflow="fold",
            justify="right" if name == "ms" else "left",
        )
    return table


def _people(line: ResultLine) -> str:
    named = [
        f"{p['name']} ({p['major'] or '?'}, {p['year'] or '?'}) {p['similarity']:.2f}"
        for p in line.people
    ]
    if line.unknown_faces:
        named.append(f"{line.unknown_faces} unknown face(s)")
    if line.error:
        named.append(f"[red]{line.error['code']}[/]: {line.error['message']}")
    return "; ".join(named) or "[dim]-[/]"


def _print_row(line: ResultLine) -> None:
    table = _row_table(header=False)
    table.add_row(
        line.received_at[11:23], line.key, line.status, _people(line), f"{line.handler_ms:.0f}"
    )
    out.print(table)


def _print_json_line(line: ResultLine) -> None:
    sys.stdout.write(json.dumps(line.to_json()) + "\n")
    sys.stdout.flush()


DeviceOpt = Annotated[
    str | None,
    typer.Option(
        "--device",
        help="Follow this registered device's results (default: the foreign route, results "
        "of objects that are not rollcall clips).",
        show_default=False,
    ),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout", min=0, help="Stop after this many seconds (default: run until Ctrl-C)."
    ),
]
CountOpt = Annotated[
    int | None,
    typer.Option(
        "--count",
        min=1,
        help="Stop after this many results; exit 1 when --timeout ends it first.",
    ),
]
AsJsonOpt = Annotated[bool, typer.Option("--json", help="One JSON object per result (JSON Lines).")]


@handles_errors
@located
def results(
    where: Where,
    device: DeviceOpt = None,
    timeout: TimeoutOpt = None,
    count: CountOpt = None,
    as_json: AsJsonOpt = False,
) -> None:
    """Print results as they arrive on a route (object key, status, the people recognized)
    and delete each one printed: this consumes the route."""
    if device is not None:
        check_device_id(device)
    target = where.resolve()
    names = target.names
    queue = names.device_queue(device) if device else names.foreign_queue
    sqs = target.target.client("sqs")
    hint = f"run `tools devices add {device}`" if device else "run `tools deploy`"
    url = find_queue(sqs, queue, hint)
    route = f"device {device}" if device else "foreign uploads"
    err.print(f"following {route} ({queue}){'' if timeout is None else f' for {timeout:g} s'}")
    if not as_json:
        out.print(_row_table(header=True))

    def malformed(message_id: str, why: str) -> None:
        err.print(f"[yellow]left on the queue[/] message {message_id}: not a result ({why})")

    follower = Follower(sqs, url)
    try:
        with aws_errors(f"reading results from {queue}"):
            follower.follow(
                _print_json_line if as_json else _print_row,
                on_malformed=malformed,
                timeout_s=timeout,
                count=count,
            )
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a follow without --timeout ends; unprinted results stay queued
    stats = follower.stats
    err.print(f"{stats.results} result(s); {len(stats.malformed_ids)} malformed left on the queue")
    if count is not None and stats.results < count:
        within = f" within {timeout:g} s" if timeout is not None else ""
        raise JobFailedError(f"{stats.results} of {count} result(s) arrived{within}")
