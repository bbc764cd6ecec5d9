"""What a deployment sets: one pydantic-settings class, read from ``ROLLCALL_<NAME>`` environment
variables and an optional TOML file.

A setting has one name everywhere: the field ``gate_keepalive`` is the option
``--gate-keepalive``, the variable ``ROLLCALL_GATE_KEEPALIVE`` and the TOML key
``gate_keepalive`` (or ``gate-keepalive``). The exception is the region: ``AWS_REGION``, as
every AWS tool spells it. Precedence: option > environment variable > TOML file > default.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple, Self

import numpy as np
from pydantic import (
    AfterValidator,
    AliasChoices,
    BeforeValidator,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from edge_capture.errors import ConfigError
from edge_capture.gate import GateMode, GateSettings

ENV_PREFIX = "ROLLCALL_"
TOML_TABLE = "edge-capture"
_GATE = GateSettings()
"""The motion gate's defaults, defined once in :mod:`edge_capture.gate`."""
SpoolPolicy = Literal["pause", "drop-oldest"]
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def _safe_id(value: str) -> str:
    if not _SAFE_ID.fullmatch(value):
        raise ValueError("1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit")
    return value


SafeId = Annotated[str, AfterValidator(_safe_id)]
"""An id that goes into clip keys (as shared-schema's keys allow)."""


def _http_url(value: str | None) -> str | None:
    if value is not None and not re.match(r"^https?://", value):
        raise ValueError("must start with http:// or https://")
    return value


class Resolution(NamedTuple):
    """A frame size, written ``WIDTHxHEIGHT`` (``640x480``)."""

    width: int
    height: int

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"


def _resolution(value: Any) -> Any:
    """``"640x480"`` (or a ``(width, height)`` pair) -> :class:`Resolution`."""
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d{1,5})\s*[xX]\s*(\d{1,5})\s*", value)
        if match is None:
            raise ValueError("expected WIDTHxHEIGHT, e.g. 640x480")
        value = (int(match[1]), int(match[2]))
    if isinstance(value, tuple | list) and len(value) == 2:
        for name, size in zip(("width", "height"), value, strict=True):
            if not isinstance(size, int) or not 16 <= size <= 8192 or size % 2:
                raise ValueError(f"{name} must be an even number between 16 and 8192")
        return Resolution(*value)
    return value


def default_device_id() -> str:
    """The host name, reduced to the characters a clip key allows."""
    name = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname()).strip("-_")[:64]
    return name or "edge"


