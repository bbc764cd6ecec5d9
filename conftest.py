"""Workspace-wide test set-up: a private cache for face-model's converted networks, and one
local AWS (moto in server mode, rollcall's one launcher) for the whole session."""

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


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real AWS endpoint on 127.0.0.1 (moto in server mode, its own process) shared by the
    session's tests; each test makes uniquely named resources. Imported here, so that a
    package whose tests need no AWS (shared-schema) is testable without rollcall-tools."""
    from rollcall_tools.local.moto import local_aws

    with local_aws() as url:
        yield url
