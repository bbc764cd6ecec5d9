"""Attendance: a device and a session or window picked, the table and the timeline of
``tools attendance`` (the same report, :func:`~rollcall_tools.attendance.query.build_report`),
its CSV download (the same writer as ``--csv``)."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rollcall_tools.attendance import query
from rollcall_tools.attendance.intervals import DEFAULT_GAP_S
from rollcall_tools.attendance.report import Attendance
from rollcall_tools.attendance.timeline import draw_timeline
from rollcall_tools.attendance.window import window_between, zone
from rollcall_tools.aws import aws_errors
from rollcall_tools.dashboard.pages import Page
from rollcall_tools.dashboard.views import Dashboard, dashboard_of, render
from rollcall_tools.errors import ConfigError, ToolsError
from rollcall_tools.stack.names import check_device_id

FIELDS = ("device", "session", "from", "to", "tz", "gap")


@dataclass(frozen=True)
class Row:
    """One line of the table, as shown."""

    name: str
    first: str
    last: str
    present: str
    clips: int
    best: str
    devices: str


def asked(params: QueryParams) -> dict[str, str]:
    """The form's fields as submitted (stripped; '' when absent), shown back in the form."""
    return {name: params.get(name, "").strip() for name in FIELDS}


def request_of(form: dict[str, str]) -> query.Request:
    """What ``tools attendance`` would be asked with these fields (its checks, its words).

    Raises:
        ConfigError: nothing to report on, a bad time, zone, gap or device.
    """
    tz = zone(form["tz"] or None)
    start, end = form["from"], form["to"]
    if bool(start) != bool(end):
        raise ConfigError("give both a start (from) and an end (to), or neither")
    window = window_between(start, end, tz) if start and end else None
    if window is None and not form["session"]:
        raise ConfigError("say what to report: a session id, or a window (from and to)")
    try:
        gap = float(form["gap"]) if form["gap"] else DEFAULT_GAP_S
    except ValueError:
        raise ConfigError(f"gap {form['gap']!r}: expected seconds, e.g. 60") from None
    if not gap >= 0:
        raise ConfigError(f"gap {form['gap']!r}: expected seconds >= 0")
    device = check_device_id(form["device"]) if form["device"] else None
    return query.Request(device, form["session"] or None, window, tz, gap)


def report_of(dashboard: Dashboard, request: query.Request) -> Attendance:
    names = dashboard.stack.names
    with aws_errors(f"reading the sightings of stack {names.prefix}"):
        return query.build_report(
            dashboard.client("dynamodb"),
            names.sightings_table,
            names.students_table,
            request,
            dashboard.library.unknowns,  # strangers counted as clusters, as the CLI does
        )


def rows_of(report: Attendance) -> tuple[str, list[Row]]:
    """The table's title and its rows (people present; absentees are listed apart)."""
    title, when = report.clock()
    rows = []
    for p in report.people:
        minutes, seconds = divmod(round(p.present_s), 60)
        rows.append(
            Row(
                p.name,
                when(p.first_ms),
                when(p.last_ms),
                f"{minutes}:{seconds:02d}",
                p.clips,
                f"{p.best_similarity:.2f}",
                " ".join(p.devices),
            )
        )
    return title, rows


def csv_bytes(report: Attendance) -> bytes:
    """The CSV ``tools attendance --csv`` writes."""
    text = io.StringIO(newline="")
    report.write_csv_to(text)
    return text.getvalue().encode("utf-8")


def png_bytes(report: Attendance) -> bytes:
    """The timeline ``tools attendance --png`` draws."""
    data = io.BytesIO()
    draw_timeline(report, data)
    return data.getvalue()


def attendance_page(request: Request) -> Response:
    """The form; once sent, the report (blocking boto3 calls: Starlette runs this in its
    thread pool). A bad field is a message on the page (400). ``Server-Timing: read`` is
    the time spent reading the tables."""
    dashboard = dashboard_of(request)
    form = asked(request.query_params)
    context: dict[str, Any] = {
        "form": form,
        "report": None,
        "problem": None,
        "devices": [],
        "default_gap": f"{DEFAULT_GAP_S:g}",
    }
    status, read_ms = 200, None
    try:
        context["devices"] = dashboard.devices.registered()
        if any(name in request.query_params for name in FIELDS):  # the form was sent
            asking = request_of(form)
            began = time.perf_counter()
            report = report_of(dashboard, asking)
            read_ms = (time.perf_counter() - began) * 1000
            title, rows = rows_of(report)
            listing = dashboard.listing
            context |= {
                "report": report,
                "title": title,
                "rows": rows,
                "timeline_url": listing.made(
                    lambda: png_bytes(report), "image/png", "attendance.png"
                ),
                "csv_url": listing.made(
                    lambda: csv_bytes(report), "text/csv; charset=utf-8", "attendance.csv"
                ),
            }
    except ConfigError as exc:
        context["problem"], status = exc.message, 400
    except ToolsError as exc:
        context["problem"], status = exc.message, 503
    response = render(request, "attendance.html", status_code=status, **context)
    if read_ms is not None:  # beside the app's own total (security.Guard)
        response.headers.append("server-timing", f"read;dur={read_ms:.1f}")
    return response


def page() -> Page:
    return Page(
        path="/attendance",
        title="Attendance",
        summary="Who was present in a session or window: the table, the timeline, a CSV.",
        routes=[Route("/attendance", attendance_page, name="attendance")],
    )
