"""What a deployment sets for face-model: environment variables with the ``ROLLCALL_`` prefix."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from face_model.errors import FaceModelError

ENV_PREFIX = "ROLLCALL_"


class Settings(BaseSettings):
    """face-model's settings (``ROLLCALL_<FIELD>``); CLI options take precedence."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    model_cache: Path | None = Field(
        default=None, description="cache of the built-in ONNX networks (default: XDG cache)"
    )
    threads: int | None = Field(
        default=None, ge=1, le=256, description="CPU threads for the networks"
    )
    backbone: str | None = Field(default=None, description="embedding network to train")
    weights: Path | None = Field(default=None, description="weights file of a torch backbone")


class SettingsError(FaceModelError):
    """An environment variable holds a value face-model cannot use."""


def load_settings() -> Settings:
    """The settings, read from the environment now."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{ENV_PREFIX}{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise SettingsError(f"face-model configuration: {problems}") from None
