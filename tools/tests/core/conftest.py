"""Fixtures for the stack, seed and CLI tests: one moto server (server mode) per session."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

from rollcall_tools.aws import AwsTarget

REGION = "eu-west-1"
_counter = itertools.count()


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """A real HTTP endpoint on 127.0.0.1 (moto in server mode)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def target(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> AwsTarget:
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    return AwsTarget(region=REGION, endpoint_url=moto_url)


@pytest.fixture
def prefix() -> str:
    """A stack name no other test uses (tests share one moto server)."""
    return f"t{next(_counter)}x"
