"""`tools demo` end to end, as a user runs it: a subprocess, real processes, real video.

Every demo here runs where torch cannot be imported: the demo, its local runner and the
handler serve on ONNX Runtime and numpy alone.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import rollcall_testkit as testkit
from rollcall_testkit import reap
from rollcall_tools.demo.video import FPS, duration, timeline
from rollcall_tools.local.processes import clean_environment

pytestmark = pytest.mark.slow

TOOLS = str(Path(sys.executable).with_name("tools"))
FRAMES_PER_CLIP = 8  # 0.5 s at 15 fps, rounded as edge-capture does


def _env(tmp_path: Path) -> dict[str, str]:
    """A clean environment (no AWS or rollcall settings but the model cache), temp files
    under ``tmp_path``, and torch blocked from import in every process."""
    env = clean_environment(keep=["ROLLCALL_MODEL_CACHE"])
    env.update({"TMPDIR": str(tmp_path), "OMP_NUM_THREADS": "2"})
    return testkit.blocking_env(tmp_path / "no-torch", testkit.SERVING_NEVER_IMPORTS, env)


def _demo(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    proc = subprocess.Popen(
        [TOOLS, "demo", "--json", *args],
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
    assert "blocked in this test" not in err, err
    return proc.returncode, json.loads(out), err


def _named(clip: dict[str, Any]) -> list[str]:
    return [person["name"] for person in clip["people"]]


def _shown(clip_seq: int) -> set[str]:
    """Who is on screen in any frame of clip ``clip_seq`` of the bundled video."""
    first, last = clip_seq * FRAMES_PER_CLIP, (clip_seq + 1) * FRAMES_PER_CLIP - 1
    start, end = first / FPS, last / FPS
    return {a.person for a in timeline() if a.start_s <= end and start < a.start_s + a.seconds}


def _inside(clip_seq: int) -> str | None:
    """The person on screen in every frame of the clip, if any."""
    first, last = clip_seq * FRAMES_PER_CLIP, (clip_seq + 1) * FRAMES_PER_CLIP - 1
    for a in timeline():
        if a.start_s <= first / FPS and last / FPS < a.start_s + a.seconds:
            return a.person
    return None


def _run_demo(cwd: Path, *args: str) -> dict[str, Any]:
    """The bundled demo (fast) with ``args``; it succeeds, cleans up and leaves no process."""
    try:
        code, report, err = _demo(cwd, "--fast", *args)
    finally:
        left = reap(cwd)
    assert code == 0, err
    assert not left, f"processes left running: {left}"
    assert list(cwd.glob("rollcall-demo-*")) == [], "the demo removes its temp files"
    assert "the same photos are enrolled" in err
    return report


@pytest.fixture(scope="module")
def every_clip(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo's report with the gate off: every clip uploaded."""
    return _run_demo(tmp_path_factory.mktemp("gate-off"), "--gate", "off")


def test_demo_names_who_is_on_screen_in_every_clip(every_clip: dict[str, Any]) -> None:
    """With every clip uploaded, each clip is answered and names exactly who is on
    screen, with the record."""
    report = every_clip
    assert report["recognizer"] == "pretrained" and report["backbone"] == "dlib-resnet-v1"
    total = round(duration(timeline()) * FPS / FRAMES_PER_CLIP + 0.49)
    assert report["clips"] == report["uploaded"] == report["answered"] == total
    assert report["missing"] == 0
    assert report["upload_line"] == f"uploaded {total} of {total} clips (gate: off)"
    assert _records(report) == {
        "eileen_collins": ("aerospace_engineering", "senior"),
        "grace_hopper": ("mathematics", "graduate"),
    }
    (clips,) = report["outcomes"].values()
    for clip in clips:
        names, inside, shown = _named(clip), _inside(clip["seq"]), _shown(clip["seq"])
        if inside is not None:  # a person in every frame: named, with the record
            assert names == [inside], clip
            assert clip["people"][0]["major"] is not None
        elif not shown:  # the empty room
            assert clip["status"] == "no_face", clip
        else:  # entering or leaving: that person or nobody
            assert set(names) <= shown, clip
    assert report["latency_ms"]["median"] > 0


def test_demo_ends_with_the_attendance_of_its_session(every_clip: dict[str, Any]) -> None:
    """The demo's last word: who was there, from when to when (its own session's
    sightings, as `tools attendance` reports them), and the timeline's path."""
    attendance = every_clip["attendance"]
    people = {p["name"]: p for p in attendance["people"]}
    assert set(people) == {"eileen_collins", "grace_hopper"}
    assert attendance["absent"] == []  # the demo's roster: the two of them
    eileen, grace = people["eileen_collins"], people["grace_hopper"]
    # in turn (--fast compresses the clips' capture times, not the frame times within a clip)
    assert eileen["first_seen"] < grace["first_seen"] and eileen["last_seen"] < grace["last_seen"]
    assert eileen["clips"] >= 3 and grace["clips"] >= 3
    png = Path(every_clip["attendance_png"])
    assert png.name == "rollcall-attendance.png" and png.read_bytes()[:4] == b"\x89PNG"


def test_the_default_motion_gate_skips_clips_and_names_the_same_people(
    every_clip: dict[str, Any], tmp_path: Path
) -> None:
    """The demo as a user runs it (gate on by default) uploads fewer clips, answers every
    one it uploads, and recognizes the same people as with every clip uploaded."""
    report = _run_demo(tmp_path)
    assert report["gate"] == "motion"
    assert report["clips"] == every_clip["clips"]
    assert 0 < report["uploaded"] < report["clips"]
    assert report["answered"] == report["uploaded"] and report["missing"] == 0
    assert report["upload_line"] == (
        f"uploaded {report['uploaded']} of {report['clips']} clips (gate: motion)"
    )
    assert _records(report) == _records(every_clip)
    (clips,) = report["outcomes"].values()
    for clip in clips:  # seq counts uploaded clips only; one person on screen at a time
        assert len(_named(clip)) <= 1, clip


def _records(report: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {p["name"]: (p["major"], p["year"]) for p in report["people_seen"]}


@pytest.mark.shared_data
def test_demo_names_everyone_in_the_course_videos(reaped: Path) -> None:
    data = testkit.shared_data("cse546-videos")
    code, report, err = _demo(
        reaped,
        "--videos",
        str(data / "videos"),
        "--roster",
        str(data / "student_data.json"),
        "--gallery",
        str(data / "gallery"),
        "--fast",
        "--clip-seconds",
        "1",  # half the clips of the default 0.5 s: the same check in half the handler time
    )
    assert code == 0, err
    assert report["recognizer"] == "pretrained"
    assert report["missing"] == 0
    assert report["answered"] == report["uploaded"] >= 8
    with (data / "expected.csv").open() as fh:
        expected = {row["video"]: row for row in csv.DictReader(fh)}
    assert set(report["videos"]) == set(expected)
    for name, row in expected.items():
        got = report["videos"][name]
        assert (got["name"], got["major"], got["year"]) == (row["name"], row["major"], row["year"])
