"""The attendance timeline as a PNG: one row per person, a bar per stay, absentees marked."""

from __future__ import annotations

from datetime import timedelta, tzinfo
from pathlib import Path
from typing import BinaryIO

from rollcall_tools.attendance.report import Attendance
from rollcall_tools.attendance.window import in_zone

TICK_SECONDS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
                43200, 86400)  # fmt: skip
MAX_TICKS = 12

ROW_INCHES = 0.3
MIN_BAR_FRACTION = 0.004
"""A single sighting is drawn at least this fraction of the window wide (visible)."""
PRESENT, ABSENT, GRID = "#2b7bba", "#c0392b", "#dddddd"


def write_timeline(report: Attendance, path: Path) -> Path:
    """Draw ``report`` to ``path`` (PNG, matplotlib's Agg backend); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        draw_timeline(report, handle)
    return path


def draw_timeline(report: Attendance, handle: BinaryIO) -> None:
    """Draw ``report`` as a PNG into an open binary stream (the dashboard's image)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tz = report.tz
    rows = [p.name for p in report.people] + report.absent
    height = max(2.5, 1.4 + ROW_INCHES * max(1, len(rows)))
    fig, ax = plt.subplots(figsize=(11, height), dpi=100)
    end_ms = max(report.to_ms, report.from_ms + 1000)  # never an empty axis
    span_min = (end_ms - report.from_ms) / 60_000
    min_width = span_min * MIN_BAR_FRACTION

    def day(ms: int) -> float:
        """Minutes into the window."""
        return (ms - report.from_ms) / 60_000

    for row, person in enumerate(report.people):
        bars = [(day(a), max(day(b) - day(a), min_width)) for a, b in person.intervals]
        ax.broken_barh(bars, (row - 0.35, 0.7), facecolors=PRESENT)
        ax.text(
            1.005,
            row,
            f"{_duration(person.present_s)} · {person.clips} clips",
            transform=ax.get_yaxis_transform(),
            va="center",
            fontsize=8,
            color="#444444",
        )
    first_absent = len(report.people)
    for offset, _name in enumerate(report.absent):
        row = first_absent + offset
        ax.axhspan(row - 0.45, row + 0.45, color=ABSENT, alpha=0.08, linewidth=0)
        ax.text(
            0.5,
            row,
            "absent",
            transform=ax.get_yaxis_transform(),
            ha="center",
            va="center",
            fontsize=8,
            color=ABSENT,
            fontweight="bold",
        )
    ax.set_yticks(range(len(rows)), rows, fontsize=9)
    for tick in ax.get_yticklabels()[first_absent:]:
        tick.set_color(ABSENT)
    ax.set_ylim(len(rows) - 0.5 if rows else 0.5, -0.5)
    ax.set_xlim(day(report.from_ms), day(end_ms))
    ticks = clock_ticks(report.from_ms, end_ms, tz)
    fmt = tick_format(report.from_ms, end_ms)
    ax.set_xticks([day(ms) for ms in ticks], [in_zone(ms, tz).strftime(fmt) for ms in ticks])
    ax.grid(axis="x", color=GRID)
    ax.set_axisbelow(True)
    zone_name = in_zone(report.from_ms, tz).strftime("%Y-%m-%d, UTC%z")
    ax.set_xlabel(f"local time ({zone_name})")
    ax.set_title(
        f"{report.label}: {len(report.people)} present, {len(report.absent)} absent, "
        f"{report.unknown_clusters} unknown (gap tolerance {report.gap_s:g} s)",
        fontsize=10,
        loc="left",
    )
    fig.tight_layout()
    fig.savefig(handle, format="png")
    plt.close(fig)


def clock_ticks(from_ms: int, to_ms: int, tz: tzinfo | None) -> list[int]:
    """Round local clock times (every 1, 2, 5, 10, 15, 30 s, 1, 2, 5... min) in the window."""
    span = max(1, to_ms - from_ms) / 1000
    step = next((s for s in TICK_SECONDS if span / s <= MAX_TICKS), TICK_SECONDS[-1])
    offset_s = (in_zone(from_ms, tz).utcoffset() or timedelta()).total_seconds()
    first = -(-(from_ms / 1000 + offset_s) // step) * step
    out: list[int] = []
    local = first
    while (ms := round((local - offset_s) * 1000)) <= to_ms:
        out.append(ms)
        local += step
    return out


def tick_format(from_ms: int, to_ms: int) -> str:
    """``%H:%M``, or ``%H:%M:%S`` when the ticks are seconds apart."""
    return "%H:%M:%S" if (to_ms - from_ms) / 1000 / MAX_TICKS < 60 else "%H:%M"


def _duration(seconds: float) -> str:
    """``42 s`` under two minutes, else ``17 min``."""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
