"""Short versions of ``tools soak`` and ``tools faults`` on one instrumented local stack:
moto in its own process, deployed by ``tools deploy``'s code, cloud-handler's local runner
(two worker processes, detection-only), edge-capture as a real subprocess.

Sizes are cut for the suite's time budget (2 devices for 3 s; a 3 s outage; 3 clips per
runner-side scenario; a 6 s visibility timeout; dead-lettered after 2 deliveries); the
commands' defaults are the real runs. re-upload runs its logic on 2 short clips named like
the course's videos: the course's 1080p videos take longer than this stack's 1 s function
timeout on a loaded machine (measured with ``tools faults --scenario re-upload``, README).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from rollcall_tools.reliability.faults import RUNNERS, SCENARIOS, FaultPlan
from rollcall_tools.reliability.harness import InstrumentedStack, StackOptions
from rollcall_tools.reliability.report import plot_latency
from rollcall_tools.reliability.soak import LoadPlan, run_load, warm_up
from rollcall_tools.reliability.workload import face_clip

pytestmark = pytest.mark.slow
PLAN = FaultPlan(outage_s=3.0, clips=3, edge_lead_s=2.0, edge_tail_s=2.0, answer_timeout_s=120)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InstrumentedStack]:
    work = tmp_path_factory.mktemp("reliability")
    options = StackOptions(work_dir=work, workers=2, visibility_s=6, max_receives=2)
    with InstrumentedStack(options) as running:
        warm_up(running, 4)
        yield running


def test_soak_answers_every_clip_once_and_measures_latency(
    stack: InstrumentedStack, tmp_path: Path
) -> None:
    report = run_load(stack, LoadPlan(devices=2, seconds=3, drain_s=120))
    assert report.sent == 12
    assert report.uploaded == 12
    assert report.lost == 0, report.lost_keys
    assert report.answered == 12
    assert report.duplicates == 0
    lat = report.latency_ms
    assert lat["median"] is not None and lat["p95"] is not None and lat["max"] is not None
    assert 0 < lat["median"] <= lat["p95"] <= lat["max"]
    assert report.cpu["runner_cpu_s"] > 0
    png = tmp_path / "latency.png"
    plot_latency(report, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_fault_scenario_ends_with_every_clip_answered_exactly_once(
    stack: InstrumentedStack, scenario: str, tmp_path: Path
) -> None:
    plan = PLAN
    if scenario == "re-upload":  # two videos at the bucket root under their own names
        videos = tmp_path / "videos"
        videos.mkdir()
        (videos / "test_0.mp4").write_bytes(face_clip())
        (videos / "test_1.mp4").write_bytes(face_clip(320, 240))
        plan = replace(PLAN, videos=videos)
    result = RUNNERS[scenario](stack, tmp_path, plan)
    summary = result.to_json()
    assert result.verdict.clips > 0
    assert summary["lost"] == 0, summary
    assert summary["duplicates"] == 0, summary
    assert summary["answered_once"] == summary["clips"], summary
    assert summary["problems"] == [], summary
    assert result.ok
    details = summary["details"]
    if scenario == "dead-letter":  # nothing answered until the re-drive, then once each
        assert details["answered_while_down"] == 0
        assert details["dead_lettered"] == details["redriven"] == summary["clips"]
        assert details["receive_counts"] == [details["max_receives"] + 1]  # + the listing
    if scenario == "re-upload":  # each key uploaded twice, identical bytes: two answers
        assert details["uploads"] == summary["clips"] == 2 * details["videos"] == 4
    if scenario == "duplicates":  # one notification record, three deliveries: one answer
        assert details["deliveries"] == 3 * details["notifications"] == 3 * summary["clips"]
    if scenario == "three-devices":
        assert sorted(details["devices"]) == ["fault-dev0", "fault-dev1", "fault-dev2"]
        for facts in details["devices"].values():
            assert facts["clips_answered"] == facts["clips_uploaded"] > 0
            assert facts["foreign_results"] == 0


def test_faults_cli_refuses_an_unknown_scenario_before_starting_anything() -> None:
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("tools")), "faults", "--scenario", "meteor", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "meteor" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_faults_cli_refuses_a_videos_folder_without_videos(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("tools")),
            "faults",
            "--scenario",
            "re-upload",
            "--videos",
            str(tmp_path),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "--videos" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""
