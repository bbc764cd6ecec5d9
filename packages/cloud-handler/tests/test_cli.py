"""The CLI: clear one-line errors, trustworthy exit codes; the handler's settings from the
environment, everything else plain options."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rollcall_testkit as testkit
from cloud_handler.cli import app
from rollcall_testkit.handler_stack import Stack, body, clip_key, s3_event, sqs_event

runner = CliRunner()


def test_version_is_the_pyproject_version() -> None:
    import cloud_handler

    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    version = pyproject["project"]["version"]
    assert "__version__" not in vars(cloud_handler)  # read when asked for, not at import
    assert cloud_handler.__version__ == version
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"cloud-handler {version}"


def test_help_names_the_settings_an_option_defaults_to(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the handler's settings come from the environment; the stand-in's own knobs
    (queue, workers, batch size, timeouts) are plain options."""
    monkeypatch.setenv("ROLLCALL_WORKERS", "7")  # no longer read
    result = runner.invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "ROLLCALL_ENDPOINT_URL" in result.output and "AWS_REGION" in result.output
    assert "env var" not in result.output
    result = runner.invoke(app, ["invoke", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "env var" not in result.output


def test_invoke_bad_inputs_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = runner.invoke(app, ["invoke", "--event", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "cannot read the event file" in missing.stderr
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    result = runner.invoke(app, ["invoke", "--event", str(garbage)])
    assert result.exit_code == 2 and "not JSON" in result.stderr
    listed = tmp_path / "list.json"
    listed.write_text("[]")
    result = runner.invoke(app, ["invoke", "--event", str(listed)])
    assert result.exit_code == 2 and "JSON object" in result.stderr
    for name in ("ROLLCALL_RESULTS_TOPIC_ARN", "ROLLCALL_TABLE", "ROLLCALL_IDEMPOTENCY_TABLE"):
        monkeypatch.delenv(name, raising=False)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"Records": []}))
    result = runner.invoke(app, ["invoke", "--event", str(event)])
    assert result.exit_code == 2
    assert "ROLLCALL_RESULTS_TOPIC_ARN is not set" in result.stderr
    assert "ROLLCALL_TABLE is not set" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_invoke_recognizes_a_real_clip_without_torch(
    stack: Stack, clip_bytes: Callable[..., bytes], tmp_path: Path, astronaut_artifact: Path
) -> None:
    """`cloud-handler invoke` in a fresh process where torch cannot be imported."""
    stack.seed([{"name": "eileen_collins", "major": "astronautics", "year": "senior"}])
    record = stack.put(clip_key(50), clip_bytes(640, 480, faces=1))
    event = tmp_path / "event.json"
    event.write_text(json.dumps(sqs_event(body(s3_event(record)))))
    env = testkit.blocking_env(
        tmp_path / "no-torch",
        testkit.SERVING_NEVER_IMPORTS,
        {**os.environ, "ROLLCALL_MODEL_DIR": str(astronaut_artifact)},
    )
    done = subprocess.run(
        [sys.executable, "-m", "cloud_handler", "invoke", "--event", str(event)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == {"batchItemFailures": []}
    [answer] = stack.results()
    assert answer.clip.key == clip_key(50)
    assert [f.identity for f in answer.faces] == ["eileen_collins"]
    assert answer.faces[0].record is not None


def test_serve_refuses_unknown_queue_and_unreachable_endpoint(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = runner.invoke(app, ["serve", "--queue", "no-such-queue"])
    assert result.exit_code == 2 and "no-such-queue" in result.stderr
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    result = runner.invoke(app, ["serve", "--queue", "q", "--endpoint-url", "http://127.0.0.1:9"])
    assert result.exit_code == 3 and "events queue 'q'" in result.stderr
    result = runner.invoke(app, ["serve", "--queue", "q", "--workers", "0"])
    assert result.exit_code == 2 and "--workers" in result.stderr
    monkeypatch.delenv("ROLLCALL_TABLE")
    result = runner.invoke(app, ["serve", "--queue", "q"])
    assert result.exit_code == 2 and "ROLLCALL_TABLE is not set" in result.stderr
