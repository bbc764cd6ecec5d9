"""The sightings table on a moto server, written as the function writes it: reports by
device and day, by session, across devices and midnight, Query only; last seen; purge."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cloud_handler.sightings import record_sightings
from rollcall_tools.attendance.bench import clip_result, face
from rollcall_tools.attendance.query import Request, build_report
from rollcall_tools.attendance.store import delete_person, last_seen, read_session, read_window
from rollcall_tools.attendance.window import Window
from rollcall_tools.aws import AwsTarget
from rollcall_tools.stack.deploy import Stack
from rollcall_tools.stack.sightings import SightingsTable
from rollcall_tools.stack.storage import Table
from shared_schema import (
    ClipId,
)

MIDNIGHT = datetime(2026, 12, 8, tzinfo=UTC)


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def _result(device: str, session: str, seq: int, at: datetime, *names: str | None) -> Any:
    clip = ClipId(device_id=device, session_id=session, seq=seq, captured_at=at)
    return clip_result([face(name, 0.5, 100) for name in names], clip.key, clip)


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


PHOENIX = ZoneInfo("America/Phoenix")
CLASS = datetime(2026, 12, 9, 10, 30, tzinfo=PHOENIX)  # a Wednesday
SCHEDULE = """
timezone = "America/Phoenix"
[[session]]
name = "CSE 546"
days = ["Mon", "Wed"]
start = "10:30"
end = "11:45"
device = "lab-1"
"""


def test_the_cli_reports_a_scheduled_meeting(
    stack: Stack, tools: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    ddb, names = stack.target.client("dynamodb"), stack.names
    for name in ("ada", "bob"):
        ddb.put_item(TableName=names.students_table, Item={"name": {"S": name}})
    for seq in range(10):  # ada from 10:31 for 90 s; someone before class, on another day
        at = CLASS + timedelta(minutes=1, seconds=10 * seq)
        record_sightings(ddb, names.sightings_table, _result("lab-1", "w", seq, at, "ada"), 180)
    before = _result("lab-1", "m", 0, CLASS - timedelta(days=2, hours=1), "bob")
    record_sightings(ddb, names.sightings_table, before, 180)
    schedule = tmp_path / "classes.toml"
    schedule.write_text(SCHEDULE)

    code, out, err = tools("attendance", "--schedule", str(schedule), "--date", "2026-12-09",
                           "--json", "--csv", str(tmp_path / "roll.csv"),
                           "--png", str(tmp_path / "roll.png"))  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert report["label"].startswith("CSE 546, 2026-12-09 10:30-11:45")
    [ada] = report["people"]
    assert ada["name"] == "ada" and ada["clips"] == 10
    assert ada["first_seen"] == "2026-12-09T10:31:00.000-07:00"  # the schedule's zone
    assert ada["last_seen"] == "2026-12-09T10:32:30.100-07:00"  # the best frame, 100 ms in
    assert ada["present_s"] == 90.1
    assert report["absent"] == ["bob"]  # he came on Monday, an hour early
    rows = list(csv.DictReader((tmp_path / "roll.csv").read_text().splitlines()))
    assert [(r["name"], r["status"]) for r in rows] == [("ada", "present"), ("bob", "absent")]
    assert (tmp_path / "roll.png").read_bytes()[:4] == b"\x89PNG"

    # the same as a window, in UTC, as a table
    code, out, err = tools("attendance", "--device", "lab-1", "--from", "2026-12-09T17:30",
                           "--to", "18:45", "--tz", "UTC")  # fmt: skip
    assert code == 0, err
    assert (
        "ada" in out and "(2026-12-09, UTC+0000)" in out and "17:31:00" in out and "absent" in out
    )
    code, out, err = tools("attendance", "--person", "bob", "--json")
    assert code == 0, err
    assert json.loads(out)["session"] == "m"


def test_the_cli_refuses_bad_usage_in_one_line(
    stack: Stack, tools: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    schedule = tmp_path / "classes.toml"
    schedule.write_text(SCHEDULE)
    for args, message in [
        ((), "say what to report"),
        (("--from", "10:00"), "give both --from and --to"),
        (("--schedule", str(schedule), "--from", "10:00"), "either --schedule or --from/--to"),
        (("--schedule", str(schedule), "--date", "2026-12-08"), "no scheduled session meets"),
        (("--name", "x"), "--name and --date choose a meeting of a --schedule"),
    ]:
        code, _, err = tools("attendance", *args)
        assert code == 2, (args, err)
        assert message in err and "Traceback" not in err
    code, _, err = tools("attendance", "--person", "nobody")
    assert code == 1 and "nobody has no sightings" in err
    code, _, err = tools("attendance", "--session", "s", stack="nothere")
    assert code == 2 and "table nothere-sightings does not exist here" in err
