"""EdgeConfig: everything one capture session needs, the deployment's settings and this run's
options, validated once (the in-process API; the CLI builds it from :class:`EdgeSettings`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Self

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from edge_capture.aws import TIMEOUT_S
from edge_capture.errors import ConfigError
from edge_capture.settings import EdgeSettings, SafeId, config_error


def default_session_id() -> str:
    """A new session id from the current UTC time, e.g. ``s20261124T173000Z``."""
    return datetime.now(UTC).strftime("s%Y%m%dT%H%M%SZ")


class EdgeConfig(EdgeSettings):
    """The settings of one capture session: :class:`EdgeSettings` plus the run's options.

    Built from keyword arguments only, never from the environment or a file (that is
    :meth:`EdgeSettings.load`): in-process callers get exactly what they pass, plus defaults.

    Raises:
        ConfigError: a bad value, naming the setting as its option does.
    """

    session_id: SafeId = Field(
        default_factory=default_session_id,
        description="Session id in clip keys; reuse one to continue a session",
    )
    duration_s: float = Field(
        300.0,
        ge=0,
        description="Seconds of video to record (0: only upload the spool and collect "
        "results; inf: until stopped, as the systemd service runs)",
    )
    fast: bool = Field(
        False,
        description="Play a file (or the test pattern) as fast as possible, not in real time",
    )
    loop: bool = Field(False, description="Restart a video file at its end")
    flush_timeout_s: float = Field(
        60.0, ge=0, description="After capture, seconds to wait for the spool to upload"
    )
    result_wait_s: float = Field(
        30.0, ge=0, description="Then, seconds to wait for outstanding results"
    )
    poll_wait_s: int = Field(5, ge=0, le=20, description="SQS long-poll seconds (0-20)")
    retry_base_s: float = Field(
        0.25, gt=0, description="First pause of the uploaders after a failed round"
    )
    retry_max_s: float = Field(10.0, gt=0, description="Longest pause of the uploaders")
    aws_timeout_s: float = Field(
        TIMEOUT_S,
        gt=0,
        le=60,
        description="Connect and read timeout of each attempt of an AWS call (the results "
        "long poll reads poll-wait longer)",
    )
    preset: str = Field("ultrafast", description="x264 preset")
    tune: str = Field("zerolatency", description="x264 tune ('' for none)")

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise config_error(exc) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments only."""
        return (init_settings,)

    @classmethod
    def from_settings(cls, settings: EdgeSettings, **options: Any) -> EdgeConfig:
        """``settings`` with this run's ``options`` (None: not given, the default); an option
        may also override a setting.

        Raises:
            ConfigError: a bad option, naming it as the CLI does.
        """
        given = {name: value for name, value in options.items() if value is not None}
        return cls(**{**settings.model_dump(), **given})

    @model_validator(mode="after")
    def _retry_bounds(self) -> Self:
        if self.retry_base_s > self.retry_max_s:
            raise ConfigError(
                f"retry-base-s {self.retry_base_s:g}: must be at most retry-max-s "
                f"{self.retry_max_s:g}"
            )
        return self
