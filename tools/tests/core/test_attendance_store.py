"""The sightings table on a moto server, written as the function writes it: reports by
device and day, by session, across devices and midnight, Query only; last seen; purge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cloud_handler.sightings import record_sightings
from rollcall_tools.attendance.query import Request, build_report
from rollcall_tools.attendance.store import delete_person, last_seen, read_session, read_window
from rollcall_tools.attendance.window import Window
from rollcall_tools.aws import AwsTarget
from rollcall_tools.stack.sightings import SightingsTable
from rollcall_tools.stack.storage import Table
from shared_schema import (
    BoundingBox,
    ClipId,
    ClipRef,
    FaceResult,
    RecognitionResult,
    RecordLookup,
    ResultStatus,
)

MIDNIGHT = datetime(2026, 12, 8, tzinfo=UTC)


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def _result(device: str, session: str, seq: int, at: datetime, *names: str | None) -> Any:
    clip = ClipId(device_id=device, session_id=session, seq=seq, captured_at=at)
    faces = [
        FaceResult(
            identity=name,
            similarity=0.5,
            box=BoundingBox(x1=0, y1=0, x2=9, y2=9),
            frame_time_ms=100,
            lookup=RecordLookup.MISSING if name else RecordLookup.NOT_APPLICABLE,
        )
        for name in names
    ]
    named = any(names)
    return RecognitionResult(
        clip=ClipRef(bucket="b-uck", key=clip.key, clip=clip),
        status=ResultStatus.RECOGNIZED if named else ResultStatus.UNKNOWN,
        faces=faces,
        processed_at=datetime.now(UTC),
    )


@pytest.fixture
def table(target: AwsTarget, prefix: str) -> tuple[Any, str, str]:
    ddb = target.client("dynamodb")
    sightings, students = f"{prefix}-sightings", f"{prefix}-students"
    SightingsTable(target, sightings).create()
    Table(target, students, "name").create()
    for name in ("ada", "bob", "cy"):
        ddb.put_item(TableName=students, Item={"name": {"S": name}})
    start = MIDNIGHT - timedelta(minutes=2)  # the session crosses midnight (UTC)
    for seq in range(8):  # lab-1: a clip every 30 s, ada throughout, bob from the 4th
        who = ["ada", "bob"] if seq >= 3 else ["ada", None]
        at = start + timedelta(seconds=30 * seq)
        record_sightings(ddb, sightings, _result("lab-1", "s1", seq, at, *who), 180)
    record_sightings(ddb, sightings, _result("lab-2", "s9", 0, MIDNIGHT, "cy"), 180)
    again = _result("lab-1", "s1", 5, start + timedelta(seconds=150), "ada", "bob")
    assert record_sightings(ddb, sightings, again, 180) == 3  # rewritten, not added
    return ddb, sightings, students


def test_reports_read_by_device_session_and_day(table: tuple[Any, str, str]) -> None:
    ddb, sightings, students = table
    lo, hi = _ms(MIDNIGHT - timedelta(hours=1)), _ms(MIDNIGHT + timedelta(hours=1))
    one = read_window(ddb, sightings, lo, hi, "lab-1")
    assert one.items_read == 8  # one clip item per clip, both days' partitions
    every = read_window(ddb, sightings, lo, hi)  # the by-day index: every device
    assert {s.device_id for s in every.sightings} == {"lab-1", "lab-2"}
    session = read_session(ddb, sightings, "s1", device="lab-1")
    assert sorted(s.person or "?" for s in session.sightings) == sorted(
        ["ada"] * 8 + ["bob"] * 5 + ["?"] * 3
    )
    assert read_session(ddb, sightings, "s1", device="lab-2").sightings == []

    window = Window(lo, hi, UTC, "around midnight")
    report = build_report(ddb, sightings, students, Request("lab-1", None, window, UTC, 60))
    ada, bob = report.people
    assert (ada.name, ada.clips, len(ada.intervals)) == ("ada", 8, 1)
    assert (bob.name, bob.first_ms) == ("bob", _ms(MIDNIGHT - timedelta(seconds=30)))
    assert report.absent == ["cy"] and report.unknown_clusters == 1
    tight = build_report(ddb, sightings, students, Request("lab-1", "s1", None, UTC, 10))
    assert len(tight.people[0].intervals) == 8  # 30 s apart, 10 s tolerance: eight stays


def test_last_seen_and_purge(table: tuple[Any, str, str]) -> None:
    ddb, sightings, _ = table
    seen = last_seen(ddb, sightings, "bob")
    assert seen is not None and (seen.device_id, seen.seq) == ("lab-1", 7)
    assert delete_person(ddb, sightings, "bob") == 5
    assert last_seen(ddb, sightings, "bob") is None
    left = read_session(ddb, sightings, "s1").sightings
    assert {s.person for s in left} == {"ada", None}  # bob is gone from every clip item
    assert last_seen(ddb, sightings, "nobody") is None
