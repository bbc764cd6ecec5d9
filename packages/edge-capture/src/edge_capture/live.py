"""Rich rendering: the live view during a session, the final summary, the bench figures."""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from edge_capture.ledger import Ledger
from edge_capture.spool import Spool
from edge_capture.summary import ClipOutcome, SessionSummary

_STATUS_STYLE = {
    "recognized": "green",
    "unknown": "yellow",
    "no_face": "dim",
    "error": "red",
    "missing": "red",
    "dropped": "red",
}


def describe_people(outcome: ClipOutcome) -> str:
    """``"mr_bean (Physics, junior) 0.82, 1 unknown"``-style text."""
    parts = []
    for person in outcome.people:
        record = ", ".join(x for x in (person.major, person.year) if x)
        parts.append(f"{person.name}{f' ({record})' if record else ''} {person.similarity:.2f}")
    if outcome.unknown_faces:
        parts.append(f"{outcome.unknown_faces} unknown")
    return "; ".join(parts) or (outcome.error or "-")


def outcome_line(outcome: ClipOutcome) -> Text:
    """One line for a clip's result (non-interactive output)."""
    latency = outcome.capture_to_result_ms
    return Text.assemble(
        (f"{outcome.key}  ", "dim"),
        (f"{outcome.status:<10}", _STATUS_STYLE.get(outcome.status, "")),
        f"  {latency:>8.0f} ms  " if latency is not None else "         -     ",
        describe_people(outcome),
    )


class LiveView:
    """Renders counters, the spool and the latest results; give it to ``rich.live.Live``."""

    def __init__(self, ledger: Ledger, spool: Spool, title: str, rows: int = 10) -> None:
        self.ledger, self.spool, self.title = ledger, spool, title
        self.recent: deque[ClipOutcome] = deque(maxlen=rows)
        self.started = time.monotonic()

    def add(self, outcome: ClipOutcome) -> None:
        """Remember a newly answered clip."""
        self.recent.appendleft(outcome)

    def __rich__(self) -> RenderableType:
        counts = self.ledger.snapshot()
        waiting, busy = self.spool.counts()
        header = Text.assemble(
            (f"{self.title}  ", "bold"),
            f"{time.monotonic() - self.started:6.1f} s  ",
            f"captured {counts['captured']}  ",
            f"uploaded {counts['uploaded']}  ",
            (f"skipped {counts['skipped']}  ", "dim"),
            (f"answered {counts['answered']}  ", "green"),
            f"spool {waiting + busy} clips / {self.spool.used_bytes / 2**20:.1f} MB  ",
            (f"retries {counts['retries']}  ", "yellow" if counts["retries"] else ""),
            (f"dropped {counts['dropped']}", "red" if counts["dropped"] else ""),
        )
        table = Table(expand=True, box=None, pad_edge=False)
        table.add_column("clip", no_wrap=True, min_width=26)
        table.add_column("status")
        table.add_column("capture->result", justify="right")
        table.add_column("upload->result", justify="right")
        table.add_column("people")
        for outcome in self.recent:
            table.add_row(
                outcome.key.rsplit("/", 1)[-1],
                Text(outcome.status, _STATUS_STYLE.get(outcome.status, "")),
                _fmt_ms(outcome.capture_to_result_ms),
                _fmt_ms(outcome.upload_to_result_ms),
                describe_people(outcome),
            )
        return Group(header, table)


def _fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def summary_table(summary: SessionSummary) -> RenderableType:
    """The end-of-session report for people."""
    table = Table(
        title=f"rollcall session {summary.device_id}/{summary.session_id}", show_header=False
    )
    table.add_column(style="bold")
    table.add_column()
    table.add_row("clips captured", str(summary.clips_captured))
    if summary.clips_resumed:
        table.add_row("clips resumed from spool", str(summary.clips_resumed))
    table.add_row("clips uploaded", str(summary.clips_uploaded))
    table.add_row("clips skipped by the gate", str(summary.clips_skipped))
    reasons = ", ".join(f"{reason} {n}" for reason, n in summary.gate_reasons.items())
    table.add_row("gate", f"{summary.upload_line}{f'; {reasons}' if reasons else ''}")
    table.add_row("clips answered", str(summary.clips_answered))
    missing = Text(str(summary.clips_missing), "red" if summary.missing_keys else "green")
    table.add_row("clips missing", missing)
    for key in summary.missing_keys[:20]:
        table.add_row("", Text(key, "red"))
    if len(summary.missing_keys) > 20:
        table.add_row("", f"... and {len(summary.missing_keys) - 20} more (see --json)")
    for label, stats in (
        ("latency capture->result", summary.latency_ms),
        ("latency upload->result", summary.upload_to_result_ms),
        ("latency capture->upload", summary.capture_to_upload_ms),
    ):
        text = (
            "-"
            if stats.median is None
            else f"median {stats.median:.0f} ms, p95 {stats.p95:.0f} ms, max {stats.max:.0f} ms"
        )
        table.add_row(label, text)
    people = ", ".join(
        f"{p.name} ({', '.join(x for x in (p.major, p.year) if x) or 'no record'}; "
        f"{p.clips} clips, best {p.best_similarity:.2f})"
        for p in summary.people_seen
    )
    table.add_row("people seen", people or "-")
    extras = {
        "upload retries": summary.upload_retries,
        "clips dropped (spool full)": summary.clips_dropped,
        "frames not recorded (spool full, paused)": summary.frames_paused,
        "encode errors": summary.encode_errors,
        "results of other devices/sessions (left)": summary.foreign_results,
        "malformed messages (left for the DLQ)": summary.malformed_results,
        "duplicate results": summary.duplicate_results,
        "results of an earlier run": summary.earlier_run_results,
    }
    for label, value in extras.items():
        if value:
            table.add_row(label, str(value))
    if summary.capture_error:
        table.add_row("capture error", Text(summary.capture_error, "red"))
    return table


def bench_tables(figures: dict[str, Any], what: str) -> list[Table]:
    """``edge-capture bench``'s figures for people."""
    settings = figures["_settings"]
    table = Table(
        title=f"edge-capture encode cost ({what})",
        caption=f"encoder {settings['encoder']}, baseline {settings['baseline']}",
    )
    for column in ("mode", "encode fraction", "cameras/core", "KiB/clip", "baseline", "speed-up"):
        table.add_column(column, justify="right")
    for mode, row in figures.items():
        if mode.startswith("_"):
            continue
        table.add_row(
            mode,
            f"{row['encode_fraction'] * 100:.1f}%",
            str(row["cameras_per_core"]),
            f"{row['kbytes_per_clip']:.0f}",
            f"{row['baseline_encode_fraction'] * 100:.1f}%",
            f"{row['speedup_vs_baseline']:.1f}x",
        )
    return [table]
