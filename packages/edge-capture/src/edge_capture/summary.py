"""What a session reports: per-clip outcomes, latency statistics, people seen; JSON, JSONL, plot."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class PersonInClip:
    """One identified person in one clip, with the academic record when the handler had it."""

    name: str
    similarity: float
    major: str | None = None
    year: str | None = None


@dataclass(frozen=True)
class ClipOutcome:
    """What became of one clip.

    ``status`` is the result's status (``recognized``, ``unknown``, ``no_face``, ``error``)
    or, with no result, ``missing`` (uploaded or not, nothing came back) or ``dropped``
    (deleted from a full spool before upload). Times are epoch seconds; latencies in ms.
    """

    key: str
    seq: int
    status: str
    resumed: bool = False
    """The clip was recorded by an earlier run and found in the spool at start-up."""
    gate_reason: str | None = None
    """Why the gate let the clip through: ``first``, ``motion``, ``keep-alive`` or ``off``
    (None for a resumed clip)."""
    bytes: int = 0
    capture_end: float | None = None
    uploaded_at: float | None = None
    result_at: float | None = None
    upload_attempts: int = 0
    people: list[PersonInClip] = field(default_factory=list)
    unknown_faces: int = 0
    error: str | None = None
    handler_ms: float | None = None
    capture_to_upload_ms: float | None = None
    capture_to_result_ms: float | None = None
    upload_to_result_ms: float | None = None
    result: dict[str, Any] | None = None
    """The result message as received (JSON form), when there was one."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class LatencyStats:
    """Median, 95th percentile and maximum of a list of latencies (ms), and how many."""

    count: int = 0
    median: float | None = None
    p95: float | None = None
    max: float | None = None

    @classmethod
    def of(cls, values: list[float]) -> LatencyStats:
        """Statistics of ``values`` (all None when empty)."""
        if not values:
            return cls()
        arr = np.asarray(values, dtype=float)
        return cls(
            count=len(values),
            median=round(float(np.median(arr)), 1),
            p95=round(float(np.percentile(arr, 95)), 1),
            max=round(float(arr.max()), 1),
        )


@dataclass(frozen=True)
class PersonSeen:
    """One person across the session."""

    name: str
    clips: int
    best_similarity: float
    major: str | None = None
    year: str | None = None


@dataclass(frozen=True)
class SessionSummary:
    """The end-of-session report (see the README for every field).

    ``clips_captured`` counts every clip cut from this run's video: those the gate let
    through (each with an outcome, its key and, if uploaded, its latencies) plus
    ``clips_skipped``, which were never spooled, uploaded or answered and so are never
    missing. ``upload_line`` is the one-line account, "uploaded N of M clips (gate: motion)".
    """

    device_id: str
    session_id: str
    bucket: str
    source: str
    started_at: float
    ended_at: float
    clips_captured: int
    clips_resumed: int
    clips_uploaded: int
    clips_answered: int
    clips_dropped: int
    missing_keys: list[str]
    latency_ms: LatencyStats
    """Capture end -> result received, clips of this run only."""
    upload_to_result_ms: LatencyStats
    capture_to_upload_ms: LatencyStats
    people_seen: list[PersonSeen]
    outcomes: list[ClipOutcome]
    upload_retries: int = 0
    frames_paused: int = 0
    """Frames not recorded because the spool was full under the ``pause`` policy."""
    encode_errors: int = 0
    foreign_results: int = 0
    """Distinct results of other devices or sessions seen (left on the queue)."""
    malformed_results: int = 0
    """Distinct messages that were not valid results (left on the queue for its DLQ)."""
    duplicate_results: int = 0
    earlier_run_results: int = 0
    """Results for this device and session whose clip this run never saw (a run before a crash)."""
    capture_error: str | None = None
    interrupted: bool = False
    gate: str = "off"
    """The gate mode of this run: ``motion`` or ``off``."""
    clips_skipped: int = 0
    """Clips of this run the gate skipped (no motion, no keep-alive due)."""
    gate_reasons: dict[str, int] = field(default_factory=dict)
    """Clips of this run let through, by reason (``first``, ``motion``, ``keep-alive``, ``off``)."""

    @property
    def upload_line(self) -> str:
        """``"uploaded N of M clips (gate: motion)"``: S3-confirmed clips of this run of all
        clips this run captured. With clips resumed from an earlier run's spool, N and M
        count them too (N is ``clips_uploaded``), split in brackets: ``"uploaded 11 of 11
        clips (0 of 0 captured, gate: off; 11 of 11 resumed from the spool)"``."""
        fresh = sum(1 for o in self.outcomes if not o.resumed and o.uploaded_at is not None)
        if not self.clips_resumed:
            return f"uploaded {fresh} of {self.clips_captured} clips (gate: {self.gate})"
        total = self.clips_captured + self.clips_resumed
        return (
            f"uploaded {self.clips_uploaded} of {total} clips ({fresh} of "
            f"{self.clips_captured} captured, gate: {self.gate}; "
            f"{self.clips_uploaded - fresh} of {self.clips_resumed} resumed from the spool)"
        )

    @property
    def clips_missing(self) -> int:
        """Clips with no result (including dropped ones)."""
        return len(self.missing_keys)

    @property
    def ok(self) -> bool:
        """No clip went missing and capture did not fail."""
        return not self.missing_keys and self.capture_error is None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (``clips_missing`` and ``upload_line`` included)."""
        data = asdict(self)
        data["clips_missing"] = self.clips_missing
        data["upload_line"] = self.upload_line
        return data

    def to_json(self, *, indent: int | None = 2, outcomes: bool = True) -> str:
        """The summary as JSON."""
        data = self.to_dict()
        if not outcomes:
            data.pop("outcomes")
        return json.dumps(data, indent=indent, default=str)


def write_results_jsonl(summary: SessionSummary, path: Path) -> int:
    """Every clip's outcome as one JSON line; returns the number of lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for outcome in summary.outcomes:
            fh.write(json.dumps(outcome.to_dict(), default=str) + "\n")
    return len(summary.outcomes)


def plot_latency(summary: SessionSummary, path: Path) -> None:
    """Histogram of capture-end->result and upload->result latencies, written to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fresh = [o for o in summary.outcomes if not o.resumed]
    capture = [o.capture_to_result_ms for o in fresh if o.capture_to_result_ms is not None]
    upload = [o.upload_to_result_ms for o in fresh if o.upload_to_result_ms is not None]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    try:
        if capture or upload:
            values = capture + upload
            bins = np.linspace(0, max(values) * 1.05 + 1, 40).tolist()
            ax.hist(
                capture, bins=bins, alpha=0.6, label=f"capture end -> result (n={len(capture)})"
            )
            ax.hist(upload, bins=bins, alpha=0.6, label=f"upload done -> result (n={len(upload)})")
            stats = summary.latency_ms
            if stats.median is not None:
                ax.axvline(
                    stats.median, color="k", linestyle="--", label=f"median {stats.median} ms"
                )
                ax.axvline(stats.p95 or 0, color="r", linestyle=":", label=f"p95 {stats.p95} ms")
            ax.legend()
        else:
            ax.text(0.5, 0.5, "no results", ha="center", va="center", transform=ax.transAxes)
        ax.set_xlabel("latency (ms)")
        ax.set_ylabel("clips")
        ax.set_title(
            f"rollcall {summary.device_id}/{summary.session_id}: "
            f"{summary.clips_answered}/{len(summary.outcomes)} answered"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100, bbox_inches="tight")
    finally:
        plt.close(fig)
