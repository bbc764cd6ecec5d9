"""Attendance over HTTP (a real stack on moto, sightings written as the function writes them):
the pickers, the table of ``tools attendance`` with names escaped, its CSV (byte for byte what
``--csv`` writes), the timeline PNG by a listed ID, a bad window as a message on the page,
and the render time of a 40-person hour."""

from __future__ import annotations

import csv
import io
import re
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from cloud_handler.sightings import record_sightings
from rollcall_tools.attendance.bench import START, session_results
from rollcall_tools.cli import app
from rollcall_tools.stack.deploy import Stack
from shared_schema import (
    BoundingBox,
    ClipId,
    ClipRef,
    FaceResult,
    RecognitionResult,
    RecordLookup,
    ResultStatus,
)

XSS = "<img src=x onerror=alert(1)>"
QUOTED = 'o\'brien "the quoted"'
DEVICE = "cam1"
BENCH = {"device": DEVICE, "session": "bench", "tz": "UTC"}


def _result(seq: int, at: datetime, *names: str) -> RecognitionResult:
    clip = ClipId(device_id=DEVICE, session_id="hostile", seq=seq, captured_at=at)
    faces = [
        FaceResult(
            identity=name,
            similarity=0.7,
            box=BoundingBox(x1=0, y1=0, x2=9, y2=9),
            frame_time_ms=100,
            lookup=RecordLookup.MISSING,
        )
        for name in names
    ]
    return RecognitionResult(
        clip=ClipRef(bucket="b-uck", key=clip.key, clip=clip),
        status=ResultStatus.RECOGNIZED,
        faces=faces,
        processed_at=datetime.now(UTC),
    )


@pytest.fixture(scope="module")
def sightings(stack: Stack) -> Stack:
    """A 40-person hour on cam1 (session ``bench``, the attendance bench's), a session with
    a hostile name, and a roster with a quoted name nobody saw."""
    ddb, names = stack.target.client("dynamodb"), stack.names
    for res in session_results(DEVICE, people=40, minutes=60, every_s=10):
        record_sightings(ddb, names.sightings_table, res, 180)
    at = START + timedelta(hours=3)
    for seq in range(3):
        res = _result(seq, at + timedelta(seconds=10 * seq), XSS, "ada")
        record_sightings(ddb, names.sightings_table, res, 180)
    for name in (QUOTED, "ada"):
        ddb.put_item(TableName=names.students_table, Item={"name": {"S": name}})
    return stack


def _links(page: str) -> dict[str, str]:
    found = re.findall(r'(?:href|src)="(/files/[A-Za-z0-9_-]+)"', page)
    assert len(found) == 2, found
    return {"csv": found[0], "png": found[1]}


def test_the_form_lists_the_registered_devices(client: TestClient, sightings: Stack) -> None:
    got = client.get("/attendance")
    assert got.status_code == 200
    assert f'<option value="{DEVICE}">{DEVICE}</option>' in got.text
    assert 'type="datetime-local" name="from"' in got.text and 'name="tz"' in got.text
    assert "Download CSV" not in got.text  # nothing asked yet, nothing reported


def test_the_report_escapes_names_and_offers_its_csv_and_timeline(
    client: TestClient, sightings: Stack
) -> None:
    got = client.get("/attendance", params={"device": DEVICE, "session": "hostile", "tz": "UTC"})
    assert got.status_code == 200, got.text
    page = got.text
    assert XSS not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "o&#39;brien &#34;the quoted&#34;" in page  # absent, escaped
    assert "session hostile, device cam1 (2026-12-07, UTC+0000)" in page
    links = _links(page)
    png = client.get(links["png"])
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    rows = list(csv.reader(io.StringIO(client.get(links["csv"]).text)))
    assert rows[0][0] == "name" and {r[0] for r in rows[1:]} >= {XSS, "ada", QUOTED}
    assert [r[-1] for r in rows if r[0] == QUOTED] == ["absent"]


def test_the_csv_is_what_tools_attendance_writes(
    client: TestClient, sightings: Stack, moto_endpoint: str, tmp_path: Path
) -> None:
    window = {"from": "2026-12-07T17:40", "to": "2026-12-07T18:10:30"}
    page = client.get("/attendance", params={**BENCH, **window}).text
    got = client.get(_links(page)["csv"])
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert got.headers["content-disposition"] == 'attachment; filename="attendance.csv"'
    written = tmp_path / "roll.csv"
    where = ["--endpoint-url", moto_endpoint, "--region", sightings.names.region]
    args = ["--stack", sightings.names.prefix, "--device", DEVICE, "--session", "bench"]
    times = ["--from", window["from"], "--to", window["to"], "--tz", "UTC"]
    done = CliRunner().invoke(app, ["attendance", *where, *args, *times, "--csv", str(written)])
    assert done.exit_code == 0, done.output
    assert got.content == written.read_bytes()
    assert got.content.count(b",present\r\n") == 40


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"from": "2026-12-07T18:00", "to": "2026-12-07T17:00"}, "ends before it starts"),
        ({"from": "2026-12-07T18:00"}, "give both a start (from) and an end (to)"),
        ({"from": "yesterday", "to": "today"}, "--from &#39;yesterday&#39;: expected ISO 8601"),
        ({"session": "s", "tz": "Mars/Olympus"}, "time zone &#39;Mars/Olympus&#39; is unknown"),
        ({"session": "s", "gap": "-1"}, "gap &#39;-1&#39;: expected seconds &gt;= 0"),
        ({"session": "s", "device": "../x"}, "device id &#39;../x&#39; is invalid"),
        ({"tz": "UTC"}, "say what to report"),
    ],
)
def test_a_bad_window_is_a_message_on_the_page(
    client: TestClient, fields: dict[str, str], message: str
) -> None:
    got = client.get("/attendance", params=fields)
    assert got.status_code == 400, got.text
    assert message in got.text and 'class="notice bad"' in got.text
    assert 'name="session"' in got.text  # the form again, to correct it


def test_a_40_person_hour_renders_and_says_how_long_it_took(
    client: TestClient, sightings: Stack
) -> None:
    """The page of a 40-person hour (a clip every 10 s, the bench's session): its table; the
    ``Server-Timing`` median is printed (the README's Measured section has the figures)."""
    totals: list[float] = []
    reads: list[float] = []
    page: Any = None
    for _ in range(5):
        page = client.get("/attendance", params=BENCH)
        assert page.status_code == 200
        timing = dict(re.findall(r"(\w+);dur=([\d.]+)", page.headers["server-timing"]))
        totals.append(float(timing["app"]))
        reads.append(float(timing["read"]))
    assert page.text.count('<td class="name">student_') == 40
    began = time.perf_counter()
    png = client.get(_links(page.text)["png"])
    png_ms = (time.perf_counter() - began) * 1000
    assert png.status_code == 200
    total, read = statistics.median(totals), statistics.median(reads)
    print(
        f"render median: /attendance {total:.1f} ms (40 people, an hour), of which reading "
        f"the tables {read:.1f} ms, the page itself {total - read:.1f} ms; "
        f"its timeline PNG {png_ms:.0f} ms"
    )
