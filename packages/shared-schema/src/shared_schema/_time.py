"""UTC timestamps with millisecond precision, the only kind the contract carries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, PlainSerializer, WithJsonSchema

# 2001-09-09 .. 2286-11-20: every epoch-millisecond value with exactly 13 digits.
MIN_EPOCH_MS = 1_000_000_000_000
MAX_EPOCH_MS = 9_999_999_999_999


def utc_ms(value: datetime) -> datetime:
    """Return ``value`` in UTC, truncated to whole milliseconds.

    Raises:
        ValueError: ``value`` is naive or outside the 13-digit epoch-ms range.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must carry a timezone (UTC expected)")
    value = value.astimezone(UTC)
    value = value.replace(microsecond=value.microsecond // 1000 * 1000)
    ms = to_epoch_ms(value)
    if not MIN_EPOCH_MS <= ms <= MAX_EPOCH_MS:
        raise ValueError("timestamp must lie between 2001-09-09 and 2286-11-20 UTC")
    return value


def to_epoch_ms(value: datetime) -> int:
    """Milliseconds since the Unix epoch of an aware datetime."""
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_epoch_ms(ms: int) -> datetime:
    """The UTC datetime ``ms`` milliseconds after the Unix epoch."""
    return utc_ms(datetime.fromtimestamp(ms / 1000, tz=UTC).replace(microsecond=ms % 1000 * 1000))


def _iso_ms(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


UtcMs = Annotated[
    AwareDatetime,
    AfterValidator(utc_ms),
    PlainSerializer(_iso_ms, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""An aware datetime, normalised to UTC ms; JSON form ``2026-11-24T17:30:00.123Z``."""
