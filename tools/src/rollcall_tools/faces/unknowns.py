"""Unknown faces the handler kept, grouped into clusters (the same stranger across clips and
devices) by embedding distance, and what a person can do with a cluster: enroll it, dismiss
it, see it (a contact sheet)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from face_model.backbones import get_spec
from face_model.gallery import pairwise_similarity
from face_model.library import ENROLLED_PREFIX, UNKNOWN, Face, UnknownFace
from rollcall_tools.aws import aws_errors
from rollcall_tools.errors import ConfigError
from rollcall_tools.faces.library import Library, item_key

CLUSTER_ID_CHARS = 8
CLUSTER_BLOCK = 1024
SHEET_CHIP = 96
SHEET_PER_ROW = 8


@dataclass(frozen=True)
class Cluster:
    """Unknown faces of (by embedding distance) one person; its id is its first face's."""

    id: str
    faces: tuple[UnknownFace, ...]

    @property
    def first_seen(self) -> str:
        return min(f.seen for f in self.faces)

    @property
    def last_seen(self) -> str:
        return max(f.seen for f in self.faces)

    def to_json(self) -> dict[str, Any]:
        return {
            "cluster": self.id,
            "faces": len(self.faces),
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "devices": sorted({f.device for f in self.faces if f.device}),
            "keys": sorted({f.key for f in self.faces}),
            "closest": sorted({f.best for f in self.faces if f.best}),
        }


def cluster(faces: Sequence[UnknownFace]) -> list[Cluster]:
    """Single-linkage clusters, newest first: two faces are one person when they reach their
    backbone's default threshold, and the faces of one handler group (one person across the
    frames of one object) are one person; faces of other networks never join. A cluster's id
    is its oldest face's, so it stays while faces join it. Similarities are computed in
    blocks of :data:`CLUSTER_BLOCK` rows (10,000 faces: about 2 s and 40 MB)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    ordered = sorted(faces, key=lambda f: (f.seen, f.id))
    by_identity: dict[Any, list[int]] = {}
    for i, face in enumerate(ordered):
        by_identity.setdefault(face.identity, []).append(i)
    label = np.zeros(len(ordered), np.int64)
    labels_used = 0
    for identity, members in by_identity.items():
        spec = get_spec(identity.backbone)
        vectors = np.stack([ordered[i].vector for i in members]).astype(np.float32)
        squared = (vectors * vectors).sum(1)
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        for first in range(0, len(members), CLUSTER_BLOCK):
            block = vectors[first : first + CLUSTER_BLOCK]
            sims = pairwise_similarity(block, vectors, spec.metric, squared)
            r, c = np.nonzero(sims >= spec.default_threshold)
            rows.append(r + first)
            cols.append(c)
        groups: dict[str, list[int]] = {}
        for j, i in enumerate(members):
            groups.setdefault(ordered[i].group or ordered[i].id, []).append(j)
        for same in groups.values():  # a chain links one handler group's faces
            rows.append(np.asarray(same[1:], np.int64))
            cols.append(np.asarray(same[:-1], np.int64))
        r, c = np.concatenate(rows), np.concatenate(cols)
        graph = coo_matrix((np.ones(len(r), np.int8), (r, c)), shape=(len(members),) * 2)
        count, component = connected_components(graph, directed=False)
        label[members] = component + labels_used
        labels_used += count
    grouped: dict[int, list[UnknownFace]] = {}
    for face, which in zip(ordered, label.tolist(), strict=True):
        grouped.setdefault(which, []).append(face)  # oldest first within a cluster
    clusters = [Cluster(g[0].id[:CLUSTER_ID_CHARS], tuple(g)) for g in grouped.values()]
    return sorted(clusters, key=lambda c: c.last_seen, reverse=True)


def find_cluster(library: Library, cluster_id: str) -> Cluster:
    """The cluster ``cluster_id``; one that does not exist is a usage error (exit 2)."""
    clusters = cluster(library.unknowns())
    for found in clusters:
        if found.id == cluster_id:
            return found
    ids = ", ".join(c.id for c in clusters) or "none"
    raise ConfigError(f"no unknown-face cluster {cluster_id!r} (clusters: {ids})")


def enroll_cluster(library: Library, name: str, found: Cluster) -> int:
    """The cluster's faces become ``name``'s embeddings (their chips move to ``enrolled/``)."""
    faces = [
        Face(
            u.id,
            name,
            u.vector,
            u.identity,
            f"unknown:{u.key}",
            chip=f"{ENROLLED_PREFIX}{u.id}.jpg",
        )
        for u in found.faces
    ]
    library.add(faces, deletes=[item_key(UNKNOWN, u.id) for u in found.faces])
    for unknown, face in zip(found.faces, faces, strict=True):
        with aws_errors(f"keeping chip {unknown.chip}"):
            library.s3.copy_object(
                Bucket=library.store,
                Key=face.chip,
                CopySource={"Bucket": library.store, "Key": unknown.chip},
            )
    library.delete_chips(u.chip for u in found.faces)
    return len(faces)


def dismiss(library: Library, found: Cluster) -> int:
    """Forget the cluster's faces and their chips."""
    library.transact(deletes=[item_key(UNKNOWN, u.id) for u in found.faces])
    library.delete_chips(u.chip for u in found.faces)
    return len(found.faces)


def contact_sheet(library: Library, clusters: Sequence[Cluster], out: Path) -> None:
    """A PNG with one row per cluster: its id, then up to 8 of its chips."""
    from PIL import Image, ImageDraw

    label = 110
    width = label + SHEET_PER_ROW * SHEET_CHIP
    sheet = Image.new("RGB", (width, max(1, len(clusters)) * SHEET_CHIP), "white")
    draw = ImageDraw.Draw(sheet)
    for row, found in enumerate(clusters):
        top = row * SHEET_CHIP
        draw.text((6, top + 6), f"{found.id}\n{len(found.faces)} face(s)", fill="black")
        for col, face in enumerate(found.faces[:SHEET_PER_ROW]):
            with aws_errors(f"reading chip {face.chip}"):
                body = library.s3.get_object(Bucket=library.store, Key=face.chip)["Body"].read()
            chip = Image.open(io.BytesIO(body)).convert("RGB").resize((SHEET_CHIP, SHEET_CHIP))
            sheet.paste(chip, (label + col * SHEET_CHIP, top))
    sheet.save(out, "PNG")
