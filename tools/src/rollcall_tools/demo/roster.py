"""The demo's single enrolled person: the astronaut of ``skimage.data.astronaut()``."""

from __future__ import annotations

from shared_schema import StudentRecord

DEMO_PERSON = StudentRecord(
    name="eileen_collins",
    major="aerospace_engineering",
    year="senior",
    id=1,
)
"""``skimage.data.astronaut()`` is NASA's public-domain portrait of Eileen Collins."""
