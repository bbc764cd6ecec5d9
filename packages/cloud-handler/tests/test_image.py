"""What can be checked of the container image without Docker."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from cloud_handler.image import (
    NOT_FOR_INFERENCE,
    filter_requirements,
    workspace_root,
    write_image_requirements,
)

PACKAGE = Path(__file__).resolve().parents[1]
GPU = re.compile(r"^(nvidia-|cuda-|triton)", re.IGNORECASE)


def _locked_versions() -> dict[str, str]:
    lock = tomllib.loads((workspace_root() / "uv.lock").read_text())
    return {p["name"]: p["version"] for p in lock["package"] if "version" in p}


def test_filter_splits_cpu_torch_and_drops_gpu_lines() -> None:
    exported = textwrap.dedent(
        """\
        -e ./packages/shared-schema
        boto3==1.0
        nvidia-cublas==13.1 ; sys_platform == 'linux'
        cuda-toolkit==13.2 ; sys_platform == 'linux'
        triton==3.9.0 ; sys_platform == 'linux'
        torch==2.15.0+cu132
        torchvision==0.29.2
        matplotlib==3.11
        numpy==2.4 ; python_full_version < '3.12'
        """
    )
    report = filter_requirements(exported)
    assert report.locked == ["boto3==1.0", "numpy==2.4 ; python_full_version < '3.12'"]
    assert report.cpu == ["torch==2.15.0", "torchvision==0.29.2"]
    assert len(report.dropped) == 5


def test_exported_requirements_are_locked_and_cuda_free(tmp_path: Path) -> None:
    report = write_image_requirements(tmp_path / "requirements.txt")
    text = (tmp_path / "requirements.txt").read_text()
    cpu = (tmp_path / "requirements-torch-cpu.txt").read_text().splitlines()
    versions = _locked_versions()
    names = []
    for line in text.splitlines():
        name = line.partition("==")[0]
        names.append(name)
        assert not GPU.match(name), line
        assert name not in NOT_FOR_INFERENCE, line
        assert name in versions, f"{line} is not in uv.lock"
    assert {"av", "boto3", "aws-lambda-powertools", "onnxruntime", "facenet-pytorch"} <= set(names)
    assert cpu[0] == "--index-url https://download.pytorch.org/whl/cpu"
    assert cpu[1:] == [f"torch=={versions['torch']}", f"torchvision=={versions['torchvision']}"]
    assert report.count == len(text.splitlines()) + 2
    assert any(GPU.match(line) for line in report.dropped)  # the lock does hold CUDA wheels


def test_dockerfile_base_image_and_handler_path() -> None:
    dockerfile = (PACKAGE / "Dockerfile").read_text()
    assert re.search(r"^FROM public\.ecr\.aws/lambda/python:3\.12$", dockerfile, re.MULTILINE)
    [cmd] = re.findall(r'^CMD \["([^"]+)"\]$', dockerfile, re.MULTILINE)
    module, _, function = cmd.rpartition(".")
    handler = getattr(importlib.import_module(module), function)
    assert callable(handler)
    root = workspace_root()
    for source in re.findall(r"^COPY (packages/\S+)", dockerfile, re.MULTILINE):
        assert (root / source).exists(), source
    assert "requirements-torch-cpu.txt" in dockerfile and "--no-deps" in dockerfile


def _run_blocked(body: str, *args: str) -> str:
    """Run ``body`` in a fresh interpreter where the dropped packages cannot be imported."""
    blocked = sorted({n.replace("-", "_") for n in NOT_FOR_INFERENCE} | {"fontTools"})
    code = (
        textwrap.dedent(
            f"""
        import importlib.abc, importlib.machinery, sys
        BLOCKED = {blocked!r}
        class Absent(importlib.abc.Loader):
            def create_module(self, spec):
                raise ModuleNotFoundError("not in the image: " + spec.name, name=spec.name)
            def exec_module(self, module):
                raise AssertionError("unreachable")
        class Block(importlib.abc.MetaPathFinder):
            # a spec without origin: probes see "no file", imports fail as if absent
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    return importlib.machinery.ModuleSpec(name, Absent(), origin=None)
                return None
        sys.meta_path.insert(0, Block())
        import torch
        torch.set_num_threads(1)
        from cloud_handler import handler
        from cloud_handler.synth import place_faces
        from face_model import Recognizer
        """
        )
        + textwrap.dedent(body)
        + textwrap.dedent(
            """
        loaded = [m for m, v in sys.modules.items() if v is not None and m.split(".")[0] in BLOCKED]
        print("ok", sorted(loaded))
        """
        )
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


@pytest.mark.slow
def test_inference_without_the_dropped_packages(request: pytest.FixtureRequest) -> None:
    """Inference never imports what the image leaves out (matplotlib, onnx, ...): detection
    only, and (with ROLLCALL_SHARED_MODELS) loading and using a pretrained artifact."""
    artifact: list[str] = []
    if os.environ.get("ROLLCALL_SHARED_MODELS"):
        artifact = [str(request.getfixturevalue("astronaut_artifact"))]
    out = _run_blocked(
        """
        batch = Recognizer.detection_only().recognize([place_faces(640, 480, 1)])
        assert len(batch.faces) == 1, batch
        if len(sys.argv) > 1:
            recognizer = Recognizer.load(sys.argv[1])
            [face] = recognizer.recognize([place_faces(640, 480, 1)]).faces
            assert face.identity == "eileen_collins", face
        """,
        *artifact,
    )
    assert out.endswith("ok []")
