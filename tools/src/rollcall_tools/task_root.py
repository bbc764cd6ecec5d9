"""Assemble the Lambda image's task root without Docker: exactly what ``/var/task`` holds.

The handler's locked requirements (``uv export`` of cloud-handler) minus what serving never
imports, installed as wheels for the image's platform and Python; the three workspace
packages; the recognizer artifact under ``model/``. The Dockerfile only copies this
directory onto ``public.ecr.aws/lambda/python:3.12``, so the image and this directory
cannot drift. ``tools build-image --task-root-only`` stops here (no Docker needed).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from rollcall_tools.errors import ConfigError, JobFailedError

IMAGE_PYTHON = "3.12"
"""The Lambda base image's Python (onnxruntime's wheels need its glibc 2.28 or newer)."""
PLATFORMS = {"x86_64": "x86_64-manylinux_2_28", "arm64": "aarch64-manylinux_2_28"}
"""Lambda architecture -> uv's ``--python-platform``."""
WORKSPACE_PACKAGES = ("packages/shared-schema", "packages/face-model", "packages/cloud-handler")
MODEL_DIR = "model"
NOT_SERVED = frozenset(
    {
        # converting the built-in networks (the artifact already holds them as ONNX)
        "facenet-pytorch",
        "face-recognition-models",
        "onnx",
        "ml-dtypes",
        "requests",
        "charset-normalizer",
        "idna",
        "certifi",
        # plots of `face-model evaluate`
        "matplotlib",
        "contourpy",
        "cycler",
        "fonttools",
        "kiwisolver",
        "pyparsing",
        # the command lines (the image runs only the handler)
        "typer",
        "click",
        "rich",
        "pygments",
        "markdown-it-py",
        "mdurl",
        "shellingham",
        "annotated-doc",
        "colorama",
    }
)
"""Locked dependencies the handler never imports; a test runs the handler with all of them
blocked from import."""
BOTOCORE_SERVICES = frozenset({"s3", "sqs", "sns", "dynamodb", "sts"})
"""The AWS APIs the handler calls (STS for credentials); botocore's other 400-odd service
models (28 MB) are left out of the image."""
FORBIDDEN = re.compile(
    r"^(torch|torchvision|triton|nvidia[-_].*|cuda[-_].*"
    r"|starlette|jinja2|uvicorn|python-multipart)$",  # the dashboard's web stack
    re.IGNORECASE,
)
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*==")


@dataclass
class TaskRoot:
    """An assembled task root and what went into it."""

    path: Path
    architecture: str
    python: str
    requirements: list[str]
    dropped: list[str] = field(default_factory=list)

    @property
    def size_bytes(self) -> int:
        """Bytes of every file under the task root."""
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())

    def distributions(self) -> list[str]:
        """Top-level names installed (``*.dist-info`` folders), normalised."""
        return sorted(
            _normal(p.name.split("-")[0]) for p in self.path.glob("*.dist-info") if p.is_dir()
        )


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def workspace_root(start: Path | None = None) -> Path:
    """The uv workspace root above ``start`` (default: this source file)."""
    here = (start or Path(__file__)).resolve()
    for parent in [here, *here.parents]:
        if (parent / "uv.lock").is_file():
            return parent
    raise ConfigError(f"no uv.lock above {here}: not inside the rollcall workspace")


def _uv() -> str:
    uv = shutil.which("uv")
    if uv is None:
        raise ConfigError("uv is not on PATH; install it (pip install uv) to assemble the image")
    return uv


def served_requirements(root: Path) -> tuple[list[str], list[str]]:
    """(kept, dropped) lines of cloud-handler's locked, non-dev requirements."""
    command = [
        _uv(), "export", "--package", "cloud-handler", "--frozen", "--no-dev", "--no-hashes",
        "--no-emit-workspace", "--no-header", "--no-annotate",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise JobFailedError(f"uv export failed in {root}: {done.stderr.strip()}")
    kept: list[str] = []
    dropped: list[str] = []
    for raw in done.stdout.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _NAME.match(line)
        if match is None:
            raise JobFailedError(f"unexpected line in uv export output: {line!r}")
        name = _normal(match.group(1))
        if FORBIDDEN.match(name):
            raise JobFailedError(f"the handler's locked requirements pull {name}: {line}")
        (dropped if name in NOT_SERVED else kept).append(line)
    return kept, dropped


def _install(args: list[str], what: str, cwd: Path) -> None:
    done = subprocess.run(
        [_uv(), "pip", "install", *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        detail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise JobFailedError(f"installing {what} failed: {detail}")


ONNXRUNTIME_UNUSED = ("transformers", "quantization", "tools")
"""onnxruntime's model-conversion and optimisation subpackages (pure Python, never imported
when a session runs)."""


def _prune(out: Path) -> None:
    """Drop what the handler never loads: numpy's test suites, unused botocore models,
    onnxruntime's C API library (the Python binding has the runtime built in and does not
    link it: 34 MB) and its conversion tools."""
    for tests in sorted((out / "numpy").rglob("tests")):
        if tests.is_dir():
            shutil.rmtree(tests)
    ort = out / "onnxruntime"
    for library in sorted((ort / "capi").glob("libonnxruntime.so*")):
        library.unlink()
    for package in ONNXRUNTIME_UNUSED:
        shutil.rmtree(ort / package, ignore_errors=True)
    data = out / "botocore" / "data"
    for service in data.iterdir() if data.is_dir() else ():
        if service.is_dir() and service.name not in BOTOCORE_SERVICES:
            shutil.rmtree(service)


def assemble(
    out: Path,
    *,
    root: Path,
    artifact: Path,
    architecture: str = "x86_64",
    python: str = IMAGE_PYTHON,
    platform: str | None = None,
) -> TaskRoot:
    """Write the task root for ``architecture`` into ``out`` (replaced if it exists).

    ``platform`` and ``python`` override the target (tests and the cold-start benchmark use
    the host's). The locked versions are resolved against the package index, never from
    uv's cache alone: a fresh machine's cache holds no index pages (uv's HTTP caching keeps
    a warm one cheap). No bytecode is written: the Dockerfile compiles it with the image's
    own interpreter.
    """
    if architecture not in PLATFORMS:
        raise ConfigError(f"unknown architecture {architecture!r}: {', '.join(PLATFORMS)}")
    if not (artifact / "manifest.json").is_file():
        raise ConfigError(
            f"{artifact}: not a recognizer artifact (no manifest.json); make one with "
            "`face-model export`"
        )
    kept, dropped = served_requirements(root)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    requirements = out.parent / f"{out.name}.requirements.txt"
    requirements.write_text("\n".join(kept) + "\n")
    target = [
        "--target", str(out), "--python-version", python,
        "--python-platform", platform or PLATFORMS[architecture], "--no-deps",
    ]  # fmt: skip
    _install([*target, "--only-binary", ":all:", "-r", str(requirements)], "the requirements", root)
    _install([*target, *WORKSPACE_PACKAGES], "the workspace packages", root)
    _prune(out)
    shutil.copytree(artifact, out / MODEL_DIR)
    task = TaskRoot(out, architecture, python, kept, dropped)
    forbidden = [name for name in task.distributions() if FORBIDDEN.match(name)]
    if forbidden:
        raise JobFailedError(f"the task root holds {', '.join(forbidden)}")
    return task
