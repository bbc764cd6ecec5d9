"""What a deploy should produce beyond names: retention, Lambda sizing, the event source
mapping (or the local runner standing in for it), local mode, model."""

from __future__ import annotations

from dataclasses import dataclass, field

from rollcall_tools.errors import ConfigError

DEFAULT_RETENTION_DAYS = 7
DEFAULT_TIMEOUT_S = 30
DEFAULT_MEMORY_MB = 1024
DEFAULT_IMAGE_TAG = "latest"
DEFAULT_LOG_RETENTION_DAYS = 14
DEFAULT_UNKNOWN_RETENTION_DAYS = 14
"""How long the face store keeps unknown faces (0: none is kept)."""
QUEUE_MAX_RECEIVES = 5
"""Deliveries before a message moves to its dead-letter queue (poison clips stop looping)."""
DEFAULT_BATCH_SIZE = 5
DEFAULT_BATCHING_WINDOW_S = 0
DEFAULT_MAX_CONCURRENCY = 10
VISIBILITY_PER_TIMEOUT = 6
"""The events queue hides a received message for 6x the function timeout (plus the batching
window), as AWS advises for an SQS event source: a slow batch is never delivered twice."""


@dataclass(frozen=True)
class StackSettings:
    """Deploy-time settings of a stack."""

    local: bool = False
    """Local (moto) stack: no Lambda, role, image or event source mapping; the local runner
    (``cloud-handler serve``) consumes the events queue instead."""
    clip_retention_days: int = DEFAULT_RETENTION_DAYS
    timeout_s: int = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB
    image_tag: str = DEFAULT_IMAGE_TAG
    model_s3_uri: str | None = None
    """The recognizer artifact in S3 (overrides the one baked into the image)."""
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    extra_env: dict[str, str] = field(default_factory=dict)
    batch_size: int = DEFAULT_BATCH_SIZE
    """Events per invocation (the mapping's BatchSize; the local runner's --batch-size)."""
    batching_window_s: int = DEFAULT_BATCHING_WINDOW_S
    """Seconds the mapping may wait to fill a batch (0: invoke as soon as events arrive)."""
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    """Concurrent invocations the mapping may start (the local runner's --workers stand in)."""
    max_receives: int = QUEUE_MAX_RECEIVES
    """Receives of an event before the events queue dead-letters it."""
    unknown_retention_days: int = DEFAULT_UNKNOWN_RETENTION_DAYS
    """Days the face store keeps unknown faces (S3 lifecycle, DynamoDB TTL; 0: none kept)."""

    @property
    def events_visibility_s(self) -> int:
        """The events queue's visibility timeout: 6x the function timeout + batching window."""
        return VISIBILITY_PER_TIMEOUT * self.timeout_s + self.batching_window_s

    def __post_init__(self) -> None:
        if not 1 <= self.clip_retention_days <= 3650:
            raise ConfigError(f"--retention-days must be 1..3650, got {self.clip_retention_days}")
        if not 0 <= self.unknown_retention_days <= 3650:
            raise ConfigError(
                f"--unknown-retention-days must be 0..3650, got {self.unknown_retention_days}"
            )
        if not 1 <= self.timeout_s <= 900:
            raise ConfigError(f"--timeout must be 1..900 s (Lambda's limit), got {self.timeout_s}")
        if not 128 <= self.memory_mb <= 10240:
            raise ConfigError(f"--memory must be 128..10240 MB, got {self.memory_mb}")
        if not 1 <= self.batch_size <= 10_000:
            raise ConfigError(f"--batch-size must be 1..10000, got {self.batch_size}")
        if not 0 <= self.batching_window_s <= 300:
            raise ConfigError(f"--batching-window must be 0..300 s, got {self.batching_window_s}")
        if self.batch_size > 10 and self.batching_window_s < 1:
            raise ConfigError(
                f"--batch-size {self.batch_size} needs --batching-window of 1 s or more "
                "(Lambda allows batches over 10 SQS messages only with a batching window)"
            )
        if not 2 <= self.max_concurrency <= 1000:
            raise ConfigError(f"--max-concurrency must be 2..1000, got {self.max_concurrency}")
        if not 1 <= self.max_receives <= 1000:
            raise ConfigError(f"--max-receives must be 1..1000, got {self.max_receives}")
        if self.model_s3_uri is not None and not self.model_s3_uri.startswith("s3://"):
            raise ConfigError(f"--model-s3-uri must start with s3://, got {self.model_s3_uri!r}")
