"""Latency figures as every report prints them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def latency_stats(values: Sequence[float]) -> dict[str, float | None]:
    """median, p95 and max (ms, one decimal); all None when empty."""
    if not values:
        return {"median": None, "p95": None, "max": None}
    arr = np.asarray(values, dtype=float)
    return {
        "median": round(float(np.median(arr)), 1),
        "p95": round(float(np.percentile(arr, 95)), 1),
        "max": round(float(arr.max()), 1),
    }
