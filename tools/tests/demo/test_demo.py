"""`tools demo` end to end, as a user runs it: a subprocess, real processes, real video."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TOOLS = str(Path(sys.executable).with_name("tools"))


def _env(tmp_path: Path) -> dict[str, str]:
    """A clean environment: no AWS or rollcall settings; temp files under ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROLLCALL_", "AWS_"))}
    env.update({"TMPDIR": str(tmp_path), "OMP_NUM_THREADS": "2"})
    if "ROLLCALL_RUNNER_COMMAND" in os.environ:
        env["ROLLCALL_RUNNER_COMMAND"] = os.environ["ROLLCALL_RUNNER_COMMAND"]
    return env


def _demo(tmp_path: Path, *args: str) -> tuple[int, dict, str]:
    proc = subprocess.Popen(
        [TOOLS, "demo", "--json", "--no-download", *args],
        env=_env(tmp_path),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=480)
    except subprocess.TimeoutExpired:
        proc.terminate()  # the demo's SIGTERM path: stop, tear down, exit
        out, err = proc.communicate(timeout=120)
        pytest.fail(f"the demo did not finish in 480 s: {err[-2000:]}")
    assert "Traceback" not in err, err
    return proc.returncode, json.loads(out), err


def test_demo_without_arguments_runs_detection_only(reaped: Path) -> None:
    tmp_path = reaped
    code, report, err = _demo(tmp_path, "--seconds", "3")
    assert code == 0, err
    assert report["recognizer"] == "detection-only"
    assert report["backbone"] == "none"
    assert [line for line in err.splitlines() if "DETECTION ONLY" in line] == [
        report["recognizer_note"]
    ]
    # 3 s at 15 fps in 0.5 s clips: 6 clips, every one answered, the face found in each
    assert report["clips"] == 6
    assert report["answered"] == 6
    assert report["missing"] == 0
    assert report["statuses"] == {"unknown": 6}
    assert report["unknown_faces"] >= 6
    assert report["people_seen"] == []
    assert report["latency_ms"]["median"] > 0
    assert report["latency_ms"]["p95"] >= report["latency_ms"]["median"]
    (video,) = report["videos"].values()
    assert video["name"] is None  # an untrained network never names anyone
    assert list(tmp_path.glob("rollcall-demo-*")) == [], "the demo removes its temporary files"


def _shared(name: str, sub: str) -> Path:
    root = os.environ.get(name)
    if not root:
        pytest.skip(f"{name} is not set")
    path = Path(root) / sub
    if not path.exists():
        pytest.skip(f"{path} is missing")
    return path


@pytest.mark.shared_data
@pytest.mark.shared_models
def test_demo_names_everyone_in_the_course_videos(reaped: Path) -> None:
    tmp_path = reaped
    data = _shared("ROLLCALL_SHARED_DATA", "cse546-videos")
    weights = _shared("ROLLCALL_SHARED_MODELS", "mobilefacenet-casia/mobilefacenet_casia.ckpt")
    code, report, err = _demo(
        tmp_path,
        "--videos",
        str(data / "videos"),
        "--roster",
        str(data / "student_data.json"),
        "--gallery",
        str(data / "gallery"),
        "--backbone",
        "mobilefacenet",
        "--weights",
        str(weights),
        "--fast",
        "--clip-seconds",
        "1",  # half the clips of the default 0.5 s: the same check in half the handler time
    )
    assert code == 0, err
    assert report["recognizer"] == "pretrained"
    assert report["missing"] == 0
    assert report["answered"] == report["clips"] >= 8
    with (data / "expected.csv").open() as fh:
        expected = {row["video"]: row for row in csv.DictReader(fh)}
    assert set(report["videos"]) == set(expected)
    for name, row in expected.items():
        got = report["videos"][name]
        assert (got["name"], got["major"], got["year"]) == (row["name"], row["major"], row["year"])
