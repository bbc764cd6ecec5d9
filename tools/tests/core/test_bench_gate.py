"""``tools bench-gate``: edge-capture's motion gate in generated scenes (short scenes here)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from rollcall_tools.cli import app


def test_bench_gate_json() -> None:
    result = CliRunner().invoke(
        app, ["bench-gate", "--json", "--scene-minutes", "0.5", "--encode-clips", "1"]
    )
    assert result.exit_code == 0, result.output
    gate = json.loads(result.stdout)
    assert set(gate["cpu_ms_per_frame"]) == {"640x480", "1280x720"}
    assert all(ms > 0 for ms in gate["cpu_ms_per_frame"].values())
    scenes = gate["scenes"]
    assert set(scenes) == {"empty", "walk", "still"}
    assert all(0 < s["uploaded_fraction"] <= 1 and s["clips"] == 57 for s in scenes.values())
    assert "motion" not in scenes["empty"]["by_reason"], "noise and light alone are no motion"
    walk = scenes["walk"]
    assert walk["moving_clips"] > 0 and walk["moving_uploaded"] == walk["moving_clips"]
    assert scenes["still"]["max_gap_s"] <= 10.0
    core = gate["core_fraction_640x480@15"]
    assert set(core) == set(scenes) and all(0 < share < 1 for share in core.values())


def test_bench_gate_table_without_the_encoder() -> None:
    result = CliRunner().invoke(
        app, ["bench-gate", "--scene-minutes", "0.1", "--encode-clips", "0"]
    )
    assert result.exit_code == 0, result.output
    assert "motion gate" in result.stdout and "walk" in result.stdout
