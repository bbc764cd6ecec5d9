"""The face library's storage schema, shared by its writer (``tools faces``) and its reader
(cloud-handler): one DynamoDB table, items in DynamoDB's attribute-value form.

Partitions (hash key ``pk``, range key ``sk``):

* ``meta`` / ``version``: the library's version, a counter every change increments in the
  same transaction as the change itself (readers poll this one item);
* ``embedding`` / ``<id>``: one enrolled embedding (``person``, ``backbone``, ``embedder``
  sha256, ``source``, ``created``, ``vector``: float32 little-endian bytes);
* ``negative`` / ``<id>``: one "this is not ``person``" example, same fields;
* ``unknown`` / ``<id>``: one face the handler could not name (``key``, ``device``,
  ``seen``, ``similarity``, ``best``, ``chip``, ``expires``: the DynamoDB TTL).

A reader loads a partition with a Query (never a Scan) only when the version changed.
Embeddings of another backbone or embedder file are refused, never mixed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from face_model.errors import FaceModelError

if TYPE_CHECKING:
    from face_model.gallery import Gallery
    from face_model.recognizer import Recognizer

META, VERSION = "meta", "version"
EMBEDDING, NEGATIVE, UNKNOWN = "embedding", "negative", "unknown"
TTL_ATTRIBUTE = "expires"
"""The unknown faces' expiry (epoch seconds), the table's DynamoDB TTL attribute."""
VERSION_KEY: dict[str, Any] = {"pk": {"S": META}, "sk": {"S": VERSION}}
ENROLLED_PREFIX = "enrolled/"
UNKNOWN_PREFIX = "unknown/"
"""Key prefixes in the face store (the private chips bucket)."""
TRANSACTION_ITEMS = 100
"""DynamoDB's limit of actions per TransactWriteItems."""


class LibraryError(FaceModelError):
    """The library holds something this recognizer cannot use."""


@dataclass(frozen=True)
class Identity:
    """Which networks made an embedding: embeddings are comparable only within one."""

    backbone: str
    embedder: str
    """sha256 of the embedding network's ONNX file."""

    def describe(self) -> str:
        return f"{self.backbone} (embedder sha256 {self.embedder[:12]})"


def identity_of(recognizer: Recognizer) -> Identity | None:
    """The networks of a loaded recognizer (None: detection only, it embeds nothing)."""
    if recognizer.spec is None:
        return None
    from face_model.artifact import ONNX_FILE

    files = recognizer.manifest.get("files", {})
    return Identity(recognizer.backbone, str(files.get(ONNX_FILE, "")))


CHIP_QUALITY = 85


