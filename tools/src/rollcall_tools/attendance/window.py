"""What an attendance report covers: a time window (``--from/--to``, local times in a time
zone), an edge-capture session (``--session``), or one meeting of a recurring schedule
(``--schedule FILE``, a small TOML file)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from rollcall_tools.errors import ConfigError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


def zone(name: str | None) -> tzinfo | None:
    """The time zone ``name`` (IANA, ``UTC``, or an offset such as ``+01:00``); None: this
    machine's local time.

    Raises:
        ConfigError: an unknown zone.
    """
    if name is None:
        return None
    if name[:1] in "+-":
        try:
            return datetime.fromisoformat(f"2000-01-01T00:00{name}").tzinfo
        except ValueError:
            raise ConfigError(f"time zone {name!r}: expected an offset like +01:00") from None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"time zone {name!r} is unknown (use an IANA name, e.g. "
            "America/Phoenix, or an offset like +01:00)"
        ) from None


def in_zone(ms: int, tz: tzinfo | None) -> datetime:
    """Epoch milliseconds as an aware datetime in ``tz`` (None: local time)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(tz)


def iso(ms: int, tz: tzinfo | None, timespec: str = "milliseconds") -> str:
    """ISO 8601 with the zone's offset (``2026-12-07T10:31:04.250-07:00``)."""
    return in_zone(ms, tz).isoformat(timespec=timespec)


def epoch_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime."""
    return round(moment.timestamp() * 1000)


def parse_time(text: str, tz: tzinfo | None, *, option: str, day: date | None = None) -> datetime:
    """``--from``/``--to``: ISO 8601 (``2026-12-07T10:30``, ``2026-12-07 10:30:00+01:00``) or
    a time of day (``10:30``, on ``day``, else today). Without an offset the time is local to
    ``tz`` (None: this machine's zone).

    Raises:
        ConfigError: not a time; names ``option``.
    """
    try:
        if len(text) <= 8 and ":" in text:
            clock = time.fromisoformat(text)
            on = day or datetime.now(tz).date()
            moment = datetime.combine(on, clock)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"{option} {text!r}: expected ISO 8601 such as 2026-12-07T10:30 "
            "(optionally with an offset) or a time of day such as 10:30"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz) if tz is not None else moment.astimezone()
    return moment


@dataclass(frozen=True)
class Window:
    """A report's time span and where it applies."""

    from_ms: int
    to_ms: int
    tz: tzinfo | None
    label: str
    device: str | None = None
    """A schedule's device (the command's --device wins)."""

    def __post_init__(self) -> None:
        if self.to_ms <= self.from_ms:
            raise ConfigError(f"{self.label}: the window ends before it starts")


def window_between(start: str, end: str, tz: tzinfo | None) -> Window:
    """``--from START --to END`` (``END`` as a time of day: the day of ``START``)."""
    begin = parse_time(start, tz, option="--from")
    finish = parse_time(end, tz, option="--to", day=begin.date())
    label = f"{begin.isoformat(timespec='minutes')} to {finish.isoformat(timespec='minutes')}"
    return Window(epoch_ms(begin), epoch_ms(finish), tz, label)


# --- schedules -------------------------------------------------------------------------
HhMm = Annotated[str, StringConstraints(pattern=_HHMM)]


class Meeting(BaseModel):
    """One recurring session of a schedule file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=128)
    days: list[str] = Field(min_length=1)
    start: HhMm
    end: HhMm
    device: str | None = None
    timezone: str | None = None


class Schedule(BaseModel):
    """A schedule file: a default ``timezone`` and ``[[session]]`` tables."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str | None = None
    session: list[Meeting] = Field(min_length=1)


def load_schedule(path: Path) -> Schedule:
    """Read and check a schedule file.

    Raises:
        ConfigError: unreadable, not TOML, or not a schedule (one line naming the field).
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"schedule {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"schedule {path}: not TOML: {exc}") from None
    try:
        schedule = Schedule.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"schedule {path}: {where}: {first['msg']}") from None
    for meeting in schedule.session:
        bad = [d for d in meeting.days if d[:3].lower() not in DAYS or len(d) < 3]
        if bad:
            raise ConfigError(
                f"schedule {path}: session {meeting.name!r}: days {bad} are not "
                "weekdays (Mon, Tue, ... or Monday, ...)"
            )
        if meeting.end <= meeting.start:
            raise ConfigError(f"schedule {path}: session {meeting.name!r} ends before it starts")
        zone(meeting.timezone or schedule.timezone)
    return schedule


def meeting_window(
    schedule: Schedule,
    *,
    name: str | None = None,
    on: date | None = None,
    now: datetime | None = None,
    lookback_days: int = 7,
) -> Window:
    """The meeting a report is about: on day ``on`` (else the latest one that has started by
    ``now``), of the session called ``name`` (else whichever session that is).

    Raises:
        ConfigError: no session of that name, or none meets on that day / in the last week.
    """
    meetings = [m for m in schedule.session if name is None or m.name == name]
    if not meetings:
        known = ", ".join(repr(m.name) for m in schedule.session)
        raise ConfigError(f"the schedule has no session {name!r} (it has {known})")
    now = now or datetime.now(UTC)
    best: tuple[datetime, datetime, Meeting] | None = None
    for meeting in meetings:
        tz = zone(meeting.timezone or schedule.timezone)
        weekdays = {DAYS.index(d[:3].lower()) for d in meeting.days}
        today = now.astimezone(tz).date()
        days = [on] if on is not None else [today - timedelta(n) for n in range(lookback_days)]
        for day in days:
            if day.weekday() not in weekdays:
                continue
            start = _at(day, meeting.start, tz)
            if on is None and start > now:
                continue
            if best is None or start > best[0]:
                best = (start, _at(day, meeting.end, tz), meeting)
            break
    if best is None:
        when = on.isoformat() if on else "the last week"
        raise ConfigError(f"no scheduled session meets on {when}")
    start, end, meeting = best
    tz = zone(meeting.timezone or schedule.timezone)
    label = f"{meeting.name}, {start.date().isoformat()} {meeting.start}-{meeting.end}"
    return Window(epoch_ms(start), epoch_ms(end), tz, label, meeting.device)


def _at(day: date, hhmm: str, tz: tzinfo | None) -> datetime:
    moment = datetime.combine(day, time.fromisoformat(hhmm))
    return moment.replace(tzinfo=tz) if tz is not None else moment.astimezone()
