"""Configuration comes only from env vars and every problem is named at once."""

from __future__ import annotations

import pytest

from cloud_handler.settings import ConfigError, load_settings

BASE = {
    "ROLLCALL_RESULTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:rollcall-results",
    "ROLLCALL_TABLE": "students",
    "ROLLCALL_IDEMPOTENCY_TABLE": "idem",
}


def test_defaults_and_detection_only() -> None:
    settings = load_settings(BASE)
    assert settings.max_object_bytes == 50 * 1024 * 1024
    assert settings.sample_frames == 3
    assert settings.detect_max_side == 640
    assert settings.record_cache_ttl_s == 60
    assert settings.video_sample_frames == 8
    assert (settings.aws_max_attempts, settings.aws_retry_mode) == (4, "standard")
    assert settings.detection_only
    assert settings.endpoint_url is None


def test_missing_required_variables_are_all_named() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"ROLLCALL_TABLE": "students"})
    message = str(info.value)
    assert "ROLLCALL_RESULTS_TOPIC_ARN is not set" in message
    assert "ROLLCALL_IDEMPOTENCY_TABLE is not set" in message
    assert "ROLLCALL_TABLE" not in message.replace("ROLLCALL_TABLE=", "")


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ROLLCALL_SAMPLE_FRAMES", "three", "is not an integer"),
        ("ROLLCALL_SAMPLE_FRAMES", "0", "must lie between 1 and 64"),
        ("ROLLCALL_MAX_OBJECT_BYTES", "-5", "must lie between"),
        ("ROLLCALL_RECORD_CACHE_TTL_S", "soon", "is not a number"),
        ("ROLLCALL_MODEL_S3_URI", "https://bucket/model", "must start with s3://"),
        ("ROLLCALL_RESULTS_TOPIC_ARN", "https://sqs/queue", "is not an SNS topic ARN"),
        ("ROLLCALL_AWS_RETRY_MODE", "legacy", "must be one of standard, adaptive"),
        ("ROLLCALL_VIDEO_SAMPLE_FRAMES", "65", "must lie between 1 and 64"),
    ],
)
def test_malformed_values_are_named(name: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as info:
        load_settings({**BASE, name: value})
    assert name in str(info.value)


def test_model_sources_are_exclusive_and_parsed() -> None:
    with pytest.raises(ConfigError, match="only one of"):
        load_settings({**BASE, "ROLLCALL_MODEL_DIR": "/m", "ROLLCALL_MODEL_S3_URI": "s3://b/m"})
    settings = load_settings(
        {**BASE, "ROLLCALL_MODEL_DIR": "/opt/model", "ROLLCALL_SAMPLE_FRAMES": "5"}
    )
    assert not settings.detection_only
    assert settings.model_dir == "/opt/model"
    assert settings.sample_frames == 5
