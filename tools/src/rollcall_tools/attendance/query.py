"""Build a report: read the sightings a request covers (Query only) and the roster."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from rollcall_tools.attendance.report import Attendance, attendance
from rollcall_tools.attendance.store import Read, read_session, read_window
from rollcall_tools.attendance.window import Window

if TYPE_CHECKING:
    from face_model.library import UnknownFace


@dataclass(frozen=True)
class Request:
    """What to report on: a session and/or a window, one device or all."""

    device: str | None
    session: str | None
    window: Window | None
    tz: tzinfo | None
    gap_s: float

    @property
    def label(self) -> str:
        parts = [f"session {self.session}"] if self.session else []
        if self.window is not None:
            parts.append(self.window.label)
        parts.append(f"device {self.device}" if self.device else "all devices")
        return ", ".join(parts)


def roster(ddb: Any, students_table: str) -> list[str]:
    """Every name in the students table (a small table keyed by name: its only listing is a
    Scan; the sightings table is only ever queried)."""
    names: list[str] = []
    pages = ddb.get_paginator("scan").paginate(
        TableName=students_table,
        ProjectionExpression="#n",
        ExpressionAttributeNames={"#n": "name"},
    )
    for page in pages:
        names += [item["name"]["S"] for item in page.get("Items", [])]
    return sorted(names)


def read(ddb: Any, sightings_table: str, request: Request) -> Read:
    """The sightings ``request`` covers."""
    window = request.window
    if request.session is not None:
        return read_session(
            ddb,
            sightings_table,
            request.session,
            device=request.device,
            from_ms=window.from_ms if window else None,
            to_ms=window.to_ms if window else None,
        )
    assert window is not None, "a request names a session or a window"
    return read_window(ddb, sightings_table, window.from_ms, window.to_ms, request.device)


def build_report(
    ddb: Any,
    sightings_table: str,
    students_table: str,
    request: Request,
    unknown_faces: Callable[[], Sequence[UnknownFace]] | None = None,
) -> Attendance:
    """The attendance report of ``request``; ``unknown_faces`` reads the face library's kept
    unknown faces, which count the strangers as clusters (read only when a clip of the
    report had an unknown face)."""
    found = read(ddb, sightings_table, request)
    strangers = any(s.person is None for s in found.sightings)
    window = request.window
    return attendance(
        found.sightings,
        roster=roster(ddb, students_table),
        label=request.label,
        from_ms=window.from_ms if window else None,
        to_ms=window.to_ms if window else None,
        tz=request.tz,
        gap_s=request.gap_s,
        items_read=found.items_read,
        unknown_faces=unknown_faces() if unknown_faces and strangers else (),
    )


def sessions_report(
    ddb: Any,
    sightings_table: str,
    students_table: str,
    *,
    device: str,
    sessions: list[str],
    tz: tzinfo | None,
    gap_s: float,
    unknown_faces: Sequence[UnknownFace] = (),
) -> Attendance:
    """The attendance of several edge-capture sessions of one device together (the demo's
    videos, one session each)."""
    sightings = []
    items_read = 0
    for session in sessions:
        found = read_session(ddb, sightings_table, session, device=device)
        sightings += found.sightings
        items_read += found.items_read
    return attendance(
        sightings,
        roster=roster(ddb, students_table),
        label=f"device {device}, "
        + (f"session {sessions[0]}" if len(sessions) == 1 else f"{len(sessions)} sessions"),
        from_ms=None,
        to_ms=None,
        tz=tz,
        gap_s=gap_s,
        items_read=items_read,
        unknown_faces=unknown_faces,
    )
