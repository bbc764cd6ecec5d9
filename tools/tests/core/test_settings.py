"""tools' settings: the shared names of CONTRIBUTING.md, read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rollcall_tools.settings import Settings, load_settings


@pytest.fixture(autouse=True)
def _no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in os.environ if k.startswith(("ROLLCALL_", "AWS_"))]:
        monkeypatch.delenv(name)


def test_defaults_without_any_variable() -> None:
    assert load_settings() == Settings(
        region="us-east-1", stack="rollcall", state_dir=Path(".rollcall")
    )


def test_the_shared_names_are_read_and_empty_ones_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    assert load_settings().region == "eu-west-3"
    for name, value in {
        "AWS_REGION": "eu-west-1",  # before AWS_DEFAULT_REGION, as botocore reads them
        "AWS_PROFILE": "ops",
        "ROLLCALL_ENDPOINT_URL": "",  # empty: not set
        "ROLLCALL_STACK": "lab",
        "ROLLCALL_MODEL_DIR": "/models/v1",
        "ROLLCALL_WEIGHTS": "w.ckpt",
    }.items():
        monkeypatch.setenv(name, value)
    got = load_settings()
    assert (got.region, got.profile, got.endpoint_url, got.stack) == (
        "eu-west-1",
        "ops",
        None,
        "lab",
    )
    assert (got.model_dir, got.weights) == (Path("/models/v1"), Path("w.ckpt"))


def test_what_is_not_a_deployment_setting_is_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLCALL_WORKERS", "not a number")
    monkeypatch.setenv("ROLLCALL_JSON", "1")
    assert load_settings() == Settings()
