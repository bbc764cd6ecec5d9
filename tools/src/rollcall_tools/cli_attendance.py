"""``tools attendance``: who was present in a session or window, and ``--person``: where and
when someone was last seen; ``tools attendance bench``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, tzinfo
from pathlib import Path
from typing import Annotated, Any

import typer
from botocore.exceptions import ClientError
from rich.table import Table as RichTable

from rollcall_tools.attendance.intervals import DEFAULT_GAP_S
from rollcall_tools.attendance.query import Request, build_report
from rollcall_tools.attendance.report import Attendance
from rollcall_tools.attendance.store import last_seen
from rollcall_tools.attendance.timeline import write_timeline
from rollcall_tools.attendance.window import (
    Window,
    iso,
    load_schedule,
    meeting_window,
    window_between,
    zone,
)
from rollcall_tools.aws import is_absent
from rollcall_tools.cli_common import Where, located
from rollcall_tools.errors import ConfigError, JobFailedError
from rollcall_tools.faces.library import Library
from rollcall_tools.output import err, handles_errors, out, print_json
from rollcall_tools.stack.names import check_device_id

attendance_app = typer.Typer(
    invoke_without_command=True,
    no_args_is_help=False,
    pretty_exceptions_show_locals=False,
    help="Who was present, from when to when (the sightings the handler records).",
)


def _window(
    start: str | None,
    end: str | None,
    schedule: Path | None,
    meeting: str | None,
    on: str | None,
    tz_name: str | None,
) -> Window | None:
    tz = zone(tz_name)
    if schedule is not None:
        if start or end:
            raise ConfigError("give either --schedule or --from/--to, not both")
        day = None
        if on is not None:
            try:
                day = date.fromisoformat(on)
            except ValueError:
                raise ConfigError(f"--date {on!r}: expected YYYY-MM-DD") from None
        return meeting_window(load_schedule(schedule), name=meeting, on=day)
    if meeting or on:
        raise ConfigError("--name and --date choose a meeting of a --schedule: give one")
    if (start is None) != (end is None):
        raise ConfigError("give both --from and --to")
    return window_between(start, end, tz) if start and end else None


def print_report(report: Attendance) -> None:
    """The report as a rich table (absentees in red) and a summary line; times of day in the
    report's zone, the date once in the title when every time falls on one day."""
    title, when = report.clock()
    table = RichTable(title=title, header_style="bold", title_justify="left")
    for name in ("name", "first seen", "last seen", "present", "clips", "best sim", "devices"):
        right = name in {"clips", "best sim", "present"}
        table.add_column(name, justify="right" if right else "left", no_wrap=name == "name")
    for p in report.people:
        minutes, seconds = divmod(round(p.present_s), 60)
        table.add_row(
            p.name,
            when(p.first_ms),
            when(p.last_ms),
            f"{minutes}:{seconds:02d}",
            str(p.clips),
            f"{p.best_similarity:.2f}",
            " ".join(p.devices),
        )
    for name in report.absent:
        table.add_row(f"[red]{name}[/]", "[red]absent[/]", "", "", "", "", "")
    out.print(table)
    out.print(
        f"{len(report.people)} present, {len(report.absent)} absent, "
        f"{report.unknown_clusters} unknown; gap tolerance {report.gap_s:g} s; "
        f"{report.items_read} item(s) read"
    )


def _optional(flag: str, help: str) -> Any:
    """An option with no default shown (its absence means "every" or "not given")."""
    return typer.Option(flag, help=help, show_default=False)


