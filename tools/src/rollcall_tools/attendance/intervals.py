"""Sightings merged into presence intervals, with a gap tolerance.

The default tolerance agrees with edge-capture's motion gate: a person who sits still shows
no motion, and is re-confirmed only by the keep-alive clip the gate uploads every
``keepalive_s`` (10 s). :data:`DEFAULT_GAP_S` lets :data:`MISSED_KEEPALIVES` of those clips
in a row miss the face (turned away, a low vote) before a stay is split in two.
"""

from __future__ import annotations

from collections.abc import Iterable

from edge_capture.gate import GateSettings

MISSED_KEEPALIVES = 5
"""Keep-alive clips in a row that may miss a still person without splitting their stay."""
DEFAULT_GAP_S = (MISSED_KEEPALIVES + 1) * GateSettings().keepalive_s
"""Sightings at most this far apart are one stay (60 s with the gate's 10 s keep-alive)."""

Interval = tuple[int, int]
"""``(from_ms, to_ms)``, epoch milliseconds."""


def merge(spans: Iterable[Interval], gap_ms: int) -> list[Interval]:
    """``spans`` (in any order) merged where they overlap or lie at most ``gap_ms`` apart."""
    merged: list[Interval] = []
    for start, until in sorted(spans):
        end = max(start, until)
        if merged and start - merged[-1][1] <= gap_ms:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def total_ms(intervals: Iterable[Interval]) -> int:
    """The time the intervals cover (they do not overlap: :func:`merge`'s output)."""
    return sum(end - start for start, end in intervals)
