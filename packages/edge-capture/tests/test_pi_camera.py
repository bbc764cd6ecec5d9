"""The Pi camera's import failures are one clear line; the Pi install pins numpy 1.x, which
Raspberry Pi OS's picamera2 (apt's simplejpeg) is built against."""

from __future__ import annotations

import sys
import threading
from importlib import metadata
from pathlib import Path

import pytest
from edge_testkit import Stack
from packaging.requirements import Requirement
from packaging.version import Version
from typer.testing import CliRunner

from edge_capture.cli import app
from edge_capture.errors import SourceError
from edge_capture.sources import PI_CONSTRAINTS, SourceSpec, open_source

ROOT = Path(__file__).resolve().parents[3]
DTYPE_SIZE = (
    "numpy.dtype size changed, may indicate binary incompatibility. "
    "Expected 96 from C header, got 88 from PyObject"
)


@pytest.fixture
def stub_picamera2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``picamera2`` package on sys.path; the test writes what its import does."""
    package = tmp_path / "stub" / "picamera2"
    package.mkdir(parents=True)
    monkeypatch.syspath_prepend(str(package.parent))
    monkeypatch.delitem(sys.modules, "picamera2", raising=False)
    return package / "__init__.py"


def _open() -> None:
    open_source(SourceSpec("picamera", 64, 48, 15), threading.Event())


def test_numpy_2_under_apts_picamera2_is_one_line(stub_picamera2: Path) -> None:
    # what `from picamera2 import Picamera2` raises when apt's simplejpeg meets numpy 2
    stub_picamera2.write_text(f"raise ValueError({DTYPE_SIZE!r})\n")
    with pytest.raises(SourceError) as raised:
        _open()
    message = str(raised.value)
    assert "\n" not in message
    assert "picamera2 is installed but cannot be imported" in message
    assert f"ValueError: {DTYPE_SIZE}" in message
    assert f"pip install -c {PI_CONSTRAINTS} 'numpy<2'" in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_a_missing_dependency_of_picamera2_is_named(stub_picamera2: Path) -> None:
    stub_picamera2.write_text("import libcamera_that_is_not_here\n")
    with pytest.raises(SourceError, match="ModuleNotFoundError: No module named 'libcamera"):
        _open()


def test_the_cli_reports_it_without_a_traceback(
    stub_picamera2: Path, tmp_path: Path, stack: Stack
) -> None:
    stub_picamera2.write_text(f"raise ValueError({DTYPE_SIZE!r})\n")
    got = CliRunner().invoke(
        app,
        [
            "run", "--source", "picamera", "--bucket", stack.bucket,
            "--results-queue", stack.queue_name, "--endpoint-url", stack.url,
            "--spool-dir", str(tmp_path / "spool"), "--duration", "1",
        ],
        env={"COLUMNS": "400"},
    )  # fmt: skip
    lines = [line for line in got.stderr.splitlines() if line.strip()]
    assert "Traceback" not in got.stderr
    assert len(lines) == 1, got.stderr
    assert "picamera2 is installed but cannot be imported (ValueError" in lines[0]
    assert got.exit_code == 2


def test_the_pi_constraints_keep_numpy_1_and_agree_with_edge_capture() -> None:
    constraints = [
        Requirement(line)
        for line in (ROOT / PI_CONSTRAINTS).read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    (numpy,) = [r for r in constraints if r.name == "numpy"]
    assert Version("2.0.0") not in numpy.specifier
    ours = [Requirement(r) for r in metadata.requires("edge-capture") or []]
    (wanted,) = [r for r in ours if r.name == "numpy" and not r.marker]
    assert Version("1.26.4") in numpy.specifier and Version("1.26.4") in wanted.specifier
    readme = (ROOT / "packages/edge-capture/README.md").read_text()
    assert f"-c {PI_CONSTRAINTS}" in readme
