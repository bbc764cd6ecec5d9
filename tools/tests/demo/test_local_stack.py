"""`tools local up|status|down` with real processes (moto server, `cloud-handler serve`), and
on that one stack, end to end:

* three edge-capture processes at once, each with the settings `up` printed for its device:
  each receives exactly its own results, none another's;
* every object created in the bucket gets exactly one answer on the foreign route (read with
  `tools results`): the 8 course videos uploaded as the course's workload generator does
  (bucket root, their own names), a raw H.264 elementary stream, a file that is not a video,
  an empty object (with ``ROLLCALL_SHARED_DATA``: the stack then serves the course's people).

The tests share the stack, in file order; the last one stops it. Nothing started is left.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import psutil
import pytest

import rollcall_testkit as testkit
from rollcall_testkit.clips import encode_clip
from rollcall_testkit.prerequisites import SHARED_DATA
from rollcall_tools.aws import AwsTarget
from rollcall_tools.local.processes import clean_environment

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
DEVICES = ("cam1", "cam-b", "cam_c")
REGION = "eu-west-1"
COURSE = ("cse546-videos",)


@dataclass(frozen=True)
class LocalStack:
    """A running `tools local up`: its folder, what it printed, what it recorded."""

    path: Path
    info: dict[str, Any]
    state: dict[str, Any]

    def env(self, **extra: str) -> dict[str, str]:
        """No AWS or rollcall settings but the model cache and this stack's state dir."""
        env = clean_environment(keep=["ROLLCALL_MODEL_CACHE"])
        state = {"ROLLCALL_STATE_DIR": str(self.path / "state"), "OMP_NUM_THREADS": "1"}
        credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        return {**env, **state, **credentials, **extra}

    def tools(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "tools"), *args],
            env=self.env(),
            cwd=self.path,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def aws(self) -> AwsTarget:
        return AwsTarget(region=REGION, endpoint_url=self.info["endpoint_url"])


def _course() -> Path | None:
    """The course's data when ``ROLLCALL_SHARED_DATA`` has it (the test that needs it says
    so through the test kit)."""
    root = os.environ.get(SHARED_DATA, "")
    path = Path(root, *COURSE)
    return path if root and path.is_dir() else None


def _course_recognizer(data: Path, work: Path) -> list[str]:
    """`up`'s options for the course: its people enrolled (dlib's ResNet), its roster."""
    from rollcall_tools.demo.recognizer import build_artifact

    people = {d.name: sorted(d.glob("*.jpg")) for d in sorted((data / "gallery").iterdir())}
    artifact, _ = build_artifact("dlib-resnet-v1", None, people, work / "model", print)
    return ["--model-dir", str(artifact), "--roster", str(data / "student_data.json")]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    path = tmp_path_factory.mktemp("local")
    course = _course()
    recognizer = _course_recognizer(course, path) if course else []
    up_args = [
        "local", "up", "--json", "--region", REGION, "--workers", "2", "--timeout", "60",
        "--batch-size", "3", *[a for d in DEVICES for a in ("--device", d)], *recognizer,
    ]  # fmt: skip
    probe = LocalStack(path, {}, {})
    try:
        up = probe.tools(*up_args)
        assert up.returncode == 0, up.stderr
        assert "probe clip was answered" in up.stderr
        state = json.loads((path / "state" / "local.json").read_text())
        yield LocalStack(path, json.loads(up.stdout), state)
    finally:
        probe.tools("local", "down")
        assert not testkit.reap(path), "processes left running"


def test_up_records_the_stack_and_prints_each_devices_settings(stack: LocalStack) -> None:
    info, state = stack.info, stack.state
    assert state["endpoint_url"] == info["endpoint_url"]
    assert info["endpoint_url"].startswith("http://127.0.0.1:")
    assert info["env"]["ROLLCALL_BUCKET"] == info["bucket"]
    assert info["devices"]["cam1"]["env"] == {
        **info["env"],
        "ROLLCALL_RESULTS_QUEUE": "rollcall-dev-cam1",
        "ROLLCALL_DEVICE_ID": "cam1",
    }
    # the runner stands in for the event source mapping: the mapping's batch size, the
    # function timeout (the queue hides a message 6x as long), the workers
    command = state["runner"]["command"]
    assert command[command.index("--batch-size") + 1] == "3"
    assert command[command.index("--function-timeout") + 1] == "60"
    assert command[command.index("--workers") + 1] == "2"
    assert command[command.index("--queue") + 1] == "rollcall-events"
    assert info["events_visibility_s"] == 360
    # seeded: the demo's people, or the course's
    name = "mr_bean" if _course() else "eileen_collins"
    item = (
        stack.aws()
        .client("dynamodb")
        .get_item(TableName=info["students_table"], Key={"name": {"S": name}})
    )
    assert "major" in item["Item"]


