"""The handler's settings: a deployment's variables only, every problem named at once."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from cloud_handler.errors import ConfigError
from cloud_handler.settings import ENV_PREFIX, Settings, load_settings

BASE = {
    "ROLLCALL_RESULTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:rollcall-results",
    "ROLLCALL_TABLE": "students",
    "ROLLCALL_IDEMPOTENCY_TABLE": "idem",
}
README = Path(__file__).parents[1] / "README.md"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only BASE: nothing from the machine's environment."""
    for name in os.environ:
        if name.startswith((ENV_PREFIX, "AWS_")):
            monkeypatch.delenv(name)
    for name, value in BASE.items():
        monkeypatch.setenv(name, value)


def test_defaults_and_detection_only() -> None:
    settings = load_settings()
    assert settings.max_object_bytes == 50 * 1024 * 1024
    assert settings.max_frame_pixels == 4096 * 2304
    assert settings.min_face_size == 40
    assert settings.coarse_detection == "videos"
    assert settings.threads is None
    assert settings.region == "us-east-1"
    assert settings.detection_only
    assert settings.endpoint_url is None


def test_every_missing_and_malformed_variable_is_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ROLLCALL_RESULTS_TOPIC_ARN")
    monkeypatch.setenv("ROLLCALL_IDEMPOTENCY_TABLE", "")  # empty counts as unset
    monkeypatch.setenv("ROLLCALL_THREADS", "many")
    monkeypatch.setenv("ROLLCALL_MIN_FACE_SIZE", "4")
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert "\n" not in message
    assert message == (
        "cloud-handler configuration: ROLLCALL_RESULTS_TOPIC_ARN is not set; "
        "ROLLCALL_IDEMPOTENCY_TABLE is not set; ROLLCALL_THREADS='many' is not an integer; "
        "ROLLCALL_MIN_FACE_SIZE='4' must be at least 12"
    )


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ROLLCALL_MAX_OBJECT_BYTES", "-5", "must be at least 1"),
        ("ROLLCALL_THREADS", "1000", "must be at most 256"),
        ("ROLLCALL_MAX_FRAME_PIXELS", "big", "is not an integer"),
        ("ROLLCALL_MODEL_S3_URI", "https://bucket/model", "must start with s3://"),
        ("ROLLCALL_RESULTS_TOPIC_ARN", "https://sqs/queue", "is not an SNS topic ARN"),
        ("ROLLCALL_TABLE", "   ", "is empty"),
    ],
)
def test_malformed_values_are_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=re.escape(f"{name}={value!r} {expected}")):
        load_settings()


def test_model_sources_are_exclusive_and_reported_with_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ROLLCALL_MODEL_DIR", "/m")
    monkeypatch.setenv("ROLLCALL_MODEL_S3_URI", "s3://b/m")
    monkeypatch.setenv("ROLLCALL_THREADS", "0")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "set only one of ROLLCALL_MODEL_DIR and ROLLCALL_MODEL_S3_URI" in str(info.value)
    assert "ROLLCALL_THREADS='0' must be at least 1" in str(info.value)


def test_an_empty_model_dir_switches_the_image_artifact_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What `tools deploy` sets to serve an S3 artifact instead of the image's."""
    monkeypatch.setenv("ROLLCALL_MODEL_DIR", "")
    monkeypatch.setenv("ROLLCALL_MODEL_S3_URI", "s3://models/v1")
    settings = load_settings()
    assert settings.model_dir is None and settings.model_s3_uri == "s3://models/v1"
    assert not settings.detection_only


def test_region_and_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    assert load_settings().region == "eu-west-3"
    monkeypatch.setenv("AWS_REGION", "eu-central-1")  # Lambda sets both; AWS_REGION wins
    monkeypatch.setenv("ROLLCALL_ENDPOINT_URL", "http://127.0.0.1:5000")
    settings = load_settings()
    assert (settings.region, settings.endpoint_url) == ("eu-central-1", "http://127.0.0.1:5000")


def test_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLCALL_MAX_OBJECT_BYTES", "10")
    assert load_settings(max_object_bytes=20).max_object_bytes == 20


def test_the_readme_documents_exactly_these_variables() -> None:
    """The README's configuration table lists every setting, and nothing else."""
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)`", section, re.MULTILINE))
    names = {
        "AWS_REGION" if field == "region" else f"{ENV_PREFIX}{field.upper()}"
        for field in Settings.model_fields
    }
    assert documented == names
