"""An attendance report: per person first and last seen, time present, clips, best
similarity; the roster's absentees; unknown faces counted."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from rollcall_tools.attendance.intervals import Interval, merge, total_ms
from rollcall_tools.attendance.window import in_zone, iso
from shared_schema.sighting import Sighting

if TYPE_CHECKING:
    from face_model.library import UnknownFace

CSV_COLUMNS = (
    "name",
    "first_seen",
    "last_seen",
    "present_s",
    "clips",
    "best_similarity",
    "devices",
    "status",
)


@dataclass(frozen=True)
class Presence:
    """One person's attendance."""

    name: str
    intervals: list[Interval]
    clips: int
    best_similarity: float
    devices: list[str]

    @property
    def first_ms(self) -> int:
        return self.intervals[0][0]

    @property
    def last_ms(self) -> int:
        return self.intervals[-1][1]

    @property
    def present_s(self) -> float:
        return round(total_ms(self.intervals) / 1000, 1)


@dataclass
class Attendance:
    """Who was present in a window, who on the roster was not, how many unknown faces."""

    label: str
    from_ms: int
    to_ms: int
    tz: tzinfo | None
    gap_s: float
    people: list[Presence]
    absent: list[str]
    unknown_clusters: int
    """Strangers: the face library's clusters of the unknown faces kept from these clips;
    where none were kept (``--unknown-retention-days 0``), the most unrecognized faces seen
    in one clip, the fewest strangers that explain the sightings."""
    items_read: int = 0
    sessions: list[str] = field(default_factory=list)
    spanned: bool = True
    """False: no window was given and nothing was seen, so the report spans no time."""

    def to_json(self) -> dict[str, Any]:
        """The object ``tools attendance --json`` prints."""
        return {
            "label": self.label,
            "from": iso(self.from_ms, self.tz) if self.spanned else None,
            "to": iso(self.to_ms, self.tz) if self.spanned else None,
            "gap_s": self.gap_s,
            "people": [
                {
                    "name": p.name,
                    "first_seen": iso(p.first_ms, self.tz),
                    "last_seen": iso(p.last_ms, self.tz),
                    "present_s": p.present_s,
                    "clips": p.clips,
                    "best_similarity": round(p.best_similarity, 4),
                    "devices": p.devices,
                    "intervals": [[iso(a, self.tz), iso(b, self.tz)] for a, b in p.intervals],
                }
                for p in self.people
            ],
            "absent": self.absent,
            "unknown_clusters": self.unknown_clusters,
            "sessions": self.sessions,
            "items_read": self.items_read,
        }

    def clock(self) -> tuple[str, Callable[[int], str]]:
        """The title (the label, with the date and offset once when every time falls on one
        day) and how a time is shown: a time of day then, else ISO 8601 (the table of
        ``tools attendance`` and the dashboard's)."""
        moments = [m for p in self.people for m in (p.first_ms, p.last_ms)]
        days = {in_zone(m, self.tz).date() for m in moments}
        if len(days) != 1:
            return self.label, lambda ms: iso(ms, self.tz)
        (day,) = days
        offset = in_zone(moments[0], self.tz).strftime("%z")
        title = f"{self.label} ({day.isoformat()}, UTC{offset})"
        return title, lambda ms: in_zone(ms, self.tz).strftime("%H:%M:%S")

    def write_csv(self, path: Path) -> None:
        """One row per person present, then one per absentee (status ``absent``)."""
        with path.open("w", newline="", encoding="utf-8") as handle:
            self.write_csv_to(handle)

    def write_csv_to(self, handle: TextIO) -> None:
        """:meth:`write_csv` into an open text stream (the dashboard's download)."""
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for p in self.people:
            writer.writerow(
                [
                    p.name,
                    iso(p.first_ms, self.tz),
                    iso(p.last_ms, self.tz),
                    p.present_s,
                    p.clips,
                    f"{p.best_similarity:.4f}",
                    " ".join(p.devices),
                    "present",
                ]
            )
        for name in self.absent:
            writer.writerow([name, "", "", 0, 0, "", "", "absent"])


def attendance(
    sightings: Iterable[Sighting],
    *,
    roster: Iterable[str],
    label: str,
    from_ms: int | None,
    to_ms: int | None,
    tz: tzinfo | None,
    gap_s: float,
    items_read: int = 0,
    unknown_faces: Sequence[UnknownFace] = (),
) -> Attendance:
    """The report of ``sightings``; ``from_ms``/``to_ms`` None: the span of the sightings;
    ``unknown_faces``: the face library's kept unknown faces (those of these clips count)."""
    by_person: dict[str, list[Sighting]] = {}
    unknown = 0
    unknown_keys: set[str] = set()
    starts: list[int] = []
    sessions: set[str] = set()
    for s in sightings:
        starts += [s.start_ms, s.seen_ms]
        sessions.add(f"{s.device_id}/{s.session_id}")
        if s.person is None:
            unknown = max(unknown, s.unknown)
            unknown_keys.add(s.key)
        else:
            by_person.setdefault(s.person, []).append(s)
    people = [
        Presence(
            name=name,
            intervals=merge(((s.start_ms, s.seen_ms) for s in seen), round(gap_s * 1000)),
            clips=len({s.key for s in seen}),
            best_similarity=max(s.similarity or 0.0 for s in seen),
            devices=sorted({s.device_id for s in seen}),
        )
        for name, seen in by_person.items()
    ]
    people.sort(key=lambda p: (p.first_ms, p.name))
    kept = [f for f in unknown_faces if f.key in unknown_keys]
    if kept:
        from rollcall_tools.faces.unknowns import cluster

        unknown = len(cluster(kept))
    absent = sorted(set(roster) - set(by_person))
    spanned = from_ms is not None or bool(starts)
    now = round(time.time() * 1000)
    lo = from_ms if from_ms is not None else min(starts, default=now)
    hi = to_ms if to_ms is not None else max(starts, default=lo)
    return Attendance(
        label,
        lo,
        hi,
        tz,
        gap_s,
        people,
        absent,
        unknown,
        items_read,
        sorted(sessions),
        spanned,
    )
