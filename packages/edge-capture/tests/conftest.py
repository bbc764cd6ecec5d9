"""Fixtures of edge-capture's tests, on the workspace test kit: the session's one local AWS
(``moto_endpoint``: moto in server mode, its own process) and, for outages, the reliability
suite's TCP relay in front of it. Helpers live in edge_testkit.py."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(
    0, str(Path(__file__).parent)
)  # --import-mode=importlib: make edge_testkit importable

from edge_testkit import REGION, Stack, aws_client

from rollcall_tools.local.moto import free_port
from rollcall_tools.reliability.relay import Relay


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials for moto, never a real profile; no ROLLCALL_* setting leaks in."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in list(os.environ):
        if name.startswith("ROLLCALL_") and not name.startswith("ROLLCALL_SHARED"):
            monkeypatch.delenv(name)


def _stack(moto_url: str, edge_url: str, relay: Relay | None = None) -> Stack:
    suffix = uuid.uuid4().hex[:10]
    s3, sqs = aws_client(moto_url, "s3"), aws_client(moto_url, "sqs")
    bucket, queue = f"clips-{suffix}", f"results-{suffix}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    url = sqs.create_queue(QueueName=queue, Attributes={"VisibilityTimeout": "2"})["QueueUrl"]
    return Stack(moto_url, edge_url, bucket, queue, url, s3, sqs, relay)


@pytest.fixture
def stack(moto_endpoint: str) -> Stack:
    """This test's bucket (versioned) and results queue on the session's moto server."""
    return _stack(moto_endpoint, moto_endpoint)


@pytest.fixture
def outage_stack(moto_endpoint: str) -> Iterator[Stack]:
    """A stack the edge reaches through a relay that can go down (``stack.down()``: the port
    refuses connections, open ones are reset) and come back on the same port with everything
    as it was (moto keeps its state in its own process)."""
    moto_port = int(moto_endpoint.rsplit(":", 1)[1])
    relay = Relay(moto_port, free_port())
    relay.open()
    try:
        yield _stack(moto_endpoint, relay.url, relay)
    finally:
        relay.close()
