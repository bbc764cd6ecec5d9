"""The web stack stays in the dashboard extra: not in the Lambda image's requirements, not in
edge-capture's; `tools dashboard` itself: its help, and a stack that is not deployed."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from rollcall_tools.aws import AwsTarget
from rollcall_tools.cli import app
from rollcall_tools.stack.deploy import Stack
from rollcall_tools.stack.settings import StackSettings
from rollcall_tools.task_root import FORBIDDEN, served_requirements, workspace_root

WEB_STACK = ("starlette", "jinja2", "uvicorn", "python-multipart")


def _names(lines: list[str]) -> set[str]:
    return {line.split("==")[0].strip().lower() for line in lines}


def test_the_task_root_refuses_the_web_stack_and_does_not_need_it() -> None:
    assert all(FORBIDDEN.match(name) for name in WEB_STACK)
    kept, dropped = served_requirements(workspace_root())  # raises if one is locked in
    assert not _names(kept + dropped) & set(WEB_STACK)


def test_edge_capture_installs_no_web_stack() -> None:
    exported = subprocess.run(
        ["uv", "export", "--package", "edge-capture", "--frozen", "--no-dev", "--no-hashes",
         "--no-emit-workspace", "--no-header", "--no-annotate", "--all-extras"],
        cwd=workspace_root(), capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    lines = [line for line in exported.splitlines() if "==" in line]
    assert lines and not _names(lines) & set(WEB_STACK)


def test_help_names_host_port_and_the_token_variable() -> None:
    got = CliRunner().invoke(app, ["dashboard", "--help"], env={"COLUMNS": "200"})
    assert got.exit_code == 0
    assert "--host" in got.stdout and "--port" in got.stdout
    assert "ROLLCALL_DASHBOARD_TOKEN" in got.stdout


def test_a_stack_that_is_not_deployed_is_one_line_and_exit_2(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ROLLCALL_DASHBOARD_TOKEN", raising=False)
    where = ["--endpoint-url", moto_endpoint, "--region", "eu-west-1", "--stack", "nothere"]
    got = CliRunner().invoke(app, ["dashboard", "--port", "0", *where])
    assert got.exit_code == 2, got.output
    assert "is not deployed" in got.stderr and "Traceback" not in got.output
    assert got.stdout == ""  # no URL for a dashboard that never served


def test_the_other_commands_never_load_the_web_stack() -> None:
    """`tools` registers the command but imports the dashboard only when it runs."""
    code = (
        "import sys, rollcall_tools.cli; "
        "print(sorted(m for m in ('starlette', 'jinja2', 'uvicorn') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_port_in_use_is_one_line_and_exit_2_and_leaves_no_queue(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ROLLCALL_DASHBOARD_TOKEN", raising=False)
    target = AwsTarget(region="eu-west-1", endpoint_url=moto_endpoint)
    Stack.resolve(target, "dashport", StackSettings(local=True)).deploy()
    where = ["--endpoint-url", moto_endpoint, "--region", "eu-west-1", "--stack", "dashport"]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        got = CliRunner().invoke(app, ["dashboard", "--port", port, *where])
    assert got.exit_code == 2, got.output
    assert f"cannot listen on 127.0.0.1:{port}" in got.stderr
    queues = target.client("sqs").list_queues(QueueNamePrefix="dashport-dashboard")
    assert not queues.get("QueueUrls")
