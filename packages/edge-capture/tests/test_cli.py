"""The CLI: --help names each setting's variable; errors are one red line with the exit code of
the one convention (2 usage/configuration, 3 unreachable)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from edge_testkit import Stack
from typer.testing import CliRunner

import edge_capture
from edge_capture.cli import app
from edge_capture.settings import EdgeSettings, env_name
from rollcall_tools.local.moto import free_port

runner = CliRunner()


def _run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, args, env=env)
    return result.exit_code, result.stdout, result.stderr


def _one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one error line, got: {stderr!r}"
    assert "Traceback" not in stderr
    assert lines[0].startswith("error:")
    return lines[0]


def test_help_names_each_settings_variable_and_nothing_else() -> None:
    code, out, _ = _run(["run", "--help"], env={"COLUMNS": "400"})
    assert code == 0
    for field in EdgeSettings.model_fields:
        assert env_name(field) in out, field
    assert "ROLLCALL_BUCKET; required" in out and "ROLLCALL_RESOLUTION; default: 640x480" in out
    assert "ROLLCALL_SPOOL_POLICY; default: pause" in out
    assert "ROLLCALL_GATE; default: motion" in out
    assert "(default: 300)" in out  # --duration: an option only
    named = set(re.findall(r"\b(?:ROLLCALL|AWS)_[A-Z_]+", out))
    assert named == {env_name(field) for field in EdgeSettings.model_fields}


def test_version_comes_from_the_distribution() -> None:
    """pyproject.toml is the one source: --version and ``__version__`` read the metadata."""
    code, out, _ = _run(["--version"])
    assert code == 0 and f"edge-capture {metadata.version('edge-capture')}" in out
    assert edge_capture.__version__ == metadata.version("edge-capture")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "bucket: not set"),
        (["--bucket", "b"], "results-queue: not set"),
        (
            ["--bucket", "b", "--results-queue", "q", "--resolution", "big"],
            "resolution 'big' (from --resolution): expected WIDTHxHEIGHT",
        ),
        (["--bucket", "b", "--results-queue", "q", "--spool-policy", "x"], "spool-policy 'x'"),
        (["--bucket", "b", "--results-queue", "q", "--config", "/nonexistent.toml"], "not found"),
        (["--bucket", "b", "--results-queue", "q", "--gate", "sometimes"], "gate 'sometimes'"),
        (["--bucket", "b", "--results-queue", "q", "--gate-threshold", "0"], "gate-threshold 0"),
        (["--bucket", "b", "--results-queue", "q", "--gate-min-area", "-1"], "gate-min-area -1"),
        (["--bucket", "b", "--results-queue", "q", "--gate-keepalive", "-5"], "gate-keepalive -5"),
        (["--bucket", "b", "--results-queue", "q", "--poll-wait", "30"], "poll-wait-s 30"),
        (
            ["--bucket", "b", "--results-queue", "q", "--gate-mask", "0,0,700,10"],
            "rectangle 0,0,700,10 extends past the 640x480 frame",
        ),
        (
            ["--bucket", "b", "--results-queue", "q", "--gate-mask", "tv.png"],
            "gate-mask 'tv.png': no such file",
        ),
    ],
)
def test_configuration_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    code, _, err = _run(["run", *args, "--spool-dir", str(tmp_path)])
    assert code == 2
    assert message in _one_line_error(err)


def _session_args(stack: Stack, tmp_path: Path, **overrides: str) -> list[str]:
    values = {
        "--bucket": stack.bucket,
        "--results-queue": stack.queue_name,
        "--endpoint-url": stack.url,
        "--spool-dir": str(tmp_path / "spool"),
        "--duration": "0",
        **overrides,
    }
    return ["run", *[item for pair in values.items() for item in pair]]


def test_missing_bucket(stack: Stack, tmp_path: Path) -> None:
    code, _, err = _run(_session_args(stack, tmp_path, **{"--bucket": "no-such-bucket"}))
    assert code == 2
    assert "bucket 'no-such-bucket': does not exist" in _one_line_error(err)


def test_missing_queue(stack: Stack, tmp_path: Path) -> None:
    code, _, err = _run(_session_args(stack, tmp_path, **{"--results-queue": "no-such-queue"}))
    assert code == 2
    assert "results queue 'no-such-queue': does not exist" in _one_line_error(err)
    assert "register the device with `tools devices add DEVICE_ID`" in err


def test_unreachable_endpoint(stack: Stack, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    code, _, err = _run(_session_args(stack, tmp_path, **{"--endpoint-url": dead}))
    assert code == 3
    assert f"endpoint {dead} is unreachable" in _one_line_error(err)


def test_no_credentials(stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    code, _, err = _run(_session_args(stack, tmp_path))
    assert code == 2
    assert "no AWS credentials found" in _one_line_error(err)


def test_missing_source_file(stack: Stack, tmp_path: Path) -> None:
    missing = str(tmp_path / "lecture.mp4")
    code, _, err = _run(_session_args(stack, tmp_path, **{"--source": missing, "--duration": "5"}))
    assert code == 2
    assert f"source '{missing}': no such file" in _one_line_error(err)


def test_a_directory_as_source(stack: Stack, tmp_path: Path) -> None:
    folder = tmp_path / "videos"
    folder.mkdir()
    code, _, err = _run(
        _session_args(stack, tmp_path, **{"--source": str(folder), "--duration": "5"})
    )
    assert code == 2
    assert f"source '{folder}': is a directory, not a video file" in _one_line_error(err)


def test_config_file_and_env(stack: Stack, tmp_path: Path) -> None:
    """A TOML file supplies what options and env vars leave unset; --duration 0 only flushes."""
    path = tmp_path / "edge.toml"
    path.write_text(f'bucket = "{stack.bucket}"\nresults-queue = "wrong"\n')
    env = {
        "ROLLCALL_RESULTS_QUEUE": stack.queue_name,
        "ROLLCALL_ENDPOINT_URL": stack.url,
        "ROLLCALL_SPOOL_DIR": str(tmp_path / "spool"),
    }
    code, out, err = _run(
        ["run", "--config", str(path), "--duration", "0", "--json", "--result-wait", "0"], env=env
    )
    assert code == 0, err
    summary = json.loads(out)
    assert summary["bucket"] == stack.bucket
    assert summary["clips_captured"] == 0


def test_an_error_with_brackets_is_printed_whole(tmp_path: Path) -> None:
    """Rich markup must not eat a message's square brackets."""
    path = tmp_path / "edge.toml"
    path.write_text("edge-capture = 3\n")
    code, _, err = _run(["run", "--config", str(path)])
    assert code == 2
    assert "[edge-capture] must be a table" in _one_line_error(err)


