"""The artifact from an S3 URI: copied once per container, unsafe or empty prefixes refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud_handler.aws import client, session
from cloud_handler.errors import ConfigError
from cloud_handler.model import download_artifact
from rollcall_testkit.handler_stack import Stack, upload_dir


def test_download_artifact_copies_every_file(stack: Stack, tmp_path: Path) -> None:
    source = tmp_path / "artifact"
    (source / "sub").mkdir(parents=True)
    (source / "manifest.json").write_text('{"name": "x"}')
    (source / "sub" / "gallery.npz").write_bytes(bytes(range(256)) * 10)
    uri = upload_dir(stack, source, "models/v1")
    s3 = client(session("us-east-1"), "s3", endpoint_url=stack.endpoint)
    target = download_artifact(s3, uri + "/", tmp_path / "cache")
    assert target.is_relative_to(tmp_path / "cache")
    assert (target / "manifest.json").read_text() == '{"name": "x"}'
    assert (target / "sub" / "gallery.npz").read_bytes() == bytes(range(256)) * 10
    with pytest.raises(ConfigError, match="no objects under that prefix"):
        download_artifact(s3, f"s3://{stack.bucket}/models/none", tmp_path / "cache")


def test_a_key_leaving_the_directory_is_refused(stack: Stack, tmp_path: Path) -> None:
    stack.s3.put_object(Bucket=stack.bucket, Key="models/v2/../../escape.onnx", Body=b"x")
    s3 = client(session("us-east-1"), "s3", endpoint_url=stack.endpoint)
    with pytest.raises(ConfigError, match="unsafe key"):
        download_artifact(s3, f"s3://{stack.bucket}/models/v2", tmp_path / "cache")
    assert not (tmp_path / "escape.onnx").exists()


def test_a_manifest_that_does_not_fit_a_result_is_a_configuration_error() -> None:
    """The names a result carries are checked once, at init: an artifact whose name (or an
    enrolled person's) the schema cannot hold stops the container rather than failing
    every clip that shows that person."""
    from types import SimpleNamespace

    from cloud_handler.model import _info

    fields = {"version": "1", "backbone": "none", "pretrained": True, "people": ["ada"]}
    recognizer = SimpleNamespace(name="n" * 200, **fields)
    with pytest.raises(ConfigError, match=r"model artifact '/opt/model': its name 'n+' does"):
        _info(recognizer, "/opt/model")  # type: ignore[arg-type]
    recognizer = SimpleNamespace(name="m", **{**fields, "people": ["ada", "bob\x07"]})
    with pytest.raises(ConfigError, match=r"its person 'bob\\x07' does not fit a result"):
        _info(recognizer, "/opt/model")  # type: ignore[arg-type]
    assert _info(SimpleNamespace(name="m", **fields), "/opt/model").name == "m"  # type: ignore[arg-type]
