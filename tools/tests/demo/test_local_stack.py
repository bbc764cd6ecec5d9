"""`tools local up|status|down`: real processes (moto server, local runner), state, teardown;
and, on that stack, three edge-capture processes at once, each with its own device id: each
receives exactly its own results, none receives another's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import psutil
import pytest

pytestmark = pytest.mark.slow

TOOLS = str(Path(sys.executable).with_name("tools"))
EDGE = str(Path(sys.executable).with_name("edge-capture"))
DEVICES = ("cam1", "cam-b", "cam_c")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROLLCALL_", "AWS_"))}
    env.update({"ROLLCALL_STATE_DIR": str(tmp_path / "state"), "OMP_NUM_THREADS": "2"})
    return {**env, **extra}


def _tools(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TOOLS, *args],
        env=_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _three_edges_at_once(tmp_path: Path, devices: dict[str, Any]) -> dict[str, Any]:
    """`edge-capture run` for each device at once, each with the settings `up` printed."""
    command = [
        EDGE, "run", "--source", "test", "--duration", "2", "--fast", "--gate", "off",
        "--json", "--poll-wait", "1", "--result-wait", "240",
    ]  # fmt: skip
    credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    edges = {
        device: subprocess.Popen(
            [*command, "--spool-dir", str(tmp_path / "spool" / device)],
            env=_env(tmp_path, **credentials, **devices[device]["env"]),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for device in DEVICES
    }
    summaries = {}
    for device, edge in edges.items():
        out, err = edge.communicate(timeout=420)
        assert edge.returncode == 0, err
        summaries[device] = json.loads(out)
    return summaries


def test_up_three_devices_status_down(reaped: Path) -> None:
    tmp_path = reaped
    registered = [arg for device in DEVICES for arg in ("--device", device)]
    try:
        up = _tools(
            tmp_path, "local", "up", "--json", "--region", "eu-west-1", "--workers", "2",
            "--timeout", "5", "--batch-size", "3", *registered,
        )  # fmt: skip
        assert up.returncode == 0, up.stderr
        info = json.loads(up.stdout)
        state = json.loads((tmp_path / "state" / "local.json").read_text())
        assert state["endpoint_url"] == info["endpoint_url"]
        assert info["endpoint_url"].startswith("http://127.0.0.1:")
        assert "probe clip was answered" in up.stderr
        assert info["devices"]["cam1"]["env"] == {
            **info["env"],
            "ROLLCALL_RESULTS_QUEUE": "rollcall-dev-cam1",
            "ROLLCALL_DEVICE_ID": "cam1",
        }
        assert info["env"]["ROLLCALL_BUCKET"] == info["bucket"]

        # the runner stands in for the event source mapping: the mapping's batch size, the
        # function timeout (the queue hides a message 6x as long), the workers
        command = state["runner"]["command"]
        assert command[command.index("--batch-size") + 1] == "3"
        assert command[command.index("--function-timeout") + 1] == "5"
        assert command[command.index("--workers") + 1] == "2"
        assert command[command.index("--queue") + 1] == "rollcall-events"
        assert info["events_visibility_s"] == 30

        # the deployed stack is reachable and seeded with the demo's people
        ddb = boto3.client(
            "dynamodb",
            endpoint_url=info["endpoint_url"],
            region_name="eu-west-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        item = ddb.get_item(TableName=info["students_table"], Key={"name": {"S": "eileen_collins"}})
        assert item["Item"]["major"] == {"S": "aerospace_engineering"}

        # three devices at once on this one stack
        summaries = _three_edges_at_once(tmp_path, info["devices"])
        for device, summary in summaries.items():
            keys = [outcome["key"] for outcome in summary["outcomes"]]
            assert summary["clips_uploaded"] == len(keys) >= 4
            assert summary["clips_answered"] == summary["clips_uploaded"], device
            assert summary["missing_keys"] == []
            assert all(key.startswith(f"clips/{device}/") for key in keys), keys
            # not one message of another device (nor a malformed or duplicate one) arrived
            assert summary["foreign_results"] == 0, device
            assert summary["malformed_results"] == summary["duplicate_results"] == 0

        status = _tools(tmp_path, "local", "status", "--json")
        assert status.returncode == 0
        report = json.loads(status.stdout)
        assert report["server_alive"] and report["runner_alive"]
        assert report["devices"] == sorted(DEVICES)  # the probe's device is gone again
        assert report["queues"] == {
            "rollcall-events": 0,
            "rollcall-events-dlq": 0,
            "rollcall-results-foreign": 0,
            "rollcall-results-foreign-dlq": 0,
            **{f"rollcall-dev-{device}": 0 for device in sorted(DEVICES)},
        }  # every result consumed by its own device; nothing dead-lettered

        again = _tools(tmp_path, "local", "up")
        assert again.returncode == 2
        assert "already running" in again.stderr
        pids = [state["server"]["pid"], state["runner"]["pid"]]
        assert all(psutil.pid_exists(pid) for pid in pids)
    finally:
        down = _tools(tmp_path, "local", "down")
    assert down.returncode == 0
    assert "stopped" in down.stdout
    assert not (tmp_path / "state" / "local.json").exists()
    assert not any(_running(pid) for pid in pids)
    status = _tools(tmp_path, "local", "status")
    assert status.returncode == 1
    assert "no local stack" in status.stdout
