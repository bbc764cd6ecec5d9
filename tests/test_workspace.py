"""Workspace invariants: every member is a self-contained, separately versioned package."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import distributions, packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = {
    "shared-schema": ROOT / "packages" / "shared-schema",
    "edge-capture": ROOT / "packages" / "edge-capture",
    "face-model": ROOT / "packages" / "face-model",
    "cloud-handler": ROOT / "packages" / "cloud-handler",
    "rollcall-tools": ROOT / "tools",
    "rollcall-testkit": ROOT / "tools" / "testkit",
}


def _pyproject(path: Path) -> dict:
    return tomllib.loads((path / "pyproject.toml").read_text(encoding="utf-8"))


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _owners() -> dict[str, list[str]]:
    """Import name -> distributions: ``top_level.txt`` (``packages_distributions``), and the
    top-level packages a wheel's files install where its ``top_level.txt`` leaves one out
    (dlib-bin names only its extension module, not ``dlib``)."""
    owners = {name: list(dists) for name, dists in packages_distributions().items()}
    for dist in distributions():
        for file in dist.files or []:
            if len(file.parts) == 2 and file.parts[1] == "__init__.py":
                owners.setdefault(file.parts[0], []).append(dist.metadata["Name"])
    return owners


def _imported_top_levels(src: Path) -> set[str]:
    names: set[str] = set()
    for file in src.rglob("*.py"):
        tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("member", sorted(MEMBERS))
def test_member_layout(member: str) -> None:
    path = MEMBERS[member]
    project = _pyproject(path)["project"]
    assert project["name"] == member
    assert re.fullmatch(r"\d+\.\d+\.\d+", project["version"]), "static version, bumped with uv"
    module = next((path / "src").iterdir()).name
    for required in ("README.md", "CHANGELOG.md", f"src/{module}/py.typed", "tests"):
        assert (path / required).exists(), f"{member} lacks {required}"


@pytest.mark.parametrize("member", sorted(MEMBERS))
def test_member_declares_every_distribution_it_imports(member: str) -> None:
    path = MEMBERS[member]
    project = _pyproject(path)["project"]
    declared = {_requirement_name(r) for r in project.get("dependencies", [])}
    for extra in project.get("optional-dependencies", {}).values():
        declared |= {_requirement_name(r) for r in extra}
    module = next((path / "src").iterdir()).name
    owners = _owners()
    undeclared = {}
    for name in _imported_top_levels(path / "src") - set(sys.stdlib_module_names) - {module}:
        dists = {d.lower().replace("_", "-") for d in owners.get(name, [])} | {
            member for member, p in MEMBERS.items() if (p / "src" / name).is_dir()
        }
        if name in {"picamera2", "libcamera"} or dists & declared:
            continue  # picamera2 only exists on a Pi, behind the `pi` extra
        undeclared[name] = sorted(dists) or ["<not installed>"]
    assert not undeclared, f"{member} imports packages it does not declare: {undeclared}"


def _uv_tree(package: str) -> str:
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        pytest.fail("uv is not on PATH: the workspace is managed with uv")
    run = subprocess.run(
        [uv, "tree", "--frozen", "--no-dev", "--package", package, "--no-dedupe"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return run.stdout


def test_edge_capture_never_pulls_in_torch() -> None:
    tree = _uv_tree("edge-capture")
    assert not re.search(r"\b(torch|torchvision|facenet-pytorch|face-model|cloud-handler)\b", tree)


def test_shared_schema_depends_on_pydantic_alone() -> None:
    lines = _uv_tree("shared-schema").splitlines()
    direct = [line for line in lines[1:] if re.match(r"^[├└]── ", line)]
    assert [line.split()[1] for line in direct] == ["pydantic"]