def default_spool_dir() -> Path:
    """``$XDG_STATE_HOME/rollcall/spool`` (``~/.local/state/rollcall/spool``)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "rollcall" / "spool"


class EdgeSettings(BaseSettings):
    """A device's settings (see the module docstring for names and precedence)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_ignore_empty=True,
        extra="forbid",
        frozen=True,
        validate_by_name=True,
    )

    bucket: str = Field(min_length=1, description="S3 bucket for clips")
    results_queue: str = Field(min_length=1, description="This device's results queue, name or URL")
    endpoint_url: Annotated[str | None, AfterValidator(_http_url)] = Field(
        None, description="AWS endpoint, e.g. the local stack"
    )
    region: str | None = Field(
        None, validation_alias=AliasChoices("AWS_REGION"), description="AWS region"
    )
    device_id: SafeId = Field(
        default_factory=default_device_id,
        description="Device id in clip keys",
    )
    source: str = Field(
        "test",
        description="picamera | PATH (video file) | /dev/videoN | rtsp://... or http(s)://... "
        "| test (synthetic)",
    )
    resolution: Annotated[Resolution, NoDecode, BeforeValidator(_resolution)] = Field(
        Resolution(640, 480), description="Frame size WIDTHxHEIGHT"
    )
    fps: float = Field(15.0, gt=0, le=120, description="Frames per second")
    clip_seconds: float = Field(0.5, ge=0.05, le=600, description="Clip length in seconds")
    spool_dir: Path = Field(
        default_factory=default_spool_dir,
        description="Spool directory",
    )
    spool_max_mb: float = Field(512.0, gt=0, description="Spool bound in MiB")
    spool_policy: SpoolPolicy = Field(
        "pause",
        description="When the spool is full: 'pause' (record nothing new until uploads make "
        "room) or 'drop-oldest' (delete the oldest waiting clip, with a warning)",
    )
    uploaders: int = Field(2, ge=1, le=64, description="Uploader threads")
    crf: int = Field(23, ge=0, le=51, description="x264 quality (0-51, lower is better)")
    gate: GateMode = Field(
        _GATE.mode,
        description="Which clips to upload: 'motion' (clips that show motion, plus a "
        "keep-alive clip) or 'off' (every clip)",
    )
    gate_threshold: float = Field(
        _GATE.threshold,
        gt=0,
        le=100,
        description="Gate sensitivity: how far a cell must differ from the background, in "
        "sensor-noise sigmas (lower: more sensitive)",
    )
    gate_min_area: float = Field(
        _GATE.min_area_pct,
        gt=0,
        le=100,
        description="Least changed area that counts as motion, in percent of the watched frame",
    )
    gate_keepalive: float = Field(
        _GATE.keepalive_s,
        ge=0,
        le=86400,
        description="Upload a clip at least this often (seconds of video) even without "
        "motion, so a person sitting still is re-confirmed; 0: never",
    )
    gate_mask: str | None = Field(
        None,
        description="Regions the gate ignores: rectangles 'x,y,w,h;x,y,w,h' in pixels, or an "
        "image (PNG/PGM) the size of the frame, white = ignored",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Options (keyword arguments) > environment > the TOML file (``load``) > defaults."""
        return init_settings, env_settings, _TomlFile(settings_cls)

    @classmethod
    def load(cls, config_file: Path | None = None, **options: Any) -> EdgeSettings:
        """The settings from ``options`` (None: not given), the environment and ``config_file``.

        Raises:
            ConfigError: a missing or unreadable file, an unknown key, a bad value; the
                message names the setting and where its value came from.
        """
        given = {name: value for name, value in options.items() if value is not None}
        source: type[EdgeSettings] = cls
        if config_file is not None:
            if not config_file.is_file():
                raise ConfigError(f"config file {config_file}: not found")
            source = type(cls.__name__, (cls,), {"model_config": {"toml_file": config_file}})
        try:
            return source(**given)
        except ValidationError as exc:
            raise config_error(exc, lambda name: _origin(name, given, config_file)) from None

    @field_validator("spool_dir")
    @classmethod
    def _expand_user(cls, path: Path) -> Path:
        return path.expanduser()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.fps * self.clip_seconds < 0.5:
            raise ConfigError(
                f"clip-seconds {self.clip_seconds:g}: at {self.fps:g} fps a clip would hold "
                "no frame"
            )
        self.load_gate_mask()
        return self

    @property
    def width(self) -> int:
        """Frame width in pixels."""
        return self.resolution.width

    @property
    def height(self) -> int:
        """Frame height in pixels."""
        return self.resolution.height

    @property
    def frames_per_clip(self) -> int:
        """Frames in one clip: ``round(fps * clip_seconds)``, at least 1."""
        return max(1, round(self.fps * self.clip_seconds))

    @property
    def clip_span_s(self) -> float:
        """Planned length of one clip in seconds (``frames_per_clip / fps``)."""
        return self.frames_per_clip / self.fps

    @property
    def spool_max_bytes(self) -> int:
        """The spool bound in bytes."""
        return int(self.spool_max_mb * 1024 * 1024)

    @property
    def gate_settings(self) -> GateSettings:
        """The motion gate's settings."""
        return GateSettings(
            mode=self.gate,
            threshold=self.gate_threshold,
            min_area_pct=self.gate_min_area,
            keepalive_s=self.gate_keepalive,
        )

    def load_gate_mask(self) -> np.ndarray | None:
        """The gate's mask as a frame-sized bool array (True = ignored), or None.

        Raises:
            ConfigError: a bad mask (see :func:`edge_capture.mask.load_mask`).
        """
        if self.gate_mask is None:
            return None
        from edge_capture.mask import load_mask

        return load_mask(self.gate_mask, self.width, self.height)


def env_name(field: str) -> str:
    """The environment variable of a setting (``gate_mask`` -> ``ROLLCALL_GATE_MASK``)."""
    return "AWS_REGION" if field == "region" else f"{ENV_PREFIX}{field.upper()}"


def option_name(field: str) -> str:
    """The option of a setting (``gate_mask`` -> ``--gate-mask``)."""
    return "--" + field.replace("_", "-")


class _TomlFile(TomlConfigSettingsSource):
    """The TOML file: its top level or an ``[edge-capture]`` table; keys with ``_`` or ``-``."""

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        try:
            data = super()._read_file(file_path)
        except (OSError, UnicodeDecodeError, ValueError) as exc:  # TOMLDecodeError: ValueError
            raise ConfigError(f"config file {file_path}: not valid TOML: {exc}") from None
        table = data.get(TOML_TABLE, data)
        if not isinstance(table, dict):
            raise ConfigError(f"config file {file_path}: [{TOML_TABLE}] must be a table")
        return {key.replace("-", "_"): value for key, value in table.items() if key != TOML_TABLE}


def _origin(field: str, options: dict[str, Any], config_file: Path | None) -> str:
    """Where the value of ``field`` came from, for error messages."""
    if field in options:
        return option_name(field)
    if env_name(field).lower() in {name.lower() for name in os.environ}:
        return env_name(field)
    return str(config_file) if config_file is not None else "the defaults"


def config_error(exc: ValidationError, origin: Callable[[str], str] | None = None) -> ConfigError:
    """One line for the first problem of a failed validation, naming the setting as its
    option does and, when ``origin(field)`` is given, where its value came from."""
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else ""
    name = option_name(field)[2:]
    where = f" (from {origin(field)})" if origin is not None else ""
    if error["type"] == "missing":
        return ConfigError(
            f"{name}: not set (use {option_name(field)}, {env_name(field)} or "
            f"'{field}' in the config file)"
        )
    if error["type"] == "extra_forbidden":
        return ConfigError(f"unknown setting {field!r}{where}")
    message = str(error["msg"]).removeprefix("Value error, ")
    return ConfigError(f"{name} {error['input']!r}{where}: {message[:1].lower()}{message[1:]}")
