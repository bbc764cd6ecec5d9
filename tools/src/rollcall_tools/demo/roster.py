"""The bundled demo's roster: the two people of the demo video."""

from __future__ import annotations

from shared_schema import StudentRecord

DEMO_ROSTER = (
    StudentRecord(name="eileen_collins", major="aerospace_engineering", year="senior", id=1),
    StudentRecord(name="grace_hopper", major="mathematics", year="graduate", id=2),
)
"""Made-up records for NASA's portrait of Eileen Collins (``skimage.data.astronaut()``) and
the portrait of Grace Hopper in matplotlib's sample data."""
