"""Open-set gallery: enrolled embeddings per person, matched to person centroids and nearest
neighbours.

Similarity is the cosine for cosine backbones and ``1 - Euclidean distance`` for Euclidean
ones (dlib: its distance threshold 0.6 is similarity 0.4); higher is more alike either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from face_model.backbones import Metric
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


def pairwise_similarity(a: np.ndarray, b: np.ndarray, metric: Metric) -> np.ndarray:
    """Similarity of each row of ``a`` to each row of ``b`` (len(a) x len(b))."""
    if metric == "cosine":
        return np.asarray(a @ b.T, dtype=np.float32)
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return np.asarray(1.0 - np.sqrt(np.maximum(squared, 0.0)), dtype=np.float32)


class Gallery:
    """Embeddings (N x D; unit rows for cosine) with a person label and source path per row."""

    def __init__(
        self,
        embeddings: np.ndarray,
        labels: list[str],
        sources: list[str],
        metric: Metric = "cosine",
    ) -> None:
        if metric not in ("cosine", "euclidean"):
            raise ValueError(f"unknown gallery metric {metric!r}")
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if embeddings.ndim != 2 or len(embeddings) != len(labels) or len(sources) != len(labels):
            raise ValueError(
                f"gallery: {len(labels)} labels, {len(sources)} sources "
                f"for embeddings of shape {embeddings.shape}"
            )
        self.embeddings = embeddings
        self.metric: Metric = metric
        self.labels = list(labels)
        self.sources = list(sources)
        self.negatives: dict[str, np.ndarray] = {}
        """Per person, embeddings of faces that are NOT that person (``tools faces reject``)."""
        self._centroids: tuple[list[str], np.ndarray] | None = None

    @classmethod
    def empty(cls, dim: int, metric: Metric = "cosine") -> Gallery:
        """A gallery with nobody enrolled."""
        return cls(np.zeros((0, dim), dtype=np.float32), [], [], metric)

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
        if self.metric == "cosine":
            embeddings = l2_normalise(embeddings)
        self.embeddings = np.concatenate([self.embeddings, embeddings])
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
        """Person names and their mean embeddings (unit length for cosine)."""
        if self._centroids is None:
            people = self.people
            labels = np.asarray(self.labels)
            rows = [self.embeddings[labels == p].mean(0) for p in people]
            if not rows:
                mat = np.zeros((0, self.dim), np.float32)
            elif self.metric == "cosine":
                mat = l2_normalise(np.stack(rows))
            else:
                mat = np.stack(rows).astype(np.float32)
            self._centroids = (people, mat)
        return self._centroids

    def similarities(
        self, embeddings: np.ndarray, method: str = DEFAULT_METHOD, k: int = DEFAULT_K
    ) -> tuple[list[str], np.ndarray]:
        """Similarity of each embedding (rows) to each person (columns).

        ``centroid``: similarity to the person's mean embedding. ``knn``: mean of the ``k``
        highest similarities to the person's enrolled embeddings (robust when one person's
        photos form several clusters: lighting, glasses, or a mislabelled folder).
        ``hybrid``: the higher of the two. A person's score is -1 where the embedding is at
        least as close to one of the person's negative examples as the score itself.
        """
        embeddings = np.asarray(embeddings, dtype=np.float32).reshape(-1, self.dim)
        people, sims = self._similarities(embeddings, method, k)
        for j, person in enumerate(people):
            negatives = self.negatives.get(person)
            if negatives is not None and len(negatives) and len(embeddings):
                closest = pairwise_similarity(embeddings, negatives, self.metric).max(axis=1)
                sims[:, j] = np.where(closest >= sims[:, j], -1.0, sims[:, j])
        return people, sims

    def _similarities(
        self, embeddings: np.ndarray, method: str, k: int
    ) -> tuple[list[str], np.ndarray]:
        if method not in METHODS:
            raise ValueError(f"unknown matching method {method!r}; use one of {METHODS}")
        if method in ("centroid", "hybrid"):
            people, mat = self.centroids()
            centroid = pairwise_similarity(embeddings, mat, self.metric)
            if method == "centroid":
                return people, centroid
        people = self.people
        labels = np.asarray(self.labels)
        all_sims = pairwise_similarity(embeddings, self.embeddings, self.metric)
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
            clipped = np.clip(row, -1.0, 1.0)  # float error (cosine), far faces (Euclidean)
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
            metric=np.asarray(self.metric, dtype=np.str_),
        )

    @classmethod
    def load(cls, path: str | Path) -> Gallery:
        """Read a gallery written by :meth:`save`."""
        with np.load(Path(path), allow_pickle=False) as data:
            embeddings = data["embeddings"].astype(np.float32)
            labels = [str(x) for x in data["labels"]]
            sources = [str(x) for x in data["sources"]] if "sources" in data else []
            metric = str(data["metric"]) if "metric" in data else "cosine"
        return cls(embeddings, labels, sources or [""] * len(labels), metric)  # type: ignore[arg-type]
