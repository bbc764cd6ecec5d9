"""Workspace-wide test setup: a private cache for face-model's converted networks."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def _private_model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Build the ONNX networks once per session into a temporary cache (subprocesses
    inherit it), never into the user's ~/.cache."""
    saved = os.environ.get("ROLLCALL_MODEL_CACHE")
    os.environ["ROLLCALL_MODEL_CACHE"] = str(tmp_path_factory.mktemp("model-cache"))
    yield
    if saved is None:
        os.environ.pop("ROLLCALL_MODEL_CACHE", None)
    else:
        os.environ["ROLLCALL_MODEL_CACHE"] = saved
