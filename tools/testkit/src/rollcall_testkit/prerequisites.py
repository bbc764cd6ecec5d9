"""What a test needs beyond the repository: real data in ../shared, torch.

Missing prerequisites skip the test with a reason on a developer's machine; under
``CI=true`` they fail it, so CI can never go green by skipping everything.
"""

from __future__ import annotations

import os
import unittest
from pathlib import Path
from types import ModuleType
from typing import NoReturn

SHARED_DATA = "ROLLCALL_SHARED_DATA"
SHARED_MODELS = "ROLLCALL_SHARED_MODELS"


class PrerequisiteMissingError(AssertionError):
    """A test's prerequisite is missing where it must not be (CI)."""


def in_ci() -> bool:
    """True when the ``CI`` environment variable says so."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def unavailable(reason: str) -> NoReturn:
    """Skip the calling test (``unittest.SkipTest``, which pytest reports as a skip), or
    fail it under CI."""
    if in_ci():
        raise PrerequisiteMissingError(f"{reason} (CI=true: this prerequisite is required)")
    raise unittest.SkipTest(reason)


def _shared(var: str, parts: tuple[str, ...]) -> Path:
    root = os.environ.get(var, "").strip()
    if not root:
        unavailable(f"{var} is not set: this test needs ../shared ({'/'.join(parts) or '.'})")
    path = Path(root, *parts)
    if not path.exists():
        unavailable(f"{path} does not exist ({var}={root})")
    return path


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data (``ROLLCALL_SHARED_DATA``), or skip/fail."""
    return _shared(SHARED_DATA, parts)


def shared_models(*parts: str) -> Path:
    """A path under ../shared/models (``ROLLCALL_SHARED_MODELS``), or skip/fail."""
    return _shared(SHARED_MODELS, parts)


def require_torch() -> ModuleType:
    """torch (the ``train`` group), or skip/fail: training and parity tests need it."""
    try:
        import torch
    except ImportError:
        unavailable("torch is not installed: run the tests with `uv run --group train pytest`")
    torch.set_num_threads(1)  # the suite shares 2 cores: oversubscribed OpenMP threads spin
    return torch