def chip_jpeg(crop: np.ndarray) -> bytes:
    """An aligned face chip as a small JPEG (what the face store keeps)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(crop, dtype=np.uint8)).save(buffer, "JPEG", quality=CHIP_QUALITY)
    return buffer.getvalue()


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def encode_vector(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def decode_vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")


@dataclass(frozen=True)
class Face:
    """One embedding item of the library (enrolled or negative)."""

    id: str
    person: str
    vector: np.ndarray
    identity: Identity
    source: str = ""
    created: str = field(default_factory=now_iso)
    chip: str = ""
    """The face store key of its aligned chip ("" when none was kept)."""

    def item(self, partition: str = EMBEDDING) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": {"S": partition},
            "sk": {"S": self.id},
            "person": {"S": self.person},
            "backbone": {"S": self.identity.backbone},
            "embedder": {"S": self.identity.embedder},
            "source": {"S": self.source},
            "created": {"S": self.created},
            "vector": {"B": encode_vector(self.vector)},
        }
        if self.chip:
            item["chip"] = {"S": self.chip}
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Face:
        return cls(
            id=item["sk"]["S"],
            person=item["person"]["S"],
            vector=decode_vector(item["vector"]["B"]),
            identity=Identity(item["backbone"]["S"], item["embedder"]["S"]),
            source=item.get("source", {}).get("S", ""),
            created=item.get("created", {}).get("S", ""),
            chip=item.get("chip", {}).get("S", ""),
        )


@dataclass(frozen=True)
class UnknownFace:
    """A face the handler could not name, kept for a while."""

    id: str
    key: str
    device: str | None
    seen: str
    similarity: float
    best: str | None
    vector: np.ndarray
    identity: Identity
    chip: str
    expires: int
    group: str = ""
    """Faces of one clip at one place across its frames share a group: one person."""

    def item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": {"S": UNKNOWN},
            "sk": {"S": self.id},
            "key": {"S": self.key},
            "seen": {"S": self.seen},
            "similarity": {"N": f"{self.similarity:.4f}"},
            "backbone": {"S": self.identity.backbone},
            "embedder": {"S": self.identity.embedder},
            "vector": {"B": encode_vector(self.vector)},
            "chip": {"S": self.chip},
            TTL_ATTRIBUTE: {"N": str(self.expires)},
            "group": {"S": self.group or self.id},
        }
        if self.device:
            item["device"] = {"S": self.device}
        if self.best:
            item["best"] = {"S": self.best}
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> UnknownFace:
        return cls(
            id=item["sk"]["S"],
            key=item["key"]["S"],
            device=item.get("device", {}).get("S"),
            seen=item["seen"]["S"],
            similarity=float(item["similarity"]["N"]),
            best=item.get("best", {}).get("S"),
            vector=decode_vector(item["vector"]["B"]),
            identity=Identity(item["backbone"]["S"], item["embedder"]["S"]),
            chip=item.get("chip", {}).get("S", ""),
            expires=int(item.get(TTL_ATTRIBUTE, {}).get("N", "0")),
            group=item.get("group", {}).get("S", item["sk"]["S"]),
        )


def version_of(item: Mapping[str, Any] | None) -> int:
    """The version item's counter (0: nothing was ever enrolled)."""
    if not item:
        return 0
    return int(item.get(VERSION, {}).get("N", "0"))


def bump_version(table: str) -> dict[str, Any]:
    """The TransactWriteItems action that increments the version (and records when)."""
    return {
        "Update": {
            "TableName": table,
            "Key": VERSION_KEY,
            "UpdateExpression": "ADD #v :one SET #c = :now",
            "ExpressionAttributeNames": {"#v": VERSION, "#c": "changed"},
            "ExpressionAttributeValues": {":one": {"N": "1"}, ":now": {"S": now_iso()}},
        }
    }


@dataclass(frozen=True)
class Refused:
    """Embeddings left out because another network made them."""

    count: int
    identities: tuple[Identity, ...]

    def message(self, own: Identity) -> str:
        others = ", ".join(i.describe() for i in self.identities)
        return (
            f"face library: refused {self.count} embedding(s) made by {others}; this "
            f"recognizer is {own.describe()}: enroll those people again with these networks"
        )


def build_gallery(
    faces: Iterable[Face],
    negatives: Iterable[Face],
    own: Identity,
    *,
    dim: int,
    metric: str,
) -> tuple[Gallery, Refused]:
    """The gallery of the library's items made by ``own`` networks, with their negative
    examples; everything else is counted as refused."""
    from face_model.gallery import Gallery

    kept: list[Face] = []
    refused: list[Face] = []
    for face in faces:
        (kept if face.identity == own and face.vector.size == dim else refused).append(face)
    gallery = Gallery(
        np.stack([f.vector for f in kept]) if kept else np.zeros((0, dim), np.float32),
        [f.person for f in kept],
        [f.source for f in kept],
        metric,  # type: ignore[arg-type]
    )
    by_person: dict[str, list[np.ndarray]] = {}
    for face in negatives:
        if face.identity == own and face.vector.size == dim:
            by_person.setdefault(face.person, []).append(face.vector)
        else:
            refused.append(face)
    gallery.negatives = {p: np.stack(v).astype(np.float32) for p, v in by_person.items()}
    identities = tuple(sorted({f.identity for f in refused}, key=lambda i: i.describe()))
    return gallery, Refused(len(refused), identities)


def check_identity(library: Identity | None, own: Identity) -> None:
    """Refuse to write embeddings of ``own`` networks into a library of others."""
    if library is not None and library != own:
        raise LibraryError(
            f"the face library holds embeddings of {library.describe()}, these networks are "
            f"{own.describe()}: use the same artifact as the handler (--model-dir)"
        )
