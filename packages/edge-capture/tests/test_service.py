"""The systemd unit shipped for the Pi, parsed: it runs until stopped (and the capture loop
really does with ``--duration inf``), restarts always, and names only absolute paths."""

from __future__ import annotations

import getpass
import re
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edge_capture.capture import CaptureLoop
from edge_capture.cli import app
from edge_capture.config import EdgeConfig
from edge_capture.errors import ConfigError
from edge_capture.service import ServiceSpec, render_unit, template
from edge_capture.sources import CapturedFrame, SourceSpec, SyntheticSource
from edge_capture.spool import Spool

Unit = dict[str, dict[str, list[str]]]


def parse_unit(text: str) -> Unit:
    """systemd's unit syntax: [Section] headers, KEY=VALUE lines (keys may repeat), # and ;
    comments, blank lines."""
    unit: Unit = {}
    section: dict[str, list[str]] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = unit.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition("=")
        assert sep and section is not None, f"line {number} is not KEY=VALUE in a section: {raw!r}"
        assert not raw.endswith("\\"), "no continuation lines"
        section.setdefault(key.strip(), []).append(value.strip())
    return unit


def _one(unit: Unit, section: str, key: str) -> str:
    (value,) = unit[section][key]
    return value


def test_the_shipped_template_parses_and_runs_until_stopped() -> None:
    unit = parse_unit(template())
    assert set(unit) == {"Unit", "Service", "Install"}
    assert _one(unit, "Service", "Restart") == "always"  # also after a clean exit
    assert _one(unit, "Service", "Type") == "simple"
    assert "network-online.target" in _one(unit, "Unit", "After")
    assert _one(unit, "Install", "WantedBy") == "multi-user.target"
    argv = shlex.split(_one(unit, "Service", "ExecStart"))
    assert argv[argv.index("--duration") + 1] == "inf"
    placeholders = {"@USER@", "@WORKING_DIRECTORY@", "@EXECUTABLE@", "@ENVIRONMENT_FILE@"}
    assert all(p in template() for p in placeholders)


def test_the_rendered_unit_names_only_absolute_paths(tmp_path: Path) -> None:
    spec = ServiceSpec("rollcall", tmp_path / "edge", Path("/home/rollcall/venv/bin/edge-capture"))
    text = render_unit(spec)
    assert not re.search(r"@[A-Z_]+@", text)  # every placeholder filled
    unit = parse_unit(text)
    service = unit["Service"]
    assert _one(unit, "Service", "User") == "rollcall"  # configurable: Bookworm has no `pi`
    assert _one(unit, "Service", "WorkingDirectory") == str(tmp_path / "edge")
    assert _one(unit, "Service", "EnvironmentFile") == "/etc/rollcall/edge.env"
    assert "Environment" not in service  # settings live in the file, not in the unit
    argv = shlex.split(_one(unit, "Service", "ExecStart"))
    assert argv[:2] == ["/home/rollcall/venv/bin/edge-capture", "run"]
    options = dict(zip(argv[2::2], argv[3::2], strict=True))
    assert options == {
        "--source": "picamera",
        "--duration": "inf",
        "--results": str(tmp_path / "edge" / "results.jsonl"),
        "--plot": str(tmp_path / "edge" / "latency.png"),
    }
    assert all(Path(options[o]).is_absolute() for o in ("--results", "--plot"))
    stop = int(_one(unit, "Service", "TimeoutStopSec"))
    config = EdgeConfig(bucket="b", results_queue="q")
    assert stop > config.flush_timeout_s + config.result_wait_s + config.poll_wait_s


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (ServiceSpec("Bad User", Path("/srv"), Path("/bin/sh")), "not a Linux user name"),
        (ServiceSpec("u", Path("srv"), Path("/bin/sh")), "must be an absolute path"),
        (ServiceSpec("u", Path("/my dir"), Path("/bin/sh")), "must not contain spaces"),
        (ServiceSpec("u", Path("/srv"), Path("/bin/sh"), Path("/e"), "a b"), "one word"),
    ],
)
def test_values_systemd_would_misread_are_refused(spec: ServiceSpec, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        render_unit(spec)


def test_the_service_command_writes_the_unit(tmp_path: Path) -> None:
    executable = tmp_path / "venv" / "bin" / "edge-capture"
    executable.parent.mkdir(parents=True)
    executable.write_text("#!/bin/sh\n")
    target = tmp_path / "rollcall-edge.service"
    args = ["service", "--user", "cam", "--working-dir", str(tmp_path / "work")]
    got = CliRunner().invoke(app, [*args, "--executable", str(executable), "-o", str(target)])
    assert got.exit_code == 0, got.stderr
    unit = parse_unit(target.read_text())
    assert _one(unit, "Service", "User") == "cam"
    assert shlex.split(_one(unit, "Service", "ExecStart"))[0] == str(executable)
    assert (tmp_path / "work").is_dir()

    got = CliRunner().invoke(app, [*args, "--executable", str(tmp_path / "none")])
    assert got.exit_code == 2
    assert "no such file" in got.stderr
    assert len(got.stderr.strip().splitlines()) == 1


class _Frames:
    """A camera that never ends by itself, until ``count`` frames (the test's safety net)."""

    def __init__(self, stop: threading.Event, stop_after: int) -> None:
        self.stop, self.stop_after = stop, stop_after
        self.pattern = SyntheticSource(SourceSpec("test", 64, 48, 15), threading.Event())

    def frames(self) -> Iterator[CapturedFrame]:
        for k in range(10_000):
            if k == self.stop_after:
                self.stop.set()  # what SIGTERM does
            yield CapturedFrame(self.pattern.frame_at(k), 1_800_000_000.0 + k, k / 15)

    def close(self) -> None:
        return None


def test_duration_inf_records_until_stopped(tmp_path: Path) -> None:
    config = EdgeConfig(
        bucket="b",
        results_queue="q",
        resolution=(64, 48),
        fps=15,
        duration_s=float("inf"),
        gate="off",
        spool_dir=tmp_path,
    )
    stop = threading.Event()
    loop = CaptureLoop(config, Spool(tmp_path, 10**9))
    loop.run(_Frames(stop, stop_after=40), stop)
    assert loop.frames_seen == 40  # 5 clips of 0.5 s, far past any finite default
    assert loop.clips == 5


def test_systemd_itself_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here (the parser above still ran)")
    env = tmp_path / "edge.env"
    env.write_text("ROLLCALL_DEVICE_ID=pi-lab-1\n")
    executable = Path(sys.executable).absolute()  # any existing executable file
    spec = ServiceSpec(getpass.getuser(), tmp_path, executable, env)
    unit = tmp_path / "rollcall-edge.service"
    unit.write_text(render_unit(spec))
    done = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "rollcall-edge.service" not in done.stderr, done.stderr  # no warning about it
