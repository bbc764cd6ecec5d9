"""Handler configuration, read from environment variables only and validated up front."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

MIB = 1024 * 1024
RETRY_MODES = ("standard", "adaptive")
"""botocore retry modes the handler's clients may use (``ROLLCALL_AWS_RETRY_MODE``)."""


class ConfigError(ValueError):
    """The environment does not configure the handler; the message names every problem."""


@dataclass(frozen=True)
class Settings:
    """Everything the handler reads from its environment (see the package README)."""

    results_topic_arn: str
    table: str
    idempotency_table: str
    model_dir: str | None = None
    model_s3_uri: str | None = None
    endpoint_url: str | None = None
    region: str = "us-east-1"
    max_object_bytes: int = 50 * MIB
    sample_frames: int = 3
    """Frames sampled from a rollcall clip (a short clip of one moment)."""
    video_sample_frames: int = 8
    """Frames sampled over the full length of any other video (a whole upload)."""
    detect_max_side: int = 640
    record_cache_ttl_s: float = 60.0
    max_frame_pixels: int = 4096 * 2304
    max_decode_frames: int = 1800
    idempotency_ttl_s: int = 24 * 3600
    aws_max_attempts: int = 4
    aws_retry_mode: str = "standard"
    threads: int | None = None
    min_face_size: int = 40
    """Smallest face looked for (original pixels). Smaller faces are too blurred to name
    reliably, and MTCNN's cost grows with (12 / min_face_size)^2."""

    @property
    def detection_only(self) -> bool:
        """True when no model artifact is configured: faces are found, never identified."""
        return self.model_dir is None and self.model_s3_uri is None


_REQUIRED = {
    "ROLLCALL_RESULTS_TOPIC_ARN": "results_topic_arn",
    "ROLLCALL_TABLE": "table",
    "ROLLCALL_IDEMPOTENCY_TABLE": "idempotency_table",
}
# env var -> (field, type, minimum, maximum)
_NUMBERS: dict[str, tuple[str, type, float, float]] = {
    "ROLLCALL_MAX_OBJECT_BYTES": ("max_object_bytes", int, 1, 2**40),
    "ROLLCALL_SAMPLE_FRAMES": ("sample_frames", int, 1, 64),
    "ROLLCALL_VIDEO_SAMPLE_FRAMES": ("video_sample_frames", int, 1, 64),
    "ROLLCALL_DETECT_MAX_SIDE": ("detect_max_side", int, 32, 8192),
    "ROLLCALL_RECORD_CACHE_TTL_S": ("record_cache_ttl_s", float, 0, 86_400),
    "ROLLCALL_MAX_FRAME_PIXELS": ("max_frame_pixels", int, 1, 2**31),
    "ROLLCALL_MAX_DECODE_FRAMES": ("max_decode_frames", int, 1, 1_000_000),
    "ROLLCALL_IDEMPOTENCY_TTL_S": ("idempotency_ttl_s", int, 1, 30 * 86_400),
    "ROLLCALL_AWS_MAX_ATTEMPTS": ("aws_max_attempts", int, 1, 20),
    "ROLLCALL_THREADS": ("threads", int, 1, 256),
    "ROLLCALL_MIN_FACE_SIZE": ("min_face_size", int, 12, 4096),
}


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate :class:`Settings` from ``env`` (default: ``os.environ``).

    Raises:
        ConfigError: one or more variables are missing or malformed; all are named at once.
    """
    env = os.environ if env is None else env
    problems: list[str] = []
    values: dict[str, object] = {}
    for name, field in _REQUIRED.items():
        value = env.get(name, "").strip()
        if value:
            values[field] = value
        else:
            problems.append(f"{name} is not set")
    for name, (field, kind, low, high) in _NUMBERS.items():
        raw = env.get(name, "").strip()
        if not raw:
            continue
        try:
            number = kind(raw)
        except ValueError:
            problems.append(f"{name}={raw!r} is not a{'n integer' if kind is int else ' number'}")
            continue
        if not low <= number <= high:
            problems.append(f"{name}={raw!r} must lie between {low:g} and {high:g}")
            continue
        values[field] = number
    model_dir = env.get("ROLLCALL_MODEL_DIR", "").strip() or None
    model_uri = env.get("ROLLCALL_MODEL_S3_URI", "").strip() or None
    if model_dir and model_uri:
        problems.append("set only one of ROLLCALL_MODEL_DIR and ROLLCALL_MODEL_S3_URI")
    if model_uri and not model_uri.startswith("s3://"):
        problems.append(f"ROLLCALL_MODEL_S3_URI={model_uri!r} must start with s3://")
    retry_mode = env.get("ROLLCALL_AWS_RETRY_MODE", "").strip() or "standard"
    if retry_mode not in RETRY_MODES:
        problems.append(
            f"ROLLCALL_AWS_RETRY_MODE={retry_mode!r} must be one of {', '.join(RETRY_MODES)}"
        )
    topic = str(values.get("results_topic_arn", ""))
    if topic and not topic.startswith("arn:"):
        problems.append(f"ROLLCALL_RESULTS_TOPIC_ARN={topic!r} is not an SNS topic ARN")
    region = (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1").strip()
    if problems:
        raise ConfigError("cloud-handler configuration: " + "; ".join(problems))
    return Settings(
        model_dir=model_dir,
        model_s3_uri=model_uri,
        endpoint_url=env.get("ROLLCALL_ENDPOINT_URL", "").strip() or None,
        region=region,
        aws_retry_mode=retry_mode,
        **values,  # type: ignore[arg-type]
    )