def test_an_unwritable_output_is_one_line(stack: Stack, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    args = _session_args(stack, tmp_path, **{"--results": str(blocker / "results.jsonl")})
    code, _, err = _run([*args, "--result-wait", "0"])
    assert code == 2
    assert "results.jsonl: cannot create its directory" in _one_line_error(err)


def test_bench_json() -> None:
    code, out, err = _run(["bench", "--json", "--clips", "1"])
    assert code == 0, err
    figures = json.loads(out)
    assert "gate" not in figures  # the gate's benchmark is `tools bench-gate`
    for key in ("640x480@15", "640x480@30", "1280x720@15", "1280x720@30"):
        row = figures[key]
        assert row["encode_fraction"] > 0
        assert row["baseline_encode_fraction"] > 0
        assert row["cameras_per_core"] >= 1
    assert figures["_settings"]["encoder"]["preset"] == "ultrafast"


def test_import_and_cli_never_load_torch() -> None:
    """The Pi must not need torch, face_model or cloud_handler; the gate is numpy only (no
    OpenCV, scikit-image or SciPy)."""
    code = (
        "import sys, runpy\n"
        "import edge_capture, edge_capture.cli, edge_capture.bench, edge_capture.session\n"
        "import edge_capture.gate, edge_capture.mask\n"
        "sys.argv = ['edge-capture', 'run', '--help']\n"
        "try:\n"
        "    runpy.run_module('edge_capture', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('torch', 'torchvision', 'face_model', 'cloud_handler', 'facenet_pytorch',"
        " 'onnxruntime', 'cv2', 'skimage', 'scipy'))\n"
        "assert not bad, bad\n"
        "print('clean')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("clean")
