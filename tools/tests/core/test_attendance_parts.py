"""Attendance's pure parts: interval merging, time windows and zones, schedules, the sighting
items the handler writes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from edge_capture.gate import GateSettings
from edge_capture.settings import EdgeSettings
from face_model.backbones import get_spec
from face_model.library import Identity, UnknownFace
from rollcall_tools.attendance.bench import clip_result, face
from rollcall_tools.attendance.intervals import DEFAULT_GAP_S, merge, total_ms
from rollcall_tools.attendance.report import attendance
from rollcall_tools.attendance.store import utc_days
from rollcall_tools.attendance.timeline import clock_ticks, write_timeline
from rollcall_tools.attendance.window import (
    iso,
    load_schedule,
    meeting_window,
    parse_time,
    window_between,
    zone,
)
from rollcall_tools.errors import ConfigError
from shared_schema import (
    ClipId,
)
from shared_schema.sighting import (
    Sighting,
    clip_items,
    from_clip_item,
    from_person_item,
    sightings_of,
)

PHOENIX = ZoneInfo("America/Phoenix")  # UTC-7, no daylight saving
BERLIN = ZoneInfo("Europe/Berlin")


def test_merge_joins_spans_within_the_gap_and_keeps_the_rest_apart() -> None:
    spans = [(50_000, 50_300), (0, 300), (10_000, 10_250), (200, 400), (200_000, 200_100)]
    merged = merge(spans, gap_ms=60_000)
    assert merged == [(0, 50_300), (200_000, 200_100)]
    assert total_ms(merged) == 50_400
    assert merge(spans, gap_ms=0) == [
        (0, 400),
        (10_000, 10_250),
        (50_000, 50_300),
        (200_000, 200_100),
    ]
    assert merge([], gap_ms=1) == []
    assert merge([(5, 3)], gap_ms=0) == [(5, 5)]  # a span never runs backwards


def test_the_default_gap_agrees_with_the_gates_keepalive() -> None:
    keepalive = GateSettings().keepalive_s
    assert keepalive == EdgeSettings.model_fields["gate_keepalive"].default
    # a still person is re-confirmed every keep-alive: five missed clips in a row are tolerated
    assert DEFAULT_GAP_S == 6 * keepalive == 60


def test_times_without_an_offset_are_local_to_the_zone() -> None:
    moment = parse_time("2026-12-07T10:30", PHOENIX, option="--from")
    assert moment.utcoffset() == timedelta(hours=-7)
    assert moment.astimezone(UTC).hour == 17
    explicit = parse_time("2026-12-07T10:30+01:00", PHOENIX, option="--from")
    assert explicit.utcoffset() == timedelta(hours=1)  # an offset given wins
    summer = parse_time("2026-07-01 10:30", BERLIN, option="--from")
    winter = parse_time("2026-12-01 10:30", BERLIN, option="--from")
    assert (summer.utcoffset(), winter.utcoffset()) == (timedelta(hours=2), timedelta(hours=1))
    window = window_between("2026-12-07T10:30", "11:45", PHOENIX)  # --to: --from's day
    assert window.to_ms - window.from_ms == 75 * 60_000
    assert iso(window.from_ms, PHOENIX) == "2026-12-07T10:30:00.000-07:00"
    assert iso(window.from_ms, UTC, "seconds") == "2026-12-07T17:30:00+00:00"
    assert zone("+05:30") == timezone(timedelta(hours=5, minutes=30))


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("yesterday", "11:00", "--from 'yesterday': expected ISO 8601"),
        ("2026-12-07T11:00", "10:00", "ends before it starts"),
    ],
)
def test_bad_windows_say_what_is_wrong(start: str, end: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        window_between(start, end, PHOENIX)


def test_unknown_zone_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="time zone 'Mars/Olympus' is unknown"):
        zone("Mars/Olympus")


SCHEDULE = """
timezone = "America/Phoenix"

[[session]]
name = "CSE 546"
days = ["Mon", "Wed"]
start = "10:30"
end = "11:45"
device = "lab-1"

