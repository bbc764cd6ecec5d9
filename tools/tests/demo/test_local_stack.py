"""`tools local up|status|down`: real processes (moto server, local runner), state, teardown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import psutil
import pytest

pytestmark = pytest.mark.slow

TOOLS = str(Path(sys.executable).with_name("tools"))


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROLLCALL_", "AWS_"))}
    env.update({"ROLLCALL_STATE_DIR": str(tmp_path / "state"), "OMP_NUM_THREADS": "2"})
    if "ROLLCALL_RUNNER_COMMAND" in os.environ:
        env["ROLLCALL_RUNNER_COMMAND"] = os.environ["ROLLCALL_RUNNER_COMMAND"]
    return env


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


def test_up_status_down(reaped: Path) -> None:
    tmp_path = reaped
    try:
        up = _tools(
            tmp_path, "local", "up", "--json", "--region", "eu-west-1",
            "--device", "cam1", "--timeout", "5", "--batch-size", "3",
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
        assert command[command.index("--workers") + 1] == "1"
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

        status = _tools(tmp_path, "local", "status", "--json")
        assert status.returncode == 0
        report = json.loads(status.stdout)
        assert report["server_alive"] and report["runner_alive"]
        assert report["devices"] == ["cam1"]  # the probe's device is gone again
        assert report["queues"] == {
            "rollcall-events": 0,
            "rollcall-events-dlq": 0,
            "rollcall-results-foreign": 0,
            "rollcall-results-foreign-dlq": 0,
            "rollcall-dev-cam1": 0,
        }

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
