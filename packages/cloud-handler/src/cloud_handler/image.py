"""Requirements for the Lambda container image: the handler's locked set, torch on CPU wheels.

``uv export`` writes the locked requirements of ``cloud-handler`` (no dev groups, no
workspace members). The lock holds the CUDA build of torch and its ``nvidia-*``,
``cuda-*`` and ``triton`` companions; here they are dropped, and torch/torchvision
move to a second file installed ``--no-deps`` from the PyTorch CPU wheel index at the
very versions the lock pins (their CPU dependencies are already in the first file).
Packages only the training/export side of face-model uses (matplotlib, onnx) are
left out too; ``tests/test_image.py`` proves the handler runs without them.

Used by the Dockerfile's build context preparation and by ``tools build-image``::

    from cloud_handler.image import write_image_requirements
    report = write_image_requirements("build/requirements.txt")
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
CPU_PACKAGES = ("torch", "torchvision")
_GPU = re.compile(r"^(nvidia-[a-z0-9-]+|cuda-[a-z0-9-]+|triton)$")
NOT_FOR_INFERENCE = frozenset(
    {
        "matplotlib",
        "contourpy",
        "cycler",
        "fonttools",
        "kiwisolver",
        "pyparsing",
        "onnx",
        "ml-dtypes",
    }
)
"""face-model's plotting and ONNX-export dependencies; inference never imports them."""
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;]+)")


class ImageRequirementsError(RuntimeError):
    """``uv export`` failed or its output is not what the image needs."""


@dataclass
class ImageRequirements:
    """The two requirement files' content and what was changed."""

    locked: list[str]
    cpu: list[str]
    dropped: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        """Number of pinned packages installed in the image."""
        return len(self.locked) + len(self.cpu)

    @property
    def cpu_packages(self) -> list[str]:
        """The packages taken from the CPU index, with versions."""
        return [line.split(" ")[0] for line in self.cpu]


def workspace_root(start: Path | None = None) -> Path:
    """The uv workspace root above ``start`` (default: this package's source)."""
    here = (start or Path(__file__)).resolve()
    for parent in [here, *here.parents]:
        if (parent / "uv.lock").is_file():
            return parent
    raise ImageRequirementsError(f"no uv.lock above {here}: not inside the rollcall workspace")


def export_locked(workspace: Path | None = None) -> str:
    """``uv export`` of cloud-handler's locked, non-dev requirements (no hashes)."""
    root = workspace or workspace_root()
    uv = shutil.which("uv")
    if uv is None:
        raise ImageRequirementsError("uv is not on PATH (https://docs.astral.sh/uv/)")
    command = [
        uv, "export", "--package", "cloud-handler", "--frozen", "--no-dev", "--no-hashes",
        "--no-emit-workspace", "--no-header", "--no-annotate",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ImageRequirementsError(f"uv export failed in {root}: {done.stderr.strip()}")
    return done.stdout


def filter_requirements(exported: str) -> ImageRequirements:
    """Split ``exported`` into PyPI lines and CPU-index lines; drop GPU and unused packages."""
    locked: list[str] = []
    cpu: list[str] = []
    dropped: list[str] = []
    for raw in exported.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-e", "./", "../", "file:", "--")):
            dropped.append(line)  # workspace members are installed from source
            continue
        match = _NAME.match(line)
        if match is None:
            raise ImageRequirementsError(f"unexpected line in uv export output: {line!r}")
        name = match.group(1).lower().replace("_", "-")
        if _GPU.match(name) or name in NOT_FOR_INFERENCE:
            dropped.append(line)
        elif name in CPU_PACKAGES:
            cpu.append(f"{name}=={match.group(2).split('+')[0]}")
        else:
            locked.append(line)
    missing = set(CPU_PACKAGES) - {line.split("==")[0] for line in cpu}
    if missing:
        raise ImageRequirementsError(f"the lock does not pin {sorted(missing)}")
    return ImageRequirements(locked=locked, cpu=cpu, dropped=dropped)


def write_image_requirements(
    out: str | Path, *, workspace: Path | None = None
) -> ImageRequirements:
    """Write ``out`` (PyPI, locked) and ``<out stem>-torch-cpu.txt`` next to it."""
    report = filter_requirements(export_locked(workspace))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(report.locked) + "\n")
    cpu_file = out.with_name(f"{out.stem}-torch-cpu.txt")
    cpu_file.write_text(f"--index-url {CPU_INDEX}\n" + "\n".join(report.cpu) + "\n")
    return report
