"""Fixtures for the stack, seed and CLI tests: one moto server (server mode) per session."""

from __future__ import annotations

import itertools

import pytest

from rollcall_tools.aws import AwsTarget

REGION = "eu-west-1"
_counter = itertools.count()


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
