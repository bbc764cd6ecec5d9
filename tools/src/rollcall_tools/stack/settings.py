"""What a deploy should produce beyond names: retention, Lambda sizing, the event source
mapping (or the local runner standing in for it), local mode, model."""

from __future__ import annotations

from dataclasses import dataclass, field

from rollcall_tools.errors import ConfigError
from rollcall_tools.stack.buckets import OUTPUT_FORMATS, OutputFormat

DEFAULT_RETENTION_DAYS = 7
DEFAULT_SIGHTINGS_RETENTION_DAYS = 180
DEFAULT_TIMEOUT_S = 30
DEFAULT_MEMORY_MB = 1024
"""Lambda memory. Sized from ``tools bench``'s peak RSS of a fresh ``cloud-handler invoke``
(about 330 MB for a 1080p clip, 390 MB for five 2 s 1080p60 videos, 570 MB for five videos
of the largest accepted frames, 4096x2304) plus one object's bytes (at most 50 MiB): at
least 1.6x headroom. tests/test_memory.py holds the handler to it."""
DEFAULT_IMAGE_TAG = "latest"
DEFAULT_LOG_RETENTION_DAYS = 14
DEFAULT_UNKNOWN_RETENTION_DAYS = 14
"""How long the face store keeps unknown faces (0: none is kept)."""
QUEUE_MAX_RECEIVES = 5
"""Deliveries before a message moves to its dead-letter queue (poison clips stop looping)."""
DEFAULT_BATCH_SIZE = 5
DEFAULT_BATCHING_WINDOW_S = 0
DEFAULT_MAX_CONCURRENCY = 10
LAMBDA_ARCHITECTURES = ("x86_64", "arm64")
"""What Lambda runs (``tools build-image --architecture`` builds the image for one)."""
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
    sightings_retention_days: int = DEFAULT_SIGHTINGS_RETENTION_DAYS
    """Days a sighting (attendance) is kept after its clip's start: the table's TTL."""
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
    architecture: str = LAMBDA_ARCHITECTURES[0]
    """The function's instruction set: x86_64 or arm64, as the image was built."""
    output_format: OutputFormat = "course"
    """What the output bucket (when the stack has one) receives per answered object."""
    unknown_retention_days: int = DEFAULT_UNKNOWN_RETENTION_DAYS
    """Days the face store keeps unknown faces (S3 lifecycle, DynamoDB TTL; 0: none kept)."""

    @property
    def events_visibility_s(self) -> int:
        """The events queue's visibility timeout: 6x the function timeout + batching window."""
        return VISIBILITY_PER_TIMEOUT * self.timeout_s + self.batching_window_s

    def __post_init__(self) -> None:
        ranges = (
            ("--retention-days", self.clip_retention_days, 1, 3650, ""),
            ("--sightings-retention-days", self.sightings_retention_days, 1, 3650, ""),
            ("--unknown-retention-days", self.unknown_retention_days, 0, 3650, ""),
            ("--timeout", self.timeout_s, 1, 900, " s (Lambda's limit)"),
            ("--memory", self.memory_mb, 128, 10240, " MB"),
            ("--batch-size", self.batch_size, 1, 10_000, ""),
            ("--batching-window", self.batching_window_s, 0, 300, " s"),
        )
        for option, value, low, high, unit in ranges:
            if not low <= value <= high:
                raise ConfigError(f"{option} must be {low}..{high}{unit}, got {value}")
        if self.batch_size > 10 and self.batching_window_s < 1:
            raise ConfigError(
                f"--batch-size {self.batch_size} needs --batching-window of 1 s or more "
                "(Lambda allows batches over 10 SQS messages only with a batching window)"
            )
        if not 2 <= self.max_concurrency <= 1000:
            raise ConfigError(f"--max-concurrency must be 2..1000, got {self.max_concurrency}")
        if not 1 <= self.max_receives <= 1000:
            raise ConfigError(f"--max-receives must be 1..1000, got {self.max_receives}")
        if self.architecture not in LAMBDA_ARCHITECTURES:
            raise ConfigError(f"--architecture must be x86_64 or arm64, not {self.architecture!r}")
        if self.output_format not in OUTPUT_FORMATS:
            raise ConfigError(f"--output-format must be course or json, got {self.output_format!r}")
        if self.model_s3_uri is not None and not self.model_s3_uri.startswith("s3://"):
            raise ConfigError(f"--model-s3-uri must start with s3://, got {self.model_s3_uri!r}")