[[session]]
name = "Seminar"
days = ["friday"]
start = "15:00"
end = "16:00"
timezone = "Europe/Berlin"
"""


def test_schedule_picks_the_latest_meeting_that_started(tmp_path: Path) -> None:
    path = tmp_path / "schedule.toml"
    path.write_text(SCHEDULE)
    schedule = load_schedule(path)
    # Wednesday 2026-12-09, 12:00 in Phoenix: Wednesday's CSE 546 is the latest
    now = datetime(2026, 12, 9, 12, 0, tzinfo=PHOENIX)
    window = meeting_window(schedule, now=now)
    assert window.label == "CSE 546, 2026-12-09 10:30-11:45"
    assert window.device == "lab-1"
    assert iso(window.from_ms, window.tz, "seconds") == "2026-12-09T10:30:00-07:00"
    assert iso(window.to_ms, window.tz, "seconds") == "2026-12-09T11:45:00-07:00"
    # at 10:00 that day it has not started: Monday's meeting
    early = meeting_window(schedule, now=datetime(2026, 12, 9, 10, 0, tzinfo=PHOENIX))
    assert early.label == "CSE 546, 2026-12-07 10:30-11:45"
    seminar = meeting_window(schedule, name="Seminar", on=date(2026, 12, 11))
    assert iso(seminar.from_ms, seminar.tz, "seconds") == "2026-12-11T15:00:00+01:00"
    assert seminar.device is None
    with pytest.raises(ConfigError, match="no scheduled session meets on 2026-12-08"):
        meeting_window(schedule, on=date(2026, 12, 8))
    with pytest.raises(ConfigError, match="has no session 'Art'"):
        meeting_window(schedule, name="Art")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[session]]\nname='x'\ndays=['Mon']\nstart='10:30'\n", "session.0.end: Field required"),
        ("[[session]]\nname='x'\ndays=['Moonday']\nstart='10:30'\nend='11:00'\n", "not weekdays"),
        ("[[session]]\nname='x'\ndays=['Mon']\nstart='25:00'\nend='26:00'\n", "session.0.start"),
        ("[[session]]\nname='x'\ndays=['Mon']\nstart='11:00'\nend='10:00'\n", "ends before"),
        ("session = [", "not TOML"),
        ("timezone='Nowhere/Land'\n[[session]]\nname='x'\ndays=['Mon']\nstart='10:00'\n"
         "end='11:00'\n", "unknown"),
    ],
)  # fmt: skip
def test_bad_schedules_name_the_file_and_the_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_schedule(path)


def test_utc_days_cover_a_window_across_midnight() -> None:
    start = int(datetime(2026, 12, 7, 23, 30, tzinfo=UTC).timestamp() * 1000)
    assert utc_days(start, start + 3600_000) == ["2026-12-07", "2026-12-08"]
    assert utc_days(start, start + 60_000) == ["2026-12-07"]


def test_clock_ticks_fall_on_round_local_times() -> None:
    start = int(datetime(2026, 12, 7, 10, 31, 20, tzinfo=PHOENIX).timestamp() * 1000)
    ticks = clock_ticks(start, start + 75 * 60_000, PHOENIX)
    labels = [iso(t, PHOENIX)[11:16] for t in ticks]
    assert labels[0] == "10:40" and labels[-1] == "11:40"
    india = zone("+05:30")
    minutes = {int(iso(t, india)[14:16]) % 5 for t in clock_ticks(start, start + 3600_000, india)}
    assert minutes == {0}  # 5-minute steps on the half-hour zone's own clock


def test_a_result_becomes_one_sighting_per_person_and_one_for_the_unknown() -> None:
    clip = ClipId(
        device_id="lab-1",
        session_id="s1",
        seq=3,
        captured_at=datetime(2026, 12, 7, 23, 59, 59, 900_000, tzinfo=UTC),
    )
    faces = [
        face("ada", 0.7, 200),
        face("bob", 0.5, 400),
        face(None, 0.1, 200),
        face(None, 0.2, 300),
    ]
    found = sightings_of(clip_result(faces, clip.key, clip))
    assert [(s.person, s.unknown) for s in found] == [("ada", 0), ("bob", 0), (None, 2)]
    bob = found[1]
    assert bob.seen_ms - bob.start_ms == 400 and bob.day == "2026-12-07"  # the clip's start day
    clip, *people = clip_items(found, expires_s=123)
    assert from_clip_item(clip) == found  # the clip item alone holds the whole roll
    assert [from_person_item(i) for i in people] == found[:2]
    assert clip["pk"] == {"S": "lab-1#2026-12-07"}
    assert clip["sk"] == {"S": f"{clip['start_ms']['N']}#s1#00000003"}
    assert (clip["session"], clip["day"]) == ({"S": "s1"}, {"S": "2026-12-07"})  # indexed
    assert [i["pk"]["S"] for i in people] == ["@ada", "@bob"]  # a person's own partition
    assert all("session" not in i and "day" not in i for i in people)  # not in the indexes
    assert {i["expires"]["N"] for i in [clip, *people]} == {"123"}
    # a whole video (not a rollcall clip key) has no device, session or time: no sightings
    assert sightings_of(clip_result(faces, "uploads/lecture.mp4", None)) == []


def test_report_counts_people_absentees_and_unknown_faces() -> None:
    def seen(person: str | None, at_s: int, unknown: int = 0) -> Sighting:
        return Sighting(
            device_id="lab-1",
            session_id="s",
            seq=at_s,
            start_ms=at_s * 1000,
            seen_ms=at_s * 1000 + 250,
            key=f"k{at_s}",
            person=person,
            similarity=None if person is None else 0.5 + at_s / 1000,
            unknown=unknown,
        )

    sightings = [seen("ada", t) for t in (0, 10, 20, 200, 210)]
    sightings += [seen("bob", 30), seen(None, 30, unknown=2), seen(None, 40, unknown=1)]
    report = attendance(sightings, roster=["ada", "bob", "cy"], label="t", from_ms=None,
                        to_ms=None, tz=UTC, gap_s=60)  # fmt: skip
    ada, bob = report.people
    assert ada.intervals == [(0, 20_250), (200_000, 210_250)]
    assert (ada.clips, ada.present_s, ada.best_similarity) == (5, 30.5, 0.71)
    assert (bob.first_ms, bob.last_ms, bob.clips) == (30_000, 30_250, 1)
    assert report.absent == ["cy"]
    assert report.unknown_clusters == 2  # at least two unknown people were there at once
    # the face library kept their faces: its clusters count the strangers (3 faces of one
    # stranger in k30 and k40, one of another in k30; a face of another clip is not counted)
    spec = get_spec("dlib-resnet-v1")
    rng = np.random.default_rng(7)
    one, other, elsewhere = (rng.normal(size=spec.feature_dim) for _ in range(3))

    def kept(face: str, key: str, vector: np.ndarray) -> UnknownFace:
        unit = (vector / np.linalg.norm(vector) * 0.5).astype(np.float32)
        return UnknownFace(face, key, "lab-1", "2026-12-05T10:00:00+00:00", 0.1, None, unit,
                           Identity(spec.name, "a" * 64), "", 0)  # fmt: skip

    faces = [kept("f1", "k30", one), kept("f2", "k30", other), kept("f3", "k40", one * 1.001)]
    faces.append(kept("f4", "elsewhere", elsewhere))
    report = attendance(sightings, roster=["ada"], label="t", from_ms=None, to_ms=None, tz=UTC,
                        gap_s=60, unknown_faces=faces)  # fmt: skip
    assert report.unknown_clusters == 2
    data = report.to_json()
    assert data["people"][0]["first_seen"] == "1970-01-01T00:00:00.000+00:00"
    assert data["people"][0]["last_seen"] == "1970-01-01T00:03:30.250+00:00"
    assert set(data) >= {"people", "absent", "unknown_clusters"}


def test_a_report_of_nothing_spans_no_time_and_still_draws(tmp_path: Path) -> None:
    report = attendance([], roster=["ada"], label="empty", from_ms=None, to_ms=None, tz=UTC,
                        gap_s=60)  # fmt: skip
    data = report.to_json()
    assert (data["from"], data["to"], data["people"], data["absent"]) == (None, None, [], ["ada"])
    png = write_timeline(report, tmp_path / "empty.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
