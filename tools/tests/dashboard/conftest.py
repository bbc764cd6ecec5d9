"""Fixtures of the dashboard's tests: a deployed stack on the session's moto server, the app
over it, following the results topic through its own queue as `tools dashboard` does."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator

import pytest
from starlette.testclient import TestClient

from rollcall_tools.aws import AwsTarget
from rollcall_tools.dashboard.app import create_app
from rollcall_tools.dashboard.feed import LiveFeed, Subscriber, dashboard_queue_name
from rollcall_tools.dashboard.security import Access
from rollcall_tools.dashboard.views import Dashboard
from rollcall_tools.stack.deploy import Stack
from rollcall_tools.stack.settings import StackSettings

REGION = "eu-west-1"
ORIGIN = "http://127.0.0.1:8765"
_counter = itertools.count()


@pytest.fixture(scope="module")
def stack(moto_endpoint: str) -> Stack:
    """A deployed stack (local flavour) no other test module uses, with device cam1."""
    target = AwsTarget(region=REGION, endpoint_url=moto_endpoint)
    deployed = Stack.resolve(target, f"dash{next(_counter)}", StackSettings(local=True))
    deployed.deploy()
    deployed.devices.add(["cam1"])
    return deployed


@pytest.fixture(scope="module")
def following(stack: Stack) -> Iterator[Dashboard]:
    """The dashboard's state, its queue subscribed and followed (deleted afterwards)."""
    feed = LiveFeed()
    subscriber = Subscriber(stack, feed, dashboard_queue_name(stack), poll_s=1)
    subscriber.start()
    try:
        yield Dashboard(stack, feed, Access.for_host("127.0.0.1"), queue=subscriber.queue)
    finally:
        subscriber.stop()


@pytest.fixture
def client(following: Dashboard) -> Iterator[TestClient]:
    """The app as a browser on this machine reaches it (loopback, no token)."""
    with TestClient(create_app(following), base_url=ORIGIN, follow_redirects=False) as c:
        yield c


def wait_for(check: Callable[[], bool], timeout_s: float = 20) -> None:
    """Poll ``check`` (a real queue delivers when it does) until true or ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
