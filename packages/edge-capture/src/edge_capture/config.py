"""EdgeConfig: every setting of a capture session, with validation and TOML loading.

Precedence (highest first): command-line option, environment variable, TOML file
(``--config``), built-in default. The CLI resolves the first two (Typer); this module
merges the TOML file under them and validates the result.
"""

from __future__ import annotations

import os
import re
import socket
import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from edge_capture.errors import ConfigError
from edge_capture.gate import GATE_MODES, GateMode, GateSettings

SpoolPolicy = Literal["pause", "drop-oldest"]
SPOOL_POLICIES: tuple[str, ...] = ("pause", "drop-oldest")
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_RESOLUTION = re.compile(r"^(\d{1,5})x(\d{1,5})$")


def default_device_id() -> str:
    """The host name, reduced to the characters a clip key allows."""
    name = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname()).strip("-_")[:64]
    return name if name and _SAFE_ID.match(name) else "edge"


def default_session_id() -> str:
    """A new session id from the current UTC time, e.g. ``s20261124T173000Z``."""
    return datetime.now(UTC).strftime("s%Y%m%dT%H%M%SZ")


def default_spool_dir() -> Path:
    """``$XDG_STATE_HOME/rollcall/spool`` (``~/.local/state/rollcall/spool``)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "rollcall" / "spool"


def parse_resolution(text: str) -> tuple[int, int]:
    """``"640x480"`` -> ``(640, 480)``.

    Raises:
        ConfigError: not ``WIDTHxHEIGHT`` with even sizes between 16 and 8192.
    """
    match = _RESOLUTION.match(text.strip().lower())
    if match is None:
        raise ConfigError(f"resolution {text!r}: expected WIDTHxHEIGHT, e.g. 640x480")
    width, height = int(match[1]), int(match[2])
    for name, value in (("width", width), ("height", height)):
        if not 16 <= value <= 8192 or value % 2:
            raise ConfigError(
                f"resolution {text!r}: {name} must be an even number between 16 and 8192"
            )
    return width, height


@dataclass(frozen=True)
class EdgeConfig:
    """Settings of one capture session (see the package README for each)."""

    bucket: str = ""
    results_queue: str = ""
    source: str = "test"
    width: int = 640
    height: int = 480
    fps: float = 15.0
    clip_seconds: float = 0.5
    duration_s: float = 300.0
    fast: bool = False
    loop: bool = False
    endpoint_url: str | None = None
    region: str | None = None
    device_id: str = field(default_factory=default_device_id)
    session_id: str = field(default_factory=default_session_id)
    spool_dir: Path = field(default_factory=default_spool_dir)
    spool_max_mb: float = 512.0
    spool_policy: SpoolPolicy = "pause"
    uploaders: int = 2
    retry_base_s: float = 0.25
    retry_max_s: float = 10.0
    flush_timeout_s: float = 60.0
    result_wait_s: float = 30.0
    poll_wait_s: int = 5
    crf: int = 23
    preset: str = "ultrafast"
    tune: str = "zerolatency"
    gate: GateMode = "motion"
    gate_threshold: float = 5.0
    gate_min_area_pct: float = 0.3
    gate_keepalive_s: float = 10.0
    gate_mask: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.spool_dir, Path):  # accept a str from in-process callers
            object.__setattr__(self, "spool_dir", Path(str(self.spool_dir)).expanduser())
        self.validate()

    @property
    def frames_per_clip(self) -> int:
        """Frames in one clip: ``round(fps * clip_seconds)``, at least 1."""
        return max(1, round(self.fps * self.clip_seconds))

    @property
    def clip_span_s(self) -> float:
        """Planned length of one clip in seconds (``frames_per_clip / fps``)."""
        return self.frames_per_clip / self.fps

    @property
    def gate_settings(self) -> GateSettings:
        """The motion gate's settings."""
        return GateSettings(
            mode=self.gate,
            threshold=self.gate_threshold,
            min_area_pct=self.gate_min_area_pct,
            keepalive_s=self.gate_keepalive_s,
        )

    @property
    def spool_max_bytes(self) -> int:
        """The spool bound in bytes."""
        return int(self.spool_max_mb * 1024 * 1024)

    def validate(self) -> None:
        """Check every field.

        Raises:
            ConfigError: naming the first bad setting.
        """
        if not self.bucket:
            raise ConfigError("bucket: not set (use --bucket or ROLLCALL_BUCKET)")
        if not self.results_queue:
            raise ConfigError(
                "results queue: not set (use --results-queue or ROLLCALL_RESULTS_QUEUE)"
            )
        for name in ("device_id", "session_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _SAFE_ID.match(value):
                raise ConfigError(
                    f"{name.replace('_', '-')} {value!r}: 1-64 characters of A-Z a-z 0-9 _ -, "
                    "starting with a letter or digit"
                )
        checks: list[tuple[str, bool, str]] = [
            ("width", 16 <= self.width <= 8192 and self.width % 2 == 0, "even, 16..8192"),
            ("height", 16 <= self.height <= 8192 and self.height % 2 == 0, "even, 16..8192"),
            ("fps", 0 < self.fps <= 120, "between 0 and 120"),
            ("clip-seconds", 0.05 <= self.clip_seconds <= 600, "between 0.05 and 600"),
            ("duration", self.duration_s >= 0, "0 or more seconds"),
            ("spool-max-mb", self.spool_max_mb > 0, "more than 0"),
            ("spool-policy", self.spool_policy in SPOOL_POLICIES, " or ".join(SPOOL_POLICIES)),
            ("uploaders", 1 <= self.uploaders <= 64, "between 1 and 64"),
            ("retry-base", 0 < self.retry_base_s <= self.retry_max_s, "0 < base <= max"),
            ("flush-timeout", self.flush_timeout_s >= 0, "0 or more seconds"),
            ("result-wait", self.result_wait_s >= 0, "0 or more seconds"),
            ("poll-wait", 0 <= self.poll_wait_s <= 20, "0..20 seconds (SQS long poll)"),
            ("crf", 0 <= self.crf <= 51, "0..51"),
            ("gate", self.gate in GATE_MODES, " or ".join(GATE_MODES)),
            ("gate-threshold", 0 < self.gate_threshold <= 100, "more than 0 and at most 100"),
            ("gate-min-area", 0 < self.gate_min_area_pct <= 100, "more than 0 and at most 100"),
            ("gate-keepalive", 0 <= self.gate_keepalive_s <= 86400, "0..86400 seconds"),
        ]
        for name, ok, expected in checks:
            if not ok:
                value = getattr(self, _FIELD_OF_OPTION.get(name, name.replace("-", "_")))
                raise ConfigError(f"{name} {value!r}: must be {expected}")
        if self.fps * self.clip_seconds < 0.5:
            raise ConfigError(
                f"clip-seconds {self.clip_seconds}: at {self.fps} fps a clip would hold no frame"
            )
        if self.endpoint_url is not None and not re.match(r"^https?://", self.endpoint_url):
            raise ConfigError(f"endpoint-url {self.endpoint_url!r}: must start with http(s)://")
        if self.gate_mask is not None:
            self.load_gate_mask()

    def load_gate_mask(self) -> Any:
        """The gate's mask as a frame-sized bool array (True = ignored), or None.

        Raises:
            ConfigError: a bad mask (see :func:`edge_capture.mask.load_mask`).
        """
        if self.gate_mask is None:
            return None
        from edge_capture.mask import load_mask

        return load_mask(self.gate_mask, self.width, self.height)

    def with_overrides(self, **changes: Any) -> EdgeConfig:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)


