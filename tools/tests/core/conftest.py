"""Fixtures for the stack, seed and CLI tests: one moto server (server mode) per session."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rollcall_tools.aws import AwsTarget
from rollcall_tools.cli import app
from rollcall_tools.stack.deploy import Stack
from rollcall_tools.stack.settings import StackSettings

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: deploy_kit

REGION = "eu-west-1"
_counter = itertools.count()
Ran = tuple[int, str, str]
"""Exit code, stdout, stderr."""


@pytest.fixture(scope="session")
def moto_url(moto_endpoint: str) -> str:
    """The session's local AWS (see the workspace conftest)."""
    return moto_endpoint


@pytest.fixture
def target(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> AwsTarget:
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    return AwsTarget(region=REGION, endpoint_url=moto_url)


@pytest.fixture
def prefix() -> str:
    """A stack name no other test uses (tests share one moto server)."""
    return f"t{next(_counter)}x"


@pytest.fixture
def deploy(target: AwsTarget, prefix: str) -> Callable[..., Stack]:
    """Deploys this test's stack, local flavour, with the given ``StackSettings`` fields."""

    def deployed(**settings: Any) -> Stack:
        stack = Stack.resolve(target, prefix, StackSettings(local=True, **settings))
        stack.deploy()
        return stack

    return deployed


@pytest.fixture
def stack(deploy: Callable[..., Stack]) -> Stack:
    """This test's stack, deployed (local flavour, default settings)."""
    return deploy()


@pytest.fixture
def tools(moto_url: str, prefix: str) -> Callable[..., Ran]:
    """Runs ``tools ARGS`` (in this process) on this test's stack: the moto server, the
    region above, the test's prefix unless ``stack`` names another."""

    def run(
        *args: str,
        stdin: str | None = None,
        stack: str | None = None,
        env: dict[str, str] | None = None,
    ) -> Ran:
        where = ["--endpoint-url", moto_url, "--region", REGION, "--stack", stack or prefix]
        environ = {"COLUMNS": "200", **(env or {})}
        got = CliRunner().invoke(app, [*args, *where], input=stdin, env=environ)
        return got.exit_code, got.stdout, got.stderr

    return run
