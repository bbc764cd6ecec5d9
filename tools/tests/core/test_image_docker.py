"""build-image's Docker checks and build command, against a stand-in ``docker`` on PATH that
answers like a client without (or with) the buildx plugin and records what it was asked."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from rollcall_tools.aws import AwsTarget
from rollcall_tools.errors import ConfigError
from rollcall_tools.image import ImagePlan, build_and_push, docker_binary

_FAKE = """#!/bin/sh
echo "$@" >> "{log}"
case "$1" in
  info) echo 27.3.1 ;;
  buildx) if [ "{buildx}" != yes ]; then
            echo "docker: 'buildx' is not a docker command." >&2; exit 1
          fi
          if [ "$2" = version ]; then echo "github.com/docker/buildx v0.17.1"; fi ;;
  *) exit 1 ;;
esac
"""


def _fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, buildx: bool) -> Path:
    log = tmp_path / "docker.log"
    docker = tmp_path / "bin" / "docker"
    docker.parent.mkdir()
    docker.write_text(_FAKE.format(log=log, buildx="yes" if buildx else "no"))
    docker.chmod(docker.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{docker.parent}{os.pathsep}{os.environ['PATH']}")
    return log


def test_without_buildx_build_image_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_docker(tmp_path, monkeypatch, buildx=False)
    with pytest.raises(ConfigError, match="docker buildx is not installed") as raised:
        docker_binary()
    assert "docker-buildx-plugin" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_build_is_one_platform_loaded_and_single_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _fake_docker(tmp_path, monkeypatch, buildx=True)
    docker = docker_binary()
    plan = ImagePlan(Path("Dockerfile"), tmp_path, "1.dkr.ecr.r.amazonaws.com/x", "v1", "arm64")
    build_and_push(AwsTarget(), plan, docker, push=False)
    *_, build = log.read_text().splitlines()
    assert build.split() == [
        "buildx", "build", "--platform", "linux/arm64", "--build-arg", "ARCH=arm64",
        "--load", "--provenance=false", "--sbom=false", "-f", "Dockerfile",
        "-t", "1.dkr.ecr.r.amazonaws.com/x:v1", str(tmp_path),
    ]  # fmt: skip