_FIELD_OF_OPTION = {
    "duration": "duration_s",
    "retry-base": "retry_base_s",
    "flush-timeout": "flush_timeout_s",
    "result-wait": "result_wait_s",
    "poll-wait": "poll_wait_s",
    "gate-min-area": "gate_min_area_pct",
    "gate-keepalive": "gate_keepalive_s",
}

_FIELD_NAMES = {f.name for f in fields(EdgeConfig)}
_ALIASES = {**_FIELD_OF_OPTION, "retry-max": "retry_max_s"}


def _field_for(key: str) -> str | None:
    """The EdgeConfig field a TOML key names (``spool-max-mb`` or ``spool_max_mb``)."""
    if key in _ALIASES:
        return _ALIASES[key]
    name = key.replace("-", "_")
    if name in _FIELD_NAMES:
        return name
    if name == "resolution":
        return "resolution"
    return None


def load_toml(path: Path) -> dict[str, Any]:
    """EdgeConfig fields read from a TOML file (top level or an ``[edge-capture]`` table).

    Raises:
        ConfigError: the file is missing, not TOML, or names an unknown setting.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path}: not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: not valid TOML: {exc}") from None
    table = data.get("edge-capture", data.get("edge_capture", data))
    if not isinstance(table, dict):
        raise ConfigError(f"config file {path}: [edge-capture] must be a table")
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key in ("edge-capture", "edge_capture"):
            continue
        name = _field_for(key)
        if name is None:
            raise ConfigError(f"config file {path}: unknown setting {key!r}")
        if name == "resolution":
            if not isinstance(value, str):
                raise ConfigError(f"config file {path}: resolution must be a string like 640x480")
            out["width"], out["height"] = parse_resolution(value)
        elif name == "spool_dir":
            out[name] = Path(str(value)).expanduser()
        else:
            out[name] = value
    return out


def build_config(toml_path: Path | None, overrides: dict[str, Any]) -> EdgeConfig:
    """Merge defaults < TOML file < ``overrides`` (options/env vars, ``None`` = unset).

    Raises:
        ConfigError: a bad file, a bad value, or a value of the wrong type.
    """
    values: dict[str, Any] = load_toml(toml_path) if toml_path is not None else {}
    values.update({k: v for k, v in overrides.items() if v is not None})
    source = f" (from {toml_path})" if toml_path is not None else ""
    types = {f.name: f.type for f in fields(EdgeConfig)}
    for name, value in values.items():
        expected = types.get(name)
        if expected in ("int", "float") and (
            isinstance(value, bool) or not isinstance(value, int | float)
        ):
            raise ConfigError(f"{name.replace('_', '-')} {value!r}{source}: must be a number")
        if expected == "int" and isinstance(value, float):
            if not value.is_integer():
                raise ConfigError(f"{name.replace('_', '-')} {value!r}{source}: must be whole")
            values[name] = int(value)
        if expected == "float":
            values[name] = float(value)
        if expected in ("str", "str | None", "SpoolPolicy", "GateMode") and not isinstance(
            value, str
        ):
            raise ConfigError(f"{name.replace('_', '-')} {value!r}{source}: must be a string")
        if expected == "Path" and not isinstance(value, Path):
            values[name] = Path(str(value)).expanduser()
        if expected == "bool" and not isinstance(value, bool):
            raise ConfigError(f"{name.replace('_', '-')} {value!r}{source}: must be true/false")
    try:
        return EdgeConfig(**values)
    except TypeError as exc:  # pragma: no cover - guarded by load_toml's key check
        raise ConfigError(f"configuration{source}: {exc}") from None
