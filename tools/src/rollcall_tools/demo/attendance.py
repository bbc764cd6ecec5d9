"""The demo's last step: the attendance of its own sessions, as ``tools attendance`` reports
it, and its timeline."""

from __future__ import annotations

from pathlib import Path

from rollcall_tools.attendance.intervals import DEFAULT_GAP_S
from rollcall_tools.attendance.query import sessions_report
from rollcall_tools.attendance.timeline import write_timeline
from rollcall_tools.aws import AwsTarget
from rollcall_tools.demo.report import DemoReport
from rollcall_tools.local.state import LocalState


def take_attendance(state: LocalState, report: DemoReport, png: Path) -> None:
    """Read the sightings of ``report``'s sessions from the local stack, record the
    attendance on ``report`` and draw its timeline to ``png``."""
    sessions = [summary.session_id for summary in report.sessions.values()]
    if not sessions:
        return
    devices = {summary.device_id for summary in report.sessions.values()}
    (device,) = devices
    ddb = AwsTarget(region=state.region, endpoint_url=state.endpoint_url).client("dynamodb")
    outputs = state.outputs
    report.attendance = sessions_report(
        ddb,
        str(outputs["sightings_table"]),
        str(outputs["students_table"]),
        device=device,
        sessions=sessions,
        tz=None,
        gap_s=DEFAULT_GAP_S,
    )
    report.attendance_png = write_timeline(report.attendance, png.resolve())
