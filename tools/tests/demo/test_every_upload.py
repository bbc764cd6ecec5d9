"""End to end on the local stack, with real processes (`tools local up`, `cloud-handler serve`,
`tools results`): every object created in the bucket gets exactly one answer on the foreign
route: the 8 course videos uploaded as the course's workload generator does (bucket root,
their own names), a raw H.264 elementary stream, a file that is not a video, an empty object.
(Three devices at once, each receiving only its own results: test_local_stack.py.)
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import boto3
import pytest

from rollcall_tools import testkit

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    keep = ("ROLLCALL_MODEL_CACHE",)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ROLLCALL_", "AWS_")) or k in keep
    }
    env.update(
        {
            "ROLLCALL_STATE_DIR": str(tmp_path / "state"),
            "OMP_NUM_THREADS": "1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            **extra,
        }
    )
    return env


def _tools(tmp_path: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "tools"), *args],
        env=_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def _local_stack(tmp_path: Path, *args: str) -> Iterator[dict[str, Any]]:
    """`tools local up --json ARGS`, always followed by `tools local down`."""
    try:
        up = _tools(tmp_path, "local", "up", "--json", *args)
        assert up.returncode == 0, up.stderr
        yield json.loads(up.stdout)
    finally:
        down = _tools(tmp_path, "local", "down")
        assert down.returncode == 0, down.stderr


def _at(info: dict[str, Any]) -> tuple[str, ...]:
    return ("--endpoint-url", info["endpoint_url"], "--region", info["region"])


def _raw_h264(source: Path, out: Path) -> None:
    """Re-encode ``source`` as a raw H.264 elementary stream (no container), as picamera's
    ``start_recording("x.h264")`` writes."""
    with av.open(str(source)) as src, av.open(str(out), mode="w", format="h264") as dst:
        video = src.streams.video[0]
        stream = dst.add_stream("libx264", rate=Fraction(24))
        stream.width, stream.height = video.codec_context.width, video.codec_context.height
        stream.pix_fmt = "yuv420p"
        for frame in src.decode(video):
            rgb = frame.to_ndarray(format="rgb24")
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                dst.mux(packet)
        for packet in stream.encode():
            dst.mux(packet)


@pytest.mark.shared_data
def test_every_object_gets_exactly_one_answer_on_the_foreign_route(reaped: Path) -> None:
    from rollcall_tools.demo.recognizer import build_artifact

    data = testkit.shared_data("cse546-videos")
    with (data / "expected.csv").open() as fh:
        expected = {row["video"]: row for row in csv.DictReader(fh)}
    people = {d.name: sorted(d.glob("*.jpg")) for d in sorted((data / "gallery").iterdir())}
    artifact, enrolled = build_artifact("dlib-resnet-v1", None, people, reaped / "model", print)
    assert set(enrolled) == {row["name"] for row in expected.values()}
    raw = reaped / "johnny.h264"
    _raw_h264(data / "videos" / "test_4.mp4", raw)

    args = ("--model-dir", str(artifact), "--roster", str(data / "student_data.json"))
    with _local_stack(reaped, *args, "--workers", "2") as info:
        s3 = boto3.client(
            "s3",
            endpoint_url=info["endpoint_url"],
            region_name=info["region"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        bucket = info["bucket"]
        for name in sorted(expected):  # exactly as the course's workload generator does
            s3.upload_file(str(data / "videos" / name), bucket, name)
        s3.upload_file(str(raw), bucket, "pi-cam/2026-11-29 10.00.h264")
        s3.put_object(Bucket=bucket, Key="notes.txt", Body=b"attendance notes, not a video\n")
        s3.put_object(Bucket=bucket, Key="empty.mp4", Body=b"")
        uploaded = len(expected) + 3

        followed = _tools(
            reaped, "results", "--json", "--count", str(uploaded), "--timeout", "480",
            *_at(info), timeout=540,
        )  # fmt: skip
        assert followed.returncode == 0, followed.stderr
        lines = [json.loads(line) for line in followed.stdout.splitlines()]
        counts = Counter(line["key"] for line in lines)
        assert counts == Counter(
            [*expected, "pi-cam/2026-11-29 10.00.h264", "notes.txt", "empty.mp4"]
        )
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

        status = _tools(reaped, "local", "status", "--json")
        queues = json.loads(status.stdout)["queues"]
        # everything was consumed, nothing failed into a DLQ, no second answer is waiting
        assert queues == dict.fromkeys(queues, 0), queues