DeviceOpt = Annotated[
    str | None,
    _optional("--device", "Only this device (default: every device, or the schedule's)."),
]
SessionOpt = Annotated[
    str | None, _optional("--session", "An edge-capture session id (its --session-id).")
]
FromOpt = Annotated[
    str | None,
    _optional(
        "--from",
        "Window start: ISO 8601 (2026-12-07T10:30, offset "
        "optional) or a time of day (10:30, today); local to --tz.",
    ),
]
ToOpt = Annotated[
    str | None, _optional("--to", "Window end, as --from (a time of day: --from's day).")
]
ScheduleOpt = Annotated[
    Path | None,
    _optional(
        "--schedule",
        "A TOML schedule of recurring sessions: report its latest meeting (see the README).",
    ),
]
NameOpt = Annotated[
    str | None,
    _optional("--name", "Which session of the --schedule (default: whichever met last)."),
]
DateOpt = Annotated[
    str | None, _optional("--date", "The --schedule's meeting on this day (YYYY-MM-DD).")
]
TzOpt = Annotated[
    str | None,
    _optional(
        "--tz",
        "Time zone of the times in and out: IANA name or offset "
        "(default: this machine's; a schedule's own zone wins for its times).",
    ),
]
GapOpt = Annotated[
    float,
    typer.Option(
        "--gap",
        min=0,
        help="Sightings at most this many seconds apart are one "
        "stay (6x edge-capture's 10 s keep-alive).",
    ),
]
PersonOpt = Annotated[
    str | None, _optional("--person", "Only say when and where this person was last seen.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
CsvOpt = Annotated[Path | None, _optional("--csv", "Also write the table as CSV here.")]
PngOpt = Annotated[Path | None, _optional("--png", "Also draw the timeline (PNG) here.")]


@attendance_app.callback()
@handles_errors
@located
def attendance(
    ctx: typer.Context,
    where: Where,
    device: DeviceOpt = None,
    session: SessionOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    schedule: ScheduleOpt = None,
    meeting: NameOpt = None,
    on: DateOpt = None,
    tz_name: TzOpt = None,
    gap: GapOpt = DEFAULT_GAP_S,
    person: PersonOpt = None,
    as_json: JsonOpt = False,
    csv_path: CsvOpt = None,
    png_path: PngOpt = None,
) -> None:
    """Report attendance for a session (--session), a window (--from/--to) or a scheduled
    meeting (--schedule): per person first and last seen, time present, clips, best
    similarity; roster members never seen as absent; unknown faces counted. The sightings
    table is read with Query only."""
    if ctx.invoked_subcommand is not None:
        return
    tz = zone(tz_name)
    if person is not None:
        stack = where.resolve()
        with _deployed(stack.names.sightings_table):
            ddb = stack.target.client("dynamodb")
            _last_seen(ddb, stack.names.sightings_table, person, tz, as_json)
        return
    window = _window(start, end, schedule, meeting, on, tz_name)
    if window is None and session is None:
        raise ConfigError("say what to report: --session ID, --from T --to T, or --schedule FILE")
    device = device or (window.device if window else None)
    if device is not None:
        check_device_id(device)
    request = Request(device, session, window, window.tz if window else tz, gap)
    stack = where.resolve()
    ddb = stack.target.client("dynamodb")
    with _deployed(stack.names.sightings_table):
        names = stack.names
        strangers = Library(stack.target, names).unknowns
        report = build_report(ddb, names.sightings_table, names.students_table, request, strangers)
    _print_outputs(report, as_json, csv_path, png_path)


def _print_outputs(
    report: Attendance, as_json: bool, csv_path: Path | None, png_path: Path | None
) -> None:
    """The report as JSON or a table, and the CSV and timeline files asked for."""
    if csv_path is not None:
        report.write_csv(csv_path)
    if png_path is not None:
        write_timeline(report, png_path)
    if as_json:
        print_json(report.to_json())
        return
    print_report(report)
    for kind, path in (("CSV", csv_path), ("timeline", png_path)):
        if path is not None:
            err.print(f"{kind}: {path}")


@contextmanager
def _deployed(table: str) -> Iterator[None]:
    """A missing table is a configuration error: the stack is not deployed (here)."""
    try:
        yield
    except ClientError as exc:
        if is_absent(exc):
            raise ConfigError(
                f"table {table} does not exist here: run `tools deploy` (or `tools local up`)"
            ) from None
        raise


def _last_seen(ddb: Any, table: str, person: str, tz: tzinfo | None, as_json: bool) -> None:
    seen = last_seen(ddb, table, person)
    answer: dict[str, Any] = {"name": person, "last_seen": None}
    if seen is not None:
        answer = {
            "name": person,
            "last_seen": iso(seen.seen_ms, tz),
            "device": seen.device_id,
            "session": seen.session_id,
            "key": seen.key,
            "similarity": seen.similarity,
        }
    if as_json:
        print_json(answer)
    elif seen is not None:
        out.print(
            f"{person} was last seen {answer['last_seen']} on device {seen.device_id} "
            f"(session {seen.session_id}, clip {seen.key})"
        )
    if seen is None:
        raise JobFailedError(f"{person} has no sightings (none kept, or never seen)")


@attendance_app.command("bench")
@handles_errors
def bench(
    people: Annotated[int, typer.Option("--people", min=1, max=500, help="People present.")] = 40,
    minutes: Annotated[
        float, typer.Option("--minutes", min=1, max=600, help="Session length, minutes.")
    ] = 60,
    every: Annotated[
        float,
        typer.Option(
            "--every",
            min=0.5,
            help="Seconds between uploaded clips (the gate's 10 s keep-alive: a still class).",
        ),
    ] = 10.0,
    as_json: JsonOpt = False,
) -> None:
    """Time a report of an hour-long session of 40 people (Query only) on a local moto
    server, against a Scan: seconds, items read, peak memory."""
    from rollcall_tools.attendance.bench import print_bench, run_bench

    figures = run_bench(people=people, minutes=minutes, every_s=every, progress=err)
    if as_json:
        print_json(figures)
    else:
        print_bench(figures, out)
