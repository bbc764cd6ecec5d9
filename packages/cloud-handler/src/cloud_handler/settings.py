"""What a deployment sets for the handler: environment variables with the ``ROLLCALL_`` prefix.

Only what differs between deployments: the stack's resources, the model artifact, the AWS
endpoint, and the limits and threads sized to the function's memory and cameras. Everything
else is a constant of the code (see the package README).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cloud_handler.errors import ConfigError

ENV_PREFIX = "ROLLCALL_"
MIB = 1024 * 1024


class Settings(BaseSettings):
    """The handler's settings (``ROLLCALL_<FIELD>``; the region from ``AWS_REGION``), each
    documented in the package README. Empty values count as unset (a deployment switches the
    image's ``ROLLCALL_MODEL_DIR`` off with ``ROLLCALL_MODEL_DIR=``)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
        str_strip_whitespace=True,
    )

    results_topic_arn: str
    table: str = Field(min_length=1)
    idempotency_table: str = Field(min_length=1)
    sightings_table: str | None = None
    """The attendance table (unset: sightings are not kept)."""
    sightings_retention_days: int = Field(default=180, ge=1, le=3650)
    model_dir: Path | None = None
    model_s3_uri: str | None = None
    model_cache: Path | None = None
    """Where an S3 artifact is copied (default: the temp dir)."""
    library_table: str | None = None
    """The face library's DynamoDB table (the gallery; unset: the artifact's own gallery)."""
    face_store: str | None = None
    """The private bucket of face chips (unknown faces are kept there when set)."""
    unknown_retention_days: int = Field(default=14, ge=0, le=3650)
    """How long unknown faces are kept (0: none is kept)."""
    endpoint_url: str | None = None
    """One endpoint for every AWS client; unset: botocore's own resolution."""
    region: str = Field(
        default="us-east-1",
        min_length=1,
        validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"),
    )
    threads: int | None = Field(default=None, ge=1, le=256)
    min_face_size: int = Field(default=40, ge=12, le=4096)
    coarse_detection: Literal["videos", "all", "off"] = "videos"
    """Where full detections are coarse to fine (see ``sampling.VIDEO_COARSE_FACE``): whole
    videos only, rollcall clips too, or nowhere (the exact cascade)."""
    max_object_bytes: int = Field(default=50 * MIB, ge=1, le=2**40)
    max_frame_pixels: int = Field(default=4096 * 2304, ge=1, le=2**31)
    output_bucket: str | None = Field(default=None, min_length=3, max_length=63)
    """Where each answered object's output object goes (unset: none is written)."""
    output_format: Literal["course", "json"] = "course"
    """``course``: ``<stem>.txt`` holding ``name,major,year``; ``json``: the full result."""

    @field_validator("results_topic_arn")
    @classmethod
    def _topic_arn(cls, value: str) -> str:
        if not value.startswith("arn:"):
            raise ValueError("is not an SNS topic ARN")
        return value

    @field_validator("model_s3_uri")
    @classmethod
    def _one_model(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not value.startswith("s3://"):
            raise ValueError("must start with s3://")
        if value is not None and info.data.get("model_dir") is not None:
            raise ValueError(f"set only one of {ENV_PREFIX}MODEL_DIR and {ENV_PREFIX}MODEL_S3_URI")
        return value

    @property
    def detection_only(self) -> bool:
        """True when no model artifact is configured: faces are found, never identified."""
        return self.model_dir is None and self.model_s3_uri is None


def load_settings(**overrides: Any) -> Settings:
    """The settings, read from the environment now (``overrides`` win, e.g. in tests).

    Raises:
        ConfigError: one or more variables are missing or malformed; all are named at once.
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(_problem(error) for error in exc.errors())
        raise ConfigError(f"cloud-handler configuration: {problems}") from None


_PHRASES = {
    "missing": "is not set",
    "int_parsing": "is not an integer",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "string_too_short": "is empty",
}


def _problem(error: Any) -> str:
    """One problem as ``NAME='value' what is wrong`` (``NAME is not set``)."""
    field = str(error["loc"][0]) if error["loc"] else ""
    name = field if field.startswith("AWS_") else f"{ENV_PREFIX}{field.upper()}"
    phrase = _PHRASES.get(error["type"])
    if phrase is not None:
        phrase = phrase.format(**error.get("ctx", {}))
    else:
        phrase = str(error["msg"]).removeprefix("Value error, ")
    return (
        f"{name} {phrase}" if error["type"] == "missing" else f"{name}={error['input']!r} {phrase}"
    )
