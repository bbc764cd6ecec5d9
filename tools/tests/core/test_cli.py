"""The CLI's contract: JSON output, dry runs, confirmation, exit codes, one-line errors."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rollcall_tools.aws import AwsTarget
from rollcall_tools.cli import app

pytestmark = pytest.mark.slow


def _run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_deploy_json_twice_then_destroy(
    moto_url: str, prefix: str, target: AwsTarget, tools: Callable[..., tuple[int, str, str]]
) -> None:
    code, out, _ = tools("deploy", "--dry-run", "--json")
    assert code == 0
    plan = json.loads(out)
    assert plan["dry_run"] is True
    assert plan["counts"] == {"create": 13}
    buckets = [b["Name"] for b in target.client("s3").list_buckets()["Buckets"]]
    assert not any(name.startswith(prefix + "-clips") for name in buckets)

    code, out, _ = tools("deploy", "--json", "--device", "cam1", "--device", "cam2")
    assert code == 0
    first = json.loads(out)
    assert first["changed"] is True
    assert first["counts"] == {"create": 19}  # the stack, then two devices' routes
    outputs = first["outputs"]
    assert outputs["bucket"] == f"{prefix}-clips-123456789012-eu-west-1"
    assert outputs["events_queue"] == f"{prefix}-events"
    assert outputs["results_topic"] == f"{prefix}-results"
    assert outputs["foreign_queue"] == f"{prefix}-results-foreign"
    assert outputs["events_visibility_s"] == 180
    assert first["env"] == {
        "AWS_REGION": "eu-west-1",
        "ROLLCALL_BUCKET": outputs["bucket"],
        "ROLLCALL_ENDPOINT_URL": moto_url,
    }
    assert first["devices"]["cam2"]["env"] == {
        **first["env"],
        "ROLLCALL_RESULTS_QUEUE": f"{prefix}-dev-cam2",
        "ROLLCALL_DEVICE_ID": "cam2",
    }
    code, out, _ = tools("deploy", "--json")
    assert json.loads(out)["changed"] is False
    assert json.loads(out)["counts"] == {"no change": 13}

    # the course's buckets: a named upload bucket and an output bucket, a stack of their own
    course = ("--input-bucket", f"{prefix}-input", "--output-bucket", f"{prefix}-output")
    code, out, _ = tools("deploy", "--json", *course, stack=f"{prefix}c")
    assert code == 0, out
    named = json.loads(out)
    assert named["counts"] == {"create": 14}
    assert (named["outputs"]["bucket"], named["env"]["ROLLCALL_BUCKET"]) == (
        f"{prefix}-input",
        f"{prefix}-input",
    )
    assert named["outputs"]["output_bucket"] == f"{prefix}-output"
    assert named["outputs"]["output_format"] == "course"
    # a device of that stack: ROLLCALL_BUCKET (what deploy printed) names the upload bucket
    chosen = {"ROLLCALL_BUCKET": f"{prefix}-input"}
    code, out, _ = tools("devices", "add", "cam9", "--json", stack=f"{prefix}c", env=chosen)
    assert code == 0, out
    assert json.loads(out)["devices"]["cam9"]["env"]["ROLLCALL_BUCKET"] == f"{prefix}-input"
    code, out, _ = tools("devices", "remove", "cam9", "--yes", stack=f"{prefix}c")
    assert code == 0, out
    code, out, _ = tools("destroy", "--yes", "--json", *course, stack=f"{prefix}c")
    assert json.loads(out)["counts"] == {"delete": 14}

    code, out, err = tools("deploy", "--device", "cam1")
    assert code == 0
    assert f"export ROLLCALL_BUCKET={outputs['bucket']}" in out
    assert f"export ROLLCALL_RESULTS_QUEUE={prefix}-dev-cam1" in out
    assert "changed: nothing" in err

    code, _, err = tools("destroy", stdin="n\n")
    assert code == 2
    assert "nothing was deleted" in err
    code, out, _ = tools("destroy", "--yes", "--json")
    assert code == 0
    assert json.loads(out)["counts"] == {"delete": 19}


def test_devices_add_list_remove(prefix: str, tools: Callable[..., tuple[int, str, str]]) -> None:
    code, _, err = tools("devices", "add", "cam1")
    assert code == 2
    assert "run `tools deploy` first" in err
    assert tools("deploy", "--json")[0] == 0

    code, out, _ = tools("devices", "add", "cam1", "pi-lab_2", "--json")
    assert code == 0
    added = json.loads(out)
    assert added["counts"] == {"create": 6}
    assert added["devices"]["pi-lab_2"]["results_queue"] == f"{prefix}-dev-pi-lab_2"
    code, out, _ = tools("devices", "add", "cam1")
    assert code == 0
    assert "export ROLLCALL_DEVICE_ID=cam1" in out

    code, out, _ = tools("devices", "list", "--json")
    assert code == 0
    assert [d["device_id"] for d in json.loads(out)] == ["cam1", "pi-lab_2"]
    code, out, _ = tools("devices", "list")
    assert "pi-lab_2" in out

    code, _, err = tools("devices", "remove", "cam1", stdin="n\n")
    assert code == 2
    code, out, _ = tools("devices", "remove", "cam1", "--yes", "--json")
    assert code == 0
    assert json.loads(out)["counts"] == {"delete": 3}
    code, out, _ = tools("devices", "list", "--json")
    assert [d["device_id"] for d in json.loads(out)] == ["pi-lab_2"]
    code, _, err = tools("devices", "add", "no good")
    assert code == 2
    assert "device id 'no good' is invalid" in err


def test_where_the_stack_is_comes_from_the_environment_and_options_win(
    moto_url: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROLLCALL_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("ROLLCALL_STACK", "Not_A_Stack")
    code, out, err = _run("deploy", "--dry-run", "--json")
    assert code == 2
    assert "stack name 'Not_A_Stack' is invalid" in err
    code, out, _ = _run("deploy", "--dry-run", "--json", "--stack", prefix)
    assert code == 0
    assert json.loads(out)["outputs"]["bucket"] == f"{prefix}-clips-123456789012-eu-west-1"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("deploy", "--stack", "Bad_Name"), 2, "stack name 'Bad_Name' is invalid"),
        (("deploy", "--stack", "[bold]x"), 2, "stack name '[bold]x' is invalid"),  # no markup
        (("deploy", "--retention-days", "0"), 2, "--retention-days must be 1..3650"),
        (("deploy", "--memory", "64"), 2, "--memory must be 128..10240"),
        (("deploy", "--batch-size", "0"), 2, "--batch-size must be 1..10000"),
        (("deploy", "--batch-size", "50"), 2, "needs --batching-window of 1 s or more"),
        (("deploy", "--max-concurrency", "1"), 2, "--max-concurrency must be 2..1000"),
        (("results", "--device", "nope"), 2, "run `tools devices add nope`"),
        (("dlq", "list", "--stack", "nostack"), 2, "stack 'nostack' is not deployed"),
        (("deploy", "--endpoint-url", "http://127.0.0.1:9"), 3, "unreachable"),
        (("deploy", "--output-format", "xml"), 2, "--output-format must be course or json"),
        (("deploy", "--input-bucket", "x"), 2, "--input-bucket 'x' is not a valid S3 bucket"),
        (
            ("local", "up", "--input-bucket", "a-in", "--output-bucket", "a-in", "--no-endpoint"),
            2,
            "--output-bucket must differ from --input-bucket",
        ),
        (("course", "--videos", "/nonexistent"), 2, "--videos /nonexistent: no such folder"),
        (("deploy", "--region", "mars-north-1", "--no-endpoint"), 2, "not an AWS region"),
    ],
)
def test_bad_configuration_is_one_clear_line(
    moto_url: str, args: tuple[str, ...], code: int, message: str
) -> None:
    if "--no-endpoint" in args:
        args = tuple(a for a in args if a != "--no-endpoint")
    elif "--endpoint-url" not in args:
        args = (*args, "--endpoint-url", moto_url)
    got, out, err = _run(*args)
    assert got == code
    assert message in err
    assert "Traceback" not in out + err
    assert len(err.strip().splitlines()) == 1


def test_build_image_says_what_is_missing(
    moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = _run("build-image", "--endpoint-url", moto_url)
    assert code == 2
    assert "needs --model-dir DIR" in err and "--networks-only" in err
    code, _, err = _run("build-image", "--model-dir", str(tmp_path), "--task-root-only")
    assert code == 2
    assert f"{tmp_path}: not a recognizer artifact (no manifest.json)" in err

    monkeypatch.setenv("PATH", str(tmp_path))  # no docker client at all
    code, _, err = _run("build-image", "--detection-only", "--endpoint-url", moto_url)
    assert code == 2
    assert "docker is not installed" in err
    assert "Docker Engine" in err
    monkeypatch.undo()

    docker = shutil.which("docker")
    if docker is None:
        return
    engine = subprocess.run([docker, "info"], capture_output=True, check=False, timeout=30)
    if engine.returncode == 0:
        pytest.skip("a Docker Engine runs here; the no-engine message cannot be shown")
    code, _, err = _run("build-image", "--detection-only", "--endpoint-url", moto_url)
    assert code == 3
    assert "no Docker Engine answers it" in err


def test_version_and_help() -> None:
    code, out, _ = _run("--version")
    assert code == 0
    assert "0.2.0" in out
    commands = [
        ("deploy",), ("destroy",), ("seed-db",), ("build-image",), ("local", "up"), ("demo",),
        ("results",), ("devices", "add"), ("devices", "list"), ("devices", "remove"),
        ("dlq", "list"), ("dlq", "redrive"), ("faces", "enroll"), ("faces", "list"),
        ("faces", "remove"), ("faces", "import"), ("faces", "unknown"), ("faces", "bench"),
        ("course",), ("attendance",), ("bench-gate",),
    ]  # fmt: skip
    for command in commands:
        code, out, _ = _run(*command, "--help")
        assert code == 0, command
        assert command == ("build-image",) or "--json" in out, command
