"""The demo's summary: clips, answers, latency, recognizer, and per video the majority person."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_capture import ClipOutcome, SessionSummary
from rollcall_tools.attendance.report import Attendance
from rollcall_tools.stats import latency_stats


@dataclass
class VideoVerdict:
    """Who a video shows, by majority over its clips."""

    name: str | None
    major: str | None
    year: str | None
    clips: int
    answered: int
    votes: int
    statuses: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def verdict(summary: SessionSummary) -> VideoVerdict:
    """The most frequent identified person over a session's clips (ties: higher similarity)."""
    fresh = [o for o in summary.outcomes if not o.resumed]
    counts: Counter[str] = Counter()
    best: dict[str, float] = {}
    record: dict[str, tuple[str | None, str | None]] = {}
    for outcome in fresh:
        for person in outcome.people:
            counts[person.name] += 1
            best[person.name] = max(best.get(person.name, -1.0), person.similarity)
            if person.major is not None or person.name not in record:
                record[person.name] = (person.major, person.year)
    statuses = Counter(o.status for o in fresh)
    if not counts:
        return VideoVerdict(None, None, None, len(fresh), summary.clips_answered, 0, dict(statuses))
    name = max(counts, key=lambda n: (counts[n], best[n]))
    major, year = record[name]
    return VideoVerdict(
        name, major, year, len(fresh), summary.clips_answered, counts[name], dict(statuses)
    )


@dataclass
class DemoReport:
    """Everything the demo measured, in the shape ``--json`` prints."""

    recognizer: str
    recognizer_note: str
    backbone: str
    gate: str = "motion"
    sessions: dict[str, SessionSummary] = field(default_factory=dict)
    interrupted: bool = False
    attendance: Attendance | None = None
    """The attendance of the demo's own sessions (``tools attendance`` on them)."""
    attendance_png: Path | None = None

    @property
    def outcomes(self) -> list[ClipOutcome]:
        return [o for s in self.sessions.values() for o in s.outcomes if not o.resumed]

    @property
    def missing_keys(self) -> list[str]:
        return [k for s in self.sessions.values() for k in s.missing_keys]

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.sessions.values())

    def people_seen(self) -> list[dict[str, Any]]:
        clips: Counter[str] = Counter()
        info: dict[str, dict[str, Any]] = {}
        for outcome in self.outcomes:
            for person in outcome.people:
                clips[person.name] += 1
                seen = info.setdefault(
                    person.name, {"name": person.name, "major": None, "year": None, "best": 0.0}
                )
                seen["best"] = round(max(seen["best"], person.similarity), 3)
                if person.major is not None:
                    seen["major"], seen["year"] = person.major, person.year
        return [{**info[n], "clips": clips[n]} for n, _ in clips.most_common()]

    @property
    def upload_line(self) -> str:
        """ "uploaded N of M clips (gate: motion)" over every video."""
        uploaded = sum(s.clips_uploaded for s in self.sessions.values())
        clips = sum(s.clips_captured for s in self.sessions.values())
        return f"uploaded {uploaded} of {clips} clips (gate: {self.gate})"

    def to_json(self) -> dict[str, Any]:
        outcomes = self.outcomes
        latencies = [o.capture_to_result_ms for o in outcomes if o.capture_to_result_ms is not None]
        return {
            "clips": sum(s.clips_captured for s in self.sessions.values()),
            "uploaded": sum(s.clips_uploaded for s in self.sessions.values()),
            "skipped": sum(s.clips_skipped for s in self.sessions.values()),
            "gate": self.gate,
            "upload_line": self.upload_line,
            "answered": sum(1 for o in outcomes if o.result is not None),
            "missing": len(self.missing_keys),
            "missing_keys": self.missing_keys,
            "latency_ms": latency_stats(latencies),
            "handler_ms": latency_stats(
                [o.handler_ms for o in outcomes if o.handler_ms is not None]
            ),
            "recognizer": self.recognizer,
            "recognizer_note": self.recognizer_note,
            "backbone": self.backbone,
            "statuses": dict(Counter(o.status for o in outcomes)),
            "unknown_faces": sum(o.unknown_faces for o in outcomes),
            "people_seen": self.people_seen(),
            "videos": {name: verdict(s).to_json() for name, s in self.sessions.items()},
            "outcomes": {
                name: [_brief(o) for o in s.outcomes if not o.resumed]
                for name, s in self.sessions.items()
            },
            "interrupted": self.interrupted,
            "attendance": self.attendance.to_json() if self.attendance else None,
            "attendance_png": str(self.attendance_png) if self.attendance_png else None,
        }


def _brief(outcome: ClipOutcome) -> dict[str, Any]:
    """One clip in the report: sequence, why it was uploaded, what came back."""
    return {
        "seq": outcome.seq,
        "key": outcome.key,
        "gate_reason": outcome.gate_reason,
        "status": outcome.status,
        "people": [
            {"name": p.name, "major": p.major, "year": p.year, "similarity": p.similarity}
            for p in outcome.people
        ],
        "unknown_faces": outcome.unknown_faces,
        "capture_to_result_ms": outcome.capture_to_result_ms,
    }
