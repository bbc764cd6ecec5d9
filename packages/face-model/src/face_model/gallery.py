"""Open-set gallery: enrolled embeddings per person, matched by cosine to person centroids."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from face_model.embed import l2_normalise
from face_model.errors import FaceModelError

DEFAULT_MARGIN = 0.03
METHODS = ("centroid", "knn", "hybrid")
DEFAULT_METHOD = "hybrid"
DEFAULT_K = 3


@dataclass(frozen=True)
class Match:
    """Best person for one embedding: identity None when below threshold or margin."""

    identity: str | None
    best: str | None
    similarity: float
    margin: float


class Gallery:
    """Embeddings (N x D, unit rows) with a person label and source path per row."""

    def __init__(self, embeddings: np.ndarray, labels: list[str], sources: list[str]) -> None:
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if embeddings.ndim != 2 or len(embeddings) != len(labels) or len(sources) != len(labels):
            raise ValueError(
                f"gallery: {len(labels)} labels, {len(sources)} sources "
                f"for embeddings of shape {embeddings.shape}"
            )
        self.embeddings = embeddings
        self.labels = list(labels)
        self.sources = list(sources)
        self._centroids: tuple[list[str], np.ndarray] | None = None

    @classmethod
    def empty(cls, dim: int) -> Gallery:
        """A gallery with nobody enrolled."""
        return cls(np.zeros((0, dim), dtype=np.float32), [], [])

    @property
    def dim(self) -> int:
        """Embedding length."""
        return int(self.embeddings.shape[1])

    @property
    def people(self) -> list[str]:
        """Enrolled people, sorted."""
        return sorted(set(self.labels))

    def counts(self) -> dict[str, int]:
        """Enrolled embeddings per person."""
        out: dict[str, int] = {}
        for label in self.labels:
            out[label] = out.get(label, 0) + 1
        return dict(sorted(out.items()))

    def add(self, person: str, embeddings: np.ndarray, sources: list[str]) -> None:
        """Enroll more embeddings of ``person``."""
        embeddings = np.asarray(embeddings, dtype=np.float32).reshape(-1, self.dim)
        if len(embeddings) != len(sources):
            raise ValueError("one source per embedding")
        self.embeddings = np.concatenate([self.embeddings, l2_normalise(embeddings)])
        self.labels = [*self.labels, *([person] * len(embeddings))]
        self.sources = [*self.sources, *sources]
        self._centroids = None

    def remove(self, person: str) -> int:
        """Forget ``person``; returns how many embeddings were removed."""
        keep = [i for i, label in enumerate(self.labels) if label != person]
        removed = len(self.labels) - len(keep)
        if removed == 0:
            raise FaceModelError(f"person {person!r} is not enrolled (enrolled: {self.people})")
        self.embeddings = self.embeddings[keep]
        self.labels = [self.labels[i] for i in keep]
        self.sources = [self.sources[i] for i in keep]
        self._centroids = None
        return removed

    def centroids(self) -> tuple[list[str], np.ndarray]:
        """Person names and their unit-length mean embeddings."""
        if self._centroids is None:
            people = self.people
            labels = np.asarray(self.labels)
            rows = [self.embeddings[labels == p].mean(0) for p in people]
            mat = l2_normalise(np.stack(rows)) if rows else np.zeros((0, self.dim), np.float32)
            self._centroids = (people, mat)
        return self._centroids

    def similarities(
        self, embeddings: np.ndarray, method: str = DEFAULT_METHOD, k: int = DEFAULT_K
    ) -> tuple[list[str], np.ndarray]:
        """Similarity of each embedding (rows) to each person (columns).

        ``centroid``: cosine to the person's mean embedding. ``knn``: mean of the ``k``
        highest cosines to the person's enrolled embeddings (robust when one person's
        photos form several clusters: lighting, glasses, or a mislabelled folder).
        ``hybrid``: the higher of the two.
        """
        embeddings = np.asarray(embeddings, dtype=np.float32).reshape(-1, self.dim)
        if method not in METHODS:
            raise ValueError(f"unknown matching method {method!r}; use one of {METHODS}")
        if method in ("centroid", "hybrid"):
            people, mat = self.centroids()
            centroid = embeddings @ mat.T
            if method == "centroid":
                return people, centroid
        people = self.people
        labels = np.asarray(self.labels)
        all_sims = embeddings @ self.embeddings.T
        out = np.zeros((len(embeddings), len(people)), dtype=np.float32)
        for j, person in enumerate(people):
            cols = all_sims[:, labels == person]
            top = min(k, cols.shape[1])
            out[:, j] = np.sort(cols, axis=1)[:, -top:].mean(axis=1)
        if method == "hybrid":
            out = np.maximum(out, centroid)
        return people, out

    def match(
        self,
        embeddings: np.ndarray,
        threshold: float,
        margin: float = DEFAULT_MARGIN,
        method: str = DEFAULT_METHOD,
        k: int = DEFAULT_K,
    ) -> list[Match]:
        """Best person per embedding; unknown below ``threshold`` or ``margin``."""
        people, sims = self.similarities(embeddings, method, k)
        out: list[Match] = []
        for row in sims:
            if not people:
                out.append(Match(None, None, 0.0, 0.0))
                continue
            clipped = np.clip(row, -1.0, 1.0)  # float error can give 1.0000001
            order = np.argsort(clipped)[::-1]
            best = float(clipped[order[0]])
            second = float(clipped[order[1]]) if len(order) > 1 else -1.0
            gap = best - second if len(order) > 1 else best
            known = best >= threshold and gap >= margin
            out.append(Match(people[order[0]] if known else None, people[order[0]], best, gap))
        return out

    def save(self, path: str | Path) -> None:
        """Write as .npz (no pickles)."""
        np.savez(
            Path(path),
            embeddings=self.embeddings.astype(np.float32),
            labels=np.asarray(self.labels, dtype=np.str_),
            sources=np.asarray(self.sources, dtype=np.str_),
        )

    @classmethod
    def load(cls, path: str | Path) -> Gallery:
        """Read a gallery written by :meth:`save`."""
        with np.load(Path(path), allow_pickle=False) as data:
            embeddings = data["embeddings"].astype(np.float32)
            labels = [str(x) for x in data["labels"]]
            sources = [str(x) for x in data["sources"]] if "sources" in data else []
        return cls(embeddings, labels, sources or [""] * len(labels))
