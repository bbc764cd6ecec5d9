"""Run code in subprocesses where some packages cannot be imported (as if not installed)."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterable
from pathlib import Path

SERVING_NEVER_IMPORTS = ("torch", "torchvision", "triton")
"""What no serving process (handler, runner, demo) may import."""

_SITECUSTOMIZE = """
import importlib.abc, importlib.machinery, sys

BLOCKED = {blocked!r}


class _Absent(importlib.abc.Loader):
    def create_module(self, spec):
        raise ModuleNotFoundError(f"{{spec.name}} is blocked in this test", name=spec.name)

    def exec_module(self, module):
        raise AssertionError("unreachable")


class _Block(importlib.abc.MetaPathFinder):
    # a spec without origin: find_spec probes see "no file", imports fail as if absent
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            return importlib.machinery.ModuleSpec(name, _Absent(), origin=None)
        return None


sys.meta_path.insert(0, _Block())
"""


def blocking_env(
    directory: Path, modules: Iterable[str], env: dict[str, str] | None = None
) -> dict[str, str]:
    """An environment whose Python processes (and their children) cannot import ``modules``:
    a ``sitecustomize`` in ``directory``, put first on ``PYTHONPATH``."""
    directory.mkdir(parents=True, exist_ok=True)
    blocked = sorted({m.replace("-", "_") for m in modules})
    (directory / "sitecustomize.py").write_text(
        textwrap.dedent(_SITECUSTOMIZE).format(blocked=blocked)
    )
    base = dict(os.environ if env is None else env)
    path = [str(directory), *filter(None, base.get("PYTHONPATH", "").split(os.pathsep))]
    return {**base, "PYTHONPATH": os.pathsep.join(path)}
