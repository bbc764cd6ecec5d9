"""The artifact from an S3 URI: copied once per container, unsafe or empty prefixes refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud_handler.aws import Clients
from cloud_handler.model import download_artifact
from cloud_handler.settings import ConfigError
from rollcall_tools.testkit.handler_stack import Stack, upload_dir


def test_download_artifact_copies_every_file(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "artifact"
    (source / "sub").mkdir(parents=True)
    (source / "manifest.json").write_text('{"name": "x"}')
    (source / "sub" / "gallery.npz").write_bytes(bytes(range(256)) * 10)
    uri = upload_dir(stack, source, "models/v1")
    monkeypatch.setenv("ROLLCALL_MODEL_CACHE", str(tmp_path / "cache"))
    s3 = Clients.create(endpoint_url=stack.endpoint, region="us-east-1").s3
    target = download_artifact(s3, uri + "/")
    assert (target / "manifest.json").read_text() == '{"name": "x"}'
    assert (target / "sub" / "gallery.npz").read_bytes() == bytes(range(256)) * 10
    with pytest.raises(ConfigError, match="no objects under that prefix"):
        download_artifact(s3, f"s3://{stack.bucket}/models/none")
