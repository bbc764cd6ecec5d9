"""What a deploy should produce beyond names: retention, Lambda sizing, local mode, model."""

from __future__ import annotations

from dataclasses import dataclass, field

from rollcall_tools.errors import ConfigError

DEFAULT_RETENTION_DAYS = 7
DEFAULT_TIMEOUT_S = 30
DEFAULT_MEMORY_MB = 1024
DEFAULT_IMAGE_TAG = "latest"
DEFAULT_LOG_RETENTION_DAYS = 14
QUEUE_MAX_RECEIVES = 5
"""Deliveries before a message moves to its dead-letter queue (poison clips stop looping)."""


@dataclass(frozen=True)
class StackSettings:
    """Deploy-time settings of a stack."""

    local: bool = False
    """Local (moto) stack: the bucket notifies the events queue; no Lambda, role or image."""
    clip_retention_days: int = DEFAULT_RETENTION_DAYS
    timeout_s: int = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB
    image_tag: str = DEFAULT_IMAGE_TAG
    model_s3_uri: str | None = None
    """The recognizer artifact in S3 (overrides the one baked into the image)."""
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= self.clip_retention_days <= 3650:
            raise ConfigError(f"--retention-days must be 1..3650, got {self.clip_retention_days}")
        if not 1 <= self.timeout_s <= 900:
            raise ConfigError(f"--timeout must be 1..900 s (Lambda's limit), got {self.timeout_s}")
        if not 128 <= self.memory_mb <= 10240:
            raise ConfigError(f"--memory must be 128..10240 MB, got {self.memory_mb}")
        if self.model_s3_uri is not None and not self.model_s3_uri.startswith("s3://"):
            raise ConfigError(f"--model-s3-uri must start with s3://, got {self.model_s3_uri!r}")
