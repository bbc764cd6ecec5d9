"""What each runtime wheel ships: its package and nothing dev-only (no test kit, no tests, no
gate benchmark on the Pi). Built offline from uv's cache, as `uv build` builds them."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WHEELS = {
    "shared-schema": "shared_schema",
    "edge-capture": "edge_capture",
    "face-model": "face_model",
    "cloud-handler": "cloud_handler",
    "rollcall-tools": "rollcall_tools",
}


@pytest.fixture(scope="module")
def contents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Each runtime package's wheel: the paths inside it."""
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        pytest.fail("uv is not on PATH: the workspace is managed with uv")
    out = tmp_path_factory.mktemp("wheels")
    found: dict[str, list[str]] = {}
    for package, module in WHEELS.items():
        run = subprocess.run(
            [uv, "build", "--offline", "--package", package, "--wheel", "-o", str(out), "-q"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, f"uv build --package {package}: {run.stderr}"
        [wheel] = out.glob(f"{module}-*.whl")
        found[package] = zipfile.ZipFile(wheel).namelist()
    return found


@pytest.mark.parametrize("package", sorted(WHEELS))
def test_wheel_holds_its_package_and_nothing_dev_only(
    contents: dict[str, list[str]], package: str
) -> None:
    names = contents[package]
    module = WHEELS[package]
    files = [n for n in names if ".dist-info/" not in n]
    assert f"{module}/py.typed" in files
    assert all(n.startswith(f"{module}/") for n in files), "one top-level package per wheel"
    dev_only = [
        n for n in files
        if "testkit" in n or "/tests/" in n or Path(n).name.startswith(("test_", "conftest"))
    ]  # fmt: skip
    assert not dev_only, f"{package} ships dev-only files: {dev_only}"


def test_the_pi_wheel_carries_no_gate_benchmark(contents: dict[str, list[str]]) -> None:
    """The motion gate's benchmark runs from tools (`tools bench-gate`), not on the Pi."""
    assert not [n for n in contents["edge-capture"] if "gate_bench" in n]
    assert "rollcall_tools/bench/gate.py" in contents["rollcall-tools"]
