"""Attendance end to end on the local stack, with real processes: `tools local up` (moto
server, `cloud-handler serve`), edge-capture streaming a generated class session in real
time (two people arriving and leaving at known times, side by side), then `tools attendance`.

Truth is the camera's own clock: clip ``k`` of the session starts at its key's capture time,
so a person arriving at frame ``8k`` arrived when clip ``k`` began.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from rollcall_testkit.handler_stack import body, s3_event, s3_record, wait_until
from rollcall_tools.attendance.store import delete_person, last_seen, read_session
from rollcall_tools.aws import AwsTarget
from rollcall_tools.demo.classroom import FRAMES_PER_CLIP, write_class_video
from rollcall_tools.demo.recognizer import build_artifact
from rollcall_tools.demo.video import FPS, timeline
from rollcall_tools.demo.video import save_portraits as save_demo_portraits
from rollcall_tools.local.processes import clean_environment
from shared_schema import parse_key

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
REGION = "eu-west-1"
DEVICE = "lab-1"
SESSION = "cse546-1207"
CLIP_S = FRAMES_PER_CLIP / FPS


def _env(path: Path, **extra: str) -> dict[str, str]:
    env = clean_environment(keep=["ROLLCALL_MODEL_CACHE"])
    state = {"ROLLCALL_STATE_DIR": str(path / "state"), "OMP_NUM_THREADS": "1"}
    credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    return {**env, **state, **credentials, **extra}


def _run(path: Path, *command: str, timeout: float = 300, **env: str) -> Any:
    return subprocess.run(
        list(command),
        env=_env(path, **env),
        cwd=path,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _ms(text: str) -> int:
    return round(datetime.fromisoformat(text).timestamp() * 1000)


def test_attendance_of_a_streamed_session(reaped: Path) -> None:
    path = reaped
    people = save_demo_portraits(path / "gallery", timeline())
    artifact, _ = build_artifact("dlib-resnet-v1", None, people, path / "model", print)
    tools = str(BIN / "tools")
    up = _run(path, tools, "local", "up", "--json", "--region", REGION, "--workers", "1",
              "--device", DEVICE, "--model-dir", str(artifact))  # fmt: skip
    try:
        assert up.returncode == 0, up.stderr
        info = json.loads(up.stdout)
        _check_session(path, info)
    finally:
        _run(path, tools, "local", "down")


def _check_session(path: Path, info: dict[str, Any]) -> None:
    target = AwsTarget(region=REGION, endpoint_url=info["endpoint_url"])
    ddb = target.client("dynamodb")
    # a roster member who never comes
    ddb.put_item(
        TableName=info["students_table"],
        Item={
            "name": {"S": "ada_lovelace"},
            "major": {"S": "mathematics"},
            "year": {"S": "senior"},
        },
    )
    video, stays = write_class_video(path / "class.mp4")
    edge = _run(
        path, str(BIN / "edge-capture"), "run", "--source", str(video), "--gate", "off",
        "--session-id", SESSION, "--json", "--poll-wait", "1", "--result-wait", "240",
        "--spool-dir", str(path / "spool"), timeout=420, **info["devices"][DEVICE]["env"],
    )  # fmt: skip
    assert edge.returncode == 0, edge.stderr
    summary = json.loads(edge.stdout)
    assert summary["clips_answered"] == summary["clips_uploaded"] == 18
    starts = {
        o["seq"]: round(parse_key(o["key"]).captured_at.timestamp() * 1000)
        for o in summary["outcomes"]
    }

    attendance = _run(path, str(BIN / "tools"), "attendance", "--session", SESSION, "--device",
                      DEVICE, "--json", "--png", "timeline.png", "--csv", "table.csv",
                      "--endpoint-url", info["endpoint_url"], "--region", REGION)  # fmt: skip
    assert attendance.returncode == 0, attendance.stderr
    report = json.loads(attendance.stdout)
    assert report["absent"] == ["ada_lovelace"]
    assert report["unknown_clusters"] == 0
    seen = {p["name"]: p for p in report["people"]}
    assert set(seen) == {"eileen_collins", "grace_hopper"}
    tolerance = CLIP_S * 1000 + 1000 / FPS  # one clip (and the frame it rounds to)
    for stay in stays:
        person = seen[stay.person]
        arrived = starts[stay.arrive // FRAMES_PER_CLIP]  # the first clip they are in
        left = starts[stay.leave // FRAMES_PER_CLIP]  # the first clip without them
        assert abs(_ms(person["first_seen"]) - arrived) <= tolerance, person
        assert abs(_ms(person["last_seen"]) - left) <= tolerance, person
        assert person["clips"] >= (stay.leave - stay.arrive) // FRAMES_PER_CLIP - 2
        assert person["present_s"] > 0.8 * (stay.leave - stay.arrive) / FPS - 2 * CLIP_S
        assert person["first_seen"][-6] in "+-"  # ISO 8601 with an offset
    assert (path / "timeline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "ada_lovelace" in (path / "table.csv").read_text()

    # a duplicate delivery of a clip adds no sighting (and publishes nothing)
    table = info["sightings_table"]
    before = read_session(ddb, table, SESSION).items_read
    s3, sqs = target.client("s3"), target.client("sqs")
    key = summary["outcomes"][8]["key"]
    etag = s3.head_object(Bucket=info["bucket"], Key=key)["ETag"].strip('"')
    events = sqs.get_queue_url(QueueName=info["events_queue"])["QueueUrl"]
    record = s3_record(info["bucket"], key, etag=etag)
    sqs.send_message(QueueUrl=events, MessageBody=body(s3_event(record)))
    assert wait_until(lambda: _drained(sqs, events), timeout_s=60, interval_s=0.5)
    assert read_session(ddb, table, SESSION).items_read == before

    # `--person`: when and where; the purge the face library calls takes every sighting
    where = _run(path, str(BIN / "tools"), "attendance", "--person", "grace_hopper", "--json",
                 "--endpoint-url", info["endpoint_url"], "--region", REGION)  # fmt: skip
    assert where.returncode == 0, where.stderr
    answer = json.loads(where.stdout)
    assert (answer["device"], answer["session"]) == (DEVICE, SESSION)
    assert answer["last_seen"] == seen["grace_hopper"]["last_seen"]
    assert delete_person(ddb, table, "grace_hopper") == seen["grace_hopper"]["clips"]
    assert last_seen(ddb, table, "grace_hopper") is None
    remaining = read_session(ddb, table, SESSION).sightings
    assert {s.person for s in remaining} == {"eileen_collins"}
    gone = _run(path, str(BIN / "tools"), "attendance", "--person", "grace_hopper",
                "--endpoint-url", info["endpoint_url"], "--region", REGION)  # fmt: skip
    assert gone.returncode == 1 and "no sightings" in gone.stderr


def _drained(sqs: Any, url: str) -> bool:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return all(v == "0" for v in attrs.values())
