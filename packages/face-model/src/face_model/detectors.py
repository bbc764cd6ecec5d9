"""The detectors face-model knows, by the name an artifact's manifest records.

Trying another detector adds its module (a class meeting :class:`~face_model.detect.Detector`
and a :class:`~face_model.detect.DetectorKind`) and one entry here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from face_model.detect import (
    DEFAULT_MIN_FACE_SIZE,
    DEFAULT_MIN_PROBABILITY,
    Detector,
    DetectorKind,
)
from face_model.mtcnn.kind import MTCNN

DETECTORS: dict[str, DetectorKind] = {kind.name: kind for kind in (MTCNN,)}
DEFAULT_DETECTOR = MTCNN.name
"""What an artifact whose manifest names no detector (older exports) holds."""


def detector_kind(name: str | None = None) -> DetectorKind:
    """The registered detector ``name`` (None: the default); ValueError naming the choices."""
    key = DEFAULT_DETECTOR if name is None else name
    try:
        return DETECTORS[key]
    except KeyError:
        raise ValueError(
            f"unknown detector {key!r}; this face-model knows: {', '.join(DETECTORS)}"
        ) from None


def builtin_networks(name: str | None = None) -> tuple[str, ...]:
    """The face-model cache networks detector ``name`` runs on."""
    return tuple(detector_kind(name).builtin.values())


def cached_networks(name: str | None = None) -> dict[str, Path]:
    """Detector ``name``'s verified network files from face-model's cache (built first when
    missing or out of date), keyed as its ``files``."""
    from face_model.model_cache import ensure

    return {key: ensure(cached) for key, cached in detector_kind(name).builtin.items()}


def create_detector(
    name: str | None = None,
    *,
    min_probability: float = DEFAULT_MIN_PROBABILITY,
    min_face_size: int = DEFAULT_MIN_FACE_SIZE,
    networks: Mapping[str, Path] | None = None,
    threads: int | None = None,
) -> Detector:
    """Detector ``name`` on ``networks`` (an artifact's files; None: face-model's cache)."""
    return detector_kind(name).factory()(
        min_probability=min_probability,
        min_face_size=min_face_size,
        networks=networks,
        threads=threads,
    )
