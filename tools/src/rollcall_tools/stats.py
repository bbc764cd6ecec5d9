"""Latency figures as every report prints them: edge-capture's definition (median, p95 by
linear interpolation, max; one decimal), the only one in rollcall."""

from __future__ import annotations

from collections.abc import Sequence

from edge_capture import LatencyStats


def latency_stats(values: Sequence[float]) -> dict[str, float | None]:
    """median, p95 and max (ms, one decimal); all None when empty."""
    stats = LatencyStats.of(list(values))
    return {"median": stats.median, "p95": stats.p95, "max": stats.max}