def test_three_devices_at_once_each_receive_only_their_own_results(stack: LocalStack) -> None:
    command = [
        str(BIN / "edge-capture"), "run", "--source", "test", "--duration", "2", "--fast",
        "--gate", "off", "--json", "--poll-wait", "1", "--result-wait", "240",
    ]  # fmt: skip
    edges = {
        device: subprocess.Popen(
            [*command, "--spool-dir", str(stack.path / "spool" / device)],
            env=stack.env(**stack.info["devices"][device]["env"]),
            cwd=stack.path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for device in DEVICES
    }
    for device, edge in edges.items():
        out, err = edge.communicate(timeout=420)
        assert edge.returncode == 0, err
        summary = json.loads(out)
        keys = [outcome["key"] for outcome in summary["outcomes"]]
        assert summary["clips_uploaded"] == len(keys) >= 4
        assert summary["clips_answered"] == summary["clips_uploaded"], device
        assert summary["missing_keys"] == []
        assert all(key.startswith(f"clips/{device}/") for key in keys), keys
        # not one message of another device (nor a malformed or duplicate one) arrived
        assert summary["foreign_results"] == 0, device
        assert summary["malformed_results"] == summary["duplicate_results"] == 0


def _raw_h264(source: Path) -> bytes:
    """``source`` as a raw H.264 elementary stream (no container), as picamera's
    ``start_recording("x.h264")`` writes."""
    with av.open(str(source)) as video:
        frames = [frame.to_ndarray(format="rgb24") for frame in video.decode(video=0)]
    return encode_clip(frames, fps=24, container="h264")


@pytest.mark.shared_data
def test_every_object_gets_exactly_one_answer_on_the_foreign_route(stack: LocalStack) -> None:
    data = testkit.shared_data(*COURSE)
    with (data / "expected.csv").open() as fh:
        expected = {row["video"]: row for row in csv.DictReader(fh)}
    s3, bucket = stack.aws().client("s3"), stack.info["bucket"]
    for name in sorted(expected):  # exactly as the course's workload generator does
        s3.upload_file(str(data / "videos" / name), bucket, name)
    raw = _raw_h264(data / "videos" / "test_4.mp4")
    s3.put_object(Bucket=bucket, Key="pi-cam/2026-11-29 10.00.h264", Body=raw)
    s3.put_object(Bucket=bucket, Key="notes.txt", Body=b"attendance notes, not a video\n")
    s3.put_object(Bucket=bucket, Key="empty.mp4", Body=b"")

    followed = stack.tools(
        "results", "--json", "--count", str(len(expected) + 3), "--timeout", "480",
        "--endpoint-url", stack.info["endpoint_url"], "--region", REGION, timeout=540,
    )  # fmt: skip
    assert followed.returncode == 0, followed.stderr
    lines = [json.loads(line) for line in followed.stdout.splitlines()]
    counts = Counter(line["key"] for line in lines)
    assert counts == Counter([*expected, "pi-cam/2026-11-29 10.00.h264", "notes.txt", "empty.mp4"])
    got = {line["key"]: line for line in lines}
    assert all(line["route"] == "foreign" and line["device"] is None for line in lines)
    for name, row in expected.items():
        named = {(p["name"], p["major"], p["year"]) for p in got[name]["people"]}
        assert named == {(row["name"], row["major"], row["year"])}, got[name]
    h264 = got["pi-cam/2026-11-29 10.00.h264"]
    assert [p["name"] for p in h264["people"]] == ["johnny_dep"], h264
    assert (got["notes.txt"]["status"], got["notes.txt"]["error"]["code"]) == (
        "error",
        "not_a_video",
    )
    assert got["empty.mp4"]["error"]["code"] == "object_empty"


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_status_then_down_stops_everything(stack: LocalStack) -> None:
    status = stack.tools("local", "status", "--json")
    assert status.returncode == 0
    report = json.loads(status.stdout)
    assert report["server_alive"] and report["runner_alive"]
    assert report["devices"] == sorted(DEVICES)  # the probe's device is gone again
    # every result consumed by its own device or `tools results`; nothing dead-lettered, no
    # second answer waiting
    assert report["queues"] == {
        "rollcall-events": 0,
        "rollcall-events-dlq": 0,
        "rollcall-results-foreign": 0,
        "rollcall-results-foreign-dlq": 0,
        **{f"rollcall-dev-{device}": 0 for device in sorted(DEVICES)},
    }

    again = stack.tools("local", "up")
    assert again.returncode == 2
    assert "already running" in again.stderr
    pids = [stack.state["server"]["pid"], stack.state["runner"]["pid"]]
    assert all(_running(pid) for pid in pids)

    down = stack.tools("local", "down")
    assert down.returncode == 0
    assert "stopped" in down.stdout
    assert not (stack.path / "state" / "local.json").exists()
    assert not any(_running(pid) for pid in pids)
    status = stack.tools("local", "status")
    assert status.returncode == 1
    assert "no local stack" in status.stdout
