"""`tools faces` on the local stack with real processes (moto server, `cloud-handler serve`):
`tools local up` without `--model-dir`, people enrolled from the course's gallery with
`tools faces enroll` while the runner runs, and the next uploads named with major and year,
with no restart of the runner in between. Then list, rename, remove --purge, exit codes.

The tests share the stack, in file order; the last one stops it.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

import rollcall_testkit as testkit
from rollcall_testkit.clips import encode_clip
from rollcall_tools.aws import AwsTarget
from rollcall_tools.local.processes import clean_environment

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]

BIN = Path(sys.executable).parent
REGION = "eu-west-1"
COURSE = ("cse546-videos",)
VIDEOS = ("test_0.mp4", "test_2.mp4", "test_7.mp4")
"""Three of the course's videos (their people: Trump, Mr Bean, Morgan Freeman)."""


@dataclass(frozen=True)
class Running:
    path: Path
    info: dict[str, Any]
    data: Path

    def tools(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        env = {
            **clean_environment(keep=["ROLLCALL_MODEL_CACHE"]),
            "ROLLCALL_STATE_DIR": str(self.path / "state"),
            "OMP_NUM_THREADS": "1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
        }
        if self.info:
            env["ROLLCALL_ENDPOINT_URL"] = self.info["endpoint_url"]
        return subprocess.run(
            [str(BIN / "tools"), *args],
            env=env,
            cwd=self.path,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def aws(self) -> AwsTarget:
        return AwsTarget(region=REGION, endpoint_url=self.info["endpoint_url"])

    def runner_pid(self) -> int:
        state = json.loads((self.path / "state" / "local.json").read_text())
        return int(state["runner"]["pid"])

    def people(self) -> dict[str, dict[str, Any]]:
        listed = self.tools("faces", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        return {p["name"]: p for p in map(json.loads, listed.stdout.splitlines())}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    data = testkit.shared_data(*COURSE)
    path = tmp_path_factory.mktemp("faces")
    probe = Running(path, {}, data)
    try:
        up = probe.tools(
            "local", "up", "--json", "--region", REGION, "--timeout", "60",
            "--roster", str(data / "student_data.json"),
        )  # fmt: skip
        assert up.returncode == 0, up.stderr
        yield Running(path, json.loads(up.stdout), data)
    finally:
        probe.tools("local", "down")
        assert not testkit.reap(path), "processes left running"


def test_an_empty_library_answers_unknown_until_someone_enrolls(stack: Running) -> None:
    assert stack.people() == {}
    s3 = stack.aws().client("s3")
    s3.upload_file(str(stack.data / "videos" / VIDEOS[0]), stack.info["bucket"], "before.mp4")
    result = _results(stack, 1)["before.mp4"]
    assert result["status"] == "unknown" and result["people"] == [], result


def _results(stack: Running, count: int) -> dict[str, dict[str, Any]]:
    followed = stack.tools(
        "results", "--json", "--count", str(count), "--timeout", "300", timeout=360
    )
    assert followed.returncode == 0, followed.stderr
    return {r["key"]: r for r in map(json.loads, followed.stdout.splitlines())}


def test_enrolled_people_are_named_at_once_without_a_restart(stack: Running) -> None:
    with (stack.data / "expected.csv").open() as fh:
        expected = {row["video"]: row for row in csv.DictReader(fh)}
    runner = stack.runner_pid()
    blank = stack.path / "blank.png"
    Image.fromarray(np.full((200, 200, 3), 128, np.uint8)).save(blank)
    for video in VIDEOS:
        name = expected[video]["name"]
        photos = [str(stack.data / "gallery" / name)]
        if video == VIDEOS[0]:
            photos.append(str(blank))
        done = stack.tools("faces", "enroll", name, *photos, "--json")
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert len(report["enrolled"]) == 1 and report["student_record"] is True
        if video == VIDEOS[0]:
            assert report["skipped"] == [{"path": str(blank), "reason": "no face found"}]
    people = stack.people()
    assert {name: p["embeddings"] for name, p in people.items()} == {
        expected[v]["name"]: 1 for v in VIDEOS
    }
    s3 = stack.aws().client("s3")
    for video in VIDEOS:
        s3.upload_file(str(stack.data / "videos" / video), stack.info["bucket"], video)
    got = _results(stack, len(VIDEOS))
    for video in VIDEOS:
        row = expected[video]
        named = {(p["name"], p["major"], p["year"]) for p in got[video]["people"]}
        assert named == {(row["name"], row["major"], row["year"])}, got[video]
    assert stack.runner_pid() == runner  # the same runner: nothing restarted
    # the chips of the enrolled photos are in the private face store
    chips = s3.list_objects_v2(Bucket=stack.info["face_store"], Prefix="enrolled/")
    assert chips["KeyCount"] == len(VIDEOS)


def test_a_name_without_a_record_and_one_that_does_not_exist(stack: Running) -> None:
    done = stack.tools("faces", "enroll", "grace", str(stack.data / "gallery" / "floki"), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["student_record"] is False
    assert "no record of 'grace'" in done.stderr
    for command in (
        ("remove", "nobody"),
        ("rename", "nobody", "x"),
        ("merge", "nobody", "grace"),
    ):
        ran = stack.tools("faces", *command)
        assert ran.returncode == 2, (command, ran.stderr)
        assert "'nobody' is not in the face library" in ran.stderr
    nothing = stack.tools("faces", "enroll", "x", str(stack.path / "missing.jpg"))
    assert nothing.returncode == 2 and "no such file" in nothing.stderr


def test_reject_stops_a_wrong_match(stack: Running) -> None:
    # "grace" was enrolled from Floki's photo: Floki's video names her, wrongly
    s3 = stack.aws().client("s3")
    video = str(stack.data / "videos" / "test_6.mp4")
    s3.upload_file(video, stack.info["bucket"], "floki-1.mp4")
    assert [p["name"] for p in _results(stack, 1)["floki-1.mp4"]["people"]] == ["grace"]
    rejected = stack.tools("faces", "reject", "floki-1.mp4", "--not", "grace")
    assert rejected.returncode == 0, rejected.stderr
    assert "negative example of grace" in rejected.stdout
    assert stack.people()["grace"]["negatives"] == 1
    s3.upload_file(video, stack.info["bucket"], "floki-2.mp4")
    result = _results(stack, 1)["floki-2.mp4"]
    assert "grace" not in [p["name"] for p in result["people"]], result
    missing = stack.tools("faces", "reject", "floki-1.mp4", "--not", "nobody")
    assert missing.returncode == 2


def _first_frames(video: Path, count: int = 4) -> bytes:
    """The start of ``video`` as an MP4 clip: test_5's second person leaves the picture
    after its first ~80 ms, before the first frame the handler samples from the whole video."""
    with av.open(str(video)) as container:
        frames = [
            frame.to_ndarray(format="rgb24")
            for _, frame in zip(range(count), container.decode(video=0), strict=False)
        ]
    return encode_clip(frames, fps=60)


def test_a_second_person_is_kept_unknown_then_enrolled_from_the_cluster(
    stack: Running,
) -> None:
    photo = str(stack.data / "gallery" / "vin_diesel")
    skipped = stack.tools("faces", "enroll", "vin_diesel", photo, "--json")
    assert skipped.returncode == 1  # his photo shows two people: skipped, said
    assert json.loads(skipped.stdout)["skipped"][0]["reason"] == "2 faces (one per photo)"
    done = stack.tools("faces", "enroll", "vin_diesel", photo, "--subject")
    assert done.returncode == 0, done.stderr
    assert "2 faces: enrolled the subject" in done.stderr
    s3 = stack.aws().client("s3")
    video = _first_frames(stack.data / "videos" / "test_5.mp4")
    s3.put_object(Bucket=stack.info["bucket"], Key="test_5.mp4", Body=video)
    first = _results(stack, 1)["test_5.mp4"]
    assert [p["name"] for p in first["people"]] == ["vin_diesel"], first
    assert first["unknown_faces"] >= 1, first
    listed = stack.tools("faces", "unknown", "--json", "--png", str(stack.path / "sheet.png"))
    assert listed.returncode == 0, listed.stderr
    clusters = [json.loads(line) for line in listed.stdout.splitlines()]
    (stranger,) = [c for c in clusters if "test_5.mp4" in c["keys"]]
    assert stranger["faces"] >= 1 and stranger["first_seen"] <= stranger["last_seen"]
    assert set(stranger) >= {"cluster", "faces", "first_seen", "last_seen", "devices", "keys"}
    assert (stack.path / "sheet.png").stat().st_size > 0
    again = stack.tools("faces", "unknown", "--json")
    assert stranger["cluster"] in again.stdout  # a stable id
    enrolled = stack.tools("faces", "enroll", "stranger", "--from-unknown", stranger["cluster"])
    assert enrolled.returncode == 0, enrolled.stderr
    assert stack.tools("faces", "unknown", "--dismiss", "nope").returncode == 2
    s3.put_object(Bucket=stack.info["bucket"], Key="test_5-again.mp4", Body=video)
    second = _results(stack, 1)["test_5-again.mp4"]
    assert sorted(p["name"] for p in second["people"]) == ["stranger", "vin_diesel"], second


def test_rename_then_remove_purge_leaves_nothing_of_them(stack: Running) -> None:
    assert stack.tools("faces", "rename", "grace", "grace_h").returncode == 0
    assert "grace_h" in stack.people()
    removed = stack.tools("faces", "remove", "grace_h", "--purge", "--json")
    assert removed.returncode == 0, removed.stderr
    assert json.loads(removed.stdout)["deleted"]["embeddings"] == 1
    assert "grace_h" not in stack.people()
    ddb = stack.aws().client("dynamodb")
    table = stack.info["library_table"]
    for partition in ("embedding", "negative", "unknown"):
        items = ddb.query(
            TableName=table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": partition}},
        )["Items"]
        assert all(i.get("person", {}).get("S") != "grace_h" for i in items)
        assert all(i.get("best", {}).get("S") != "grace_h" for i in items)
