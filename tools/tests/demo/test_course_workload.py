"""The CSE 546 course's workload on the local stack, with real processes (moto server,
`cloud-handler serve`), started by `tools local up` with the course's bucket names:

* course format, the course's people enrolled: `tools course` uploads course videos under
  their own names and again under new names; each gets ``<stem>.txt`` holding the right
  ``name,major,year`` in the output bucket, and nothing else appears there (the output
  bucket is never notified: the handler's writes trigger nothing);
* json format, detection-only: a generated video gets ``<stem>.json``, the full result.

Each test starts its own stack and stops it; nothing started is left.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import rollcall_testkit as testkit
from rollcall_tools.aws import AwsTarget
from rollcall_tools.clips import make_clip
from rollcall_tools.local.processes import clean_environment
from shared_schema import RecognitionResult

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
REGION = "us-east-1"  # the course's client hard-codes it
INPUT, OUTPUT = "1234567890-input", "1234567890-output"


def _tools(work: Path, *args: str, timeout: float = 420) -> subprocess.CompletedProcess[str]:
    """``tools ARGS`` in ``work``, with no AWS settings but this stack's state dir."""
    env = {
        **clean_environment(keep=["ROLLCALL_MODEL_CACHE"]),
        "ROLLCALL_STATE_DIR": str(work / "state"),
        "OMP_NUM_THREADS": "1",
    }
    return subprocess.run(
        [str(BIN / "tools"), *args],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def _local_stack(work: Path, *options: str) -> Iterator[AwsTarget]:
    """`tools local up --json OPTIONS` in ``work``; stopped (and checked gone) on exit."""
    try:
        up = _tools(work, "local", "up", "--json", "--region", REGION, *options)
        assert up.returncode == 0, up.stderr
        yield AwsTarget(region=REGION, endpoint_url=json.loads(up.stdout)["endpoint_url"])
    finally:
        _tools(work, "local", "down")
        assert not testkit.reap(work), "processes left running"


def _course_options(data: Path, work: Path) -> list[str]:
    """The course's people enrolled (dlib's ResNet), its roster seeded."""
    from rollcall_tools.demo.recognizer import build_artifact

    people = {d.name: sorted(d.glob("*.jpg")) for d in sorted((data / "gallery").iterdir())}
    artifact, _ = build_artifact("dlib-resnet-v1", None, people, work / "model", print)
    return ["--model-dir", str(artifact), "--roster", str(data / "student_data.json")]


def _outputs(target: AwsTarget, bucket: str) -> set[str]:
    """The output bucket's keys, but the probe clip's (`local up` sends one)."""
    listed = target.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"] for o in listed if not o["Key"].startswith("clips/probe/")}


@pytest.mark.shared_data
def test_course_format_answers_the_course_videos_with_name_major_year(reaped: Path) -> None:
    data = testkit.shared_data("cse546-videos")
    videos = reaped / "videos"
    videos.mkdir()
    for name in ("test_0.mp4", "test_7.mp4"):  # the two smallest
        shutil.copy(data / "videos" / name, videos / name)
    options = [*_course_options(data, reaped), "--workers", "2", "--timeout", "60"]
    buckets = ["--input-bucket", INPUT, "--output-bucket", OUTPUT, "--output-format", "course"]
    with _local_stack(reaped, *options, *buckets) as target:
        ran = _tools(
            reaped, "course", "--videos", str(videos), "--expected", str(data / "expected.csv"),
            "--stagger", "0.2", "--timeout", "300", "--json",
        )  # fmt: skip
        assert ran.returncode == 0, ran.stderr
        report: dict[str, Any] = json.loads(ran.stdout)
        assert (report["input_bucket"], report["output_bucket"]) == (INPUT, OUTPUT)
        assert (report["uploaded"], report["answered"], report["checked"]) == (4, 4, 4)
        assert report["right"] == 4, report["objects"]
        assert [o["key"] for o in report["objects"]] == [
            "test_0.mp4", "test_7.mp4", "r2-test_0.mp4", "r2-test_7.mp4",
        ]  # fmt: skip
        assert all(o["latency_ms"] is not None for o in report["objects"])
        assert report["latency_ms"]["median"] is not None

        s3 = target.client("s3")
        body = s3.get_object(Bucket=OUTPUT, Key="test_0.txt")["Body"].read()
        assert body == b"president_trump,physics,junior"
        assert s3.get_object(Bucket=OUTPUT, Key="r2-test_7.txt")["Body"].read() == (
            b"morgan_freeman,math,senior"
        )
        # one output object per upload and nothing else: its writes notified no one
        assert _outputs(target, OUTPUT) == {
            "test_0.txt", "test_7.txt", "r2-test_0.txt", "r2-test_7.txt",
        }  # fmt: skip
        notification = s3.get_bucket_notification_configuration(Bucket=OUTPUT)
        assert not notification.get("QueueConfigurations")
        status = json.loads(_tools(reaped, "local", "status", "--json").stdout)
        assert status["queues"]["rollcall-events"] == 0
        assert status["queues"]["rollcall-events-dlq"] == 0


def test_json_format_holds_the_full_result(reaped: Path) -> None:
    videos = reaped / "videos"
    videos.mkdir()
    (videos / "walk-in.mp4").write_bytes(make_clip(640, 480, faces=1, duration_s=1, fps=10))
    buckets = ["--input-bucket", "course-in", "--output-bucket", "course-out"]
    with _local_stack(reaped, *buckets, "--output-format", "json") as target:
        ran = _tools(
            reaped, "course", "--videos", str(videos), "--rounds", "1", "--stagger", "0",
            "--timeout", "120", "--json",
        )  # fmt: skip
        assert ran.returncode == 0, ran.stderr
        report = json.loads(ran.stdout)
        assert (report["answered"], report["checked"], report["right"]) == (1, 0, None)
        (row,) = report["objects"]
        assert row["output_key"] == "walk-in.json"
        body = target.client("s3").get_object(Bucket="course-out", Key="walk-in.json")["Body"]
        result = RecognitionResult.from_message(body.read())
        assert (result.clip.bucket, result.clip.key) == ("course-in", "walk-in.mp4")
        assert result.model is not None and result.model.backbone == "dlib-resnet-v1"
        assert result.status.value in {"unknown", "no_face"}  # an empty face library
        assert row["answer"] == f"{result.status.value},,"  # as the course format says it
        assert _outputs(target, "course-out") == {"walk-in.json"}
