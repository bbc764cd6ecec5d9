"""Faces from photos, by the serving code's own detection, alignment and embedding: one face
per photo (a photo with several faces, or none, is skipped and said)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from face_model.library import chip_jpeg
from rollcall_tools.errors import ConfigError

if TYPE_CHECKING:
    from face_model import Recognizer

PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".pgm", ".gif", ".tif"})


@dataclass(frozen=True)
class PhotoFace:
    """The one face of a photo: its embedding and its aligned chip (JPEG)."""

    path: Path
    vector: np.ndarray
    chip: bytes


@dataclass
class Embedded:
    """What a set of photos gave: one face each, or why it was skipped."""

    faces: list[PhotoFace] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)

    def skipped_json(self) -> list[dict[str, Any]]:
        return [{"path": p, "reason": r} for p, r in self.skipped]


def photos(paths: Sequence[Path]) -> list[Path]:
    """The photos named, folders expanded (their photos, sorted); a missing path is a usage
    error."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)
        elif path.is_file():
            found.append(path)
        else:
            raise ConfigError(f"{path}: no such file or folder")
    return found


def embed_photos(
    recognizer: Recognizer, paths: Sequence[Path], *, subject: bool = False
) -> Embedded:
    """Detect, align and embed the one face of each photo (``subject``: of a photo with
    several faces, its subject: face-model's centre-weighted size rule; said in ``notes``)."""
    from face_model.align import align_face
    from face_model.enrollment import subject_scores
    from face_model.errors import DataError
    from face_model.images import read_rgb

    spec, embedder = recognizer.spec, recognizer.embedder
    if spec is None or embedder is None:
        raise ConfigError("the recognizer is detection-only: it has no network to embed faces")
    out = Embedded()
    for path in paths:
        try:
            image = read_rgb(path)
        except DataError as exc:
            out.skipped.append((str(path), f"unreadable: {exc}"))
            continue
        found = recognizer.detector.detect_image(image)
        if not found or (len(found) > 1 and not subject):
            why = "no face found" if not found else f"{len(found)} faces (one per photo)"
            out.skipped.append((str(path), why))
            continue
        chosen = found[int(np.argmax(subject_scores(found, image.shape)))]
        if len(found) > 1:
            box = ", ".join(f"{v:.0f}" for v in chosen.box)
            out.notes.append((str(path), f"{len(found)} faces: enrolled the subject at ({box})"))
        crop = align_face(image, chosen, spec)
        vector = np.asarray(embedder([crop])[0], dtype=np.float32)
        out.faces.append(PhotoFace(path, vector, chip_jpeg(crop)))
    return out
