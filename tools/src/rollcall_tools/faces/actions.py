"""What `tools faces enroll` and `tools faces import` do, apart from the command line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from face_model.library import ENROLLED_PREFIX, Face, identity_of
from rollcall_tools.errors import ConfigError
from rollcall_tools.faces.enroll import Embedded, embed_photos, photos
from rollcall_tools.faces.library import Library, new_id

if TYPE_CHECKING:
    from face_model import Recognizer


def check_name(name: str) -> str:
    """A person's name as results carry it (shared-schema's rule)."""
    from pydantic import TypeAdapter, ValidationError

    from shared_schema.student import PersonName

    try:
        return str(TypeAdapter(PersonName).validate_python(name))
    except ValidationError as exc:
        raise ConfigError(f"name {name!r}: {exc.errors()[0]['msg']}") from None


@dataclass(frozen=True)
class Enrollment:
    """What `tools faces enroll` did."""

    name: str
    enrolled: list[str]
    skipped: list[dict[str, Any]]
    has_record: bool
    notes: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "enrolled": self.enrolled,
            "skipped": self.skipped,
            "student_record": self.has_record,
            "notes": self.notes,
        }


def enroll_photos(
    library: Library,
    recognizer: Recognizer,
    name: str,
    paths: Sequence[Path],
    *,
    subject: bool = False,
) -> Enrollment:
    """Embed the one face of each photo, keep its chip in the face store, and enroll all of
    them as ``name`` in one change."""
    name = check_name(name)
    identity = identity_of(recognizer)
    assert identity is not None  # load_networks refuses detection-only artifacts
    listed = photos(paths)
    if not listed:
        raise ConfigError(f"no photos in {', '.join(map(str, paths))}")
    embedded: Embedded = embed_photos(recognizer, listed, subject=subject)
    faces: list[Face] = []
    for photo in embedded.faces:
        face_id = new_id()
        chip = f"{ENROLLED_PREFIX}{face_id}.jpg"
        faces.append(Face(face_id, name, photo.vector, identity, str(photo.path), chip=chip))
    if faces:
        library.add(faces)  # refuses another library's networks before any chip is written
        for face, photo in zip(faces, embedded.faces, strict=True):
            library.put_chip(face.chip, photo.chip)
    notes = [{"path": p, "note": n} for p, n in embedded.notes]
    return Enrollment(
        name, [f.source for f in faces], embedded.skipped_json(), library.has_record(name), notes
    )


def import_artifact(library: Library, artifact: Path) -> dict[str, int]:
    """Enroll the gallery of a `face-model export` artifact; embeddings per person."""
    from face_model import FaceModelError, Recognizer

    try:
        recognizer = Recognizer.load(artifact, threads=1)
    except FaceModelError as exc:
        raise ConfigError(f"{artifact}: {exc}") from None
    identity = identity_of(recognizer)
    gallery = recognizer.gallery
    if identity is None or gallery is None:
        raise ConfigError(f"{artifact}: a detection-only artifact has no gallery to import")
    faces = [
        Face(new_id(), label, vector, identity, source)
        for vector, label, source in zip(
            gallery.embeddings, gallery.labels, gallery.sources, strict=True
        )
    ]
    for face in faces:
        check_name(face.person)
    library.add(faces)
    return gallery.counts()
