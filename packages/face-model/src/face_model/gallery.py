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


def pairwise_similarity(
    a: np.ndarray, b: np.ndarray, metric: Metric, b_squared: np.ndarray | None = None
) -> np.ndarray:
    """Similarity of each row of ``a`` to each row of ``b`` (len(a) x len(b));
    ``b_squared``: ``b``'s squared row norms, when known."""
    if metric == "cosine":
        return np.asarray(a @ b.T, dtype=np.float32)
    if b_squared is None:
        b_squared = (b * b).sum(1)
    squared = (a * a).sum(1)[:, None] + b_squared[None, :] - 2.0 * (a @ b.T)
    return np.asarray(1.0 - np.sqrt(np.maximum(squared, 0.0)), dtype=np.float32)


class Gallery:
    """Embeddings (N x D; unit rows for cosine) with a person label, source path and the
    source file's sha256 (``""`` where unknown: galleries written before it) per row."""

    def __init__(
        self,
        embeddings: np.ndarray,
        labels: list[str],
        sources: list[str],
        metric: Metric = "cosine",
        digests: list[str] | None = None,
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
        self.digests = list(digests) if digests is not None else [""] * len(labels)
        if len(self.digests) != len(labels):
            raise ValueError(f"gallery: {len(labels)} labels, {len(self.digests)} digests")
        self.negatives: dict[str, np.ndarray] = {}
        """Per person, embeddings of faces that are NOT that person (``tools faces reject``)."""
        self._centroids: _Index | None = None
        """Per-person index (names, centroids, rows), built on first match after a change."""

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

    def enrolled_digests(self, person: str) -> dict[str, str]:
        """sha256 -> source path of the files ``person`` was enrolled from (known ones)."""
        return {
            digest: source
            for label, source, digest in zip(self.labels, self.sources, self.digests, strict=True)
            if label == person and digest
        }

    def add(
        self,
        person: str,
        embeddings: np.ndarray,
        sources: list[str],
        digests: list[str] | None = None,
    ) -> None:
        """Enroll more embeddings of ``person`` (``digests``: their files' sha256)."""
        embeddings = np.asarray(embeddings, dtype=np.float32).reshape(-1, self.dim)
        digests = [""] * len(sources) if digests is None else digests
        if not len(embeddings) == len(sources) == len(digests):
            raise ValueError("one source and one digest per embedding")
        if self.metric == "cosine":
            embeddings = l2_normalise(embeddings)
        self.embeddings = np.concatenate([self.embeddings, embeddings])
        self.labels = [*self.labels, *([person] * len(embeddings))]
        self.sources = [*self.sources, *sources]
        self.digests = [*self.digests, *digests]
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
        self.digests = [self.digests[i] for i in keep]
        self._centroids = None
        return removed

    def _index(self) -> _Index:
        if self._centroids is None:
            self._centroids = _Index.build(self.embeddings, self.labels, self.metric)
        return self._centroids

    def centroids(self) -> tuple[list[str], np.ndarray]:
        """Person names and their mean embeddings (unit length for cosine)."""
        index = self._index()
        return index.people, index.centroids

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
        column = self._index().column
        for person, negatives in self.negatives.items():
            j = column.get(person)
            if j is not None and len(negatives) and len(embeddings):
                closest = pairwise_similarity(embeddings, negatives, self.metric).max(axis=1)
                sims[:, j] = np.where(closest >= sims[:, j], -1.0, sims[:, j])
        return people, sims

    def _similarities(
        self, embeddings: np.ndarray, method: str, k: int
    ) -> tuple[list[str], np.ndarray]:
        if method not in METHODS:
            raise ValueError(f"unknown matching method {method!r}; use one of {METHODS}")
        if method in ("centroid", "hybrid"):
            index = self._index()
            people, mat = index.people, index.centroids
            centroid = pairwise_similarity(embeddings, mat, self.metric, index.centroids_squared)
            if method == "centroid":
                return people, centroid
        index = self._index()
        people = index.people
        out = np.zeros((len(embeddings), len(people)), dtype=np.float32)
        if people and len(embeddings):
            # each person's rows side by side (padded with -inf), sorted: the top k are last
            all_sims = pairwise_similarity(
                embeddings, self.embeddings, self.metric, index.embeddings_squared
            )
            rows = all_sims[:, index.safe_rows]
            rows[:, ~index.valid] = -np.inf
            width = rows.shape[2]
            kk = min(k, width)
            if kk < width:  # only the top kk need to be in place (sorted among themselves)
                rows = np.partition(rows, width - kk, axis=2)
            rows[:, :, width - kk :].sort(axis=2)
            top = np.minimum(k, index.counts)
            keep = np.arange(width - kk, width)[None, :] >= (width - top)[:, None]
            out = (np.where(keep, rows[:, :, width - kk :], 0.0).sum(axis=2) / top).astype(
                np.float32
            )
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
            # the best two only (a partition, not a sort: libraries of thousands of people)
            top = int(np.argmax(clipped))
            best = float(clipped[top])
            gap = best - float(np.partition(clipped, -2)[-2]) if len(people) > 1 else best
            known = best >= threshold and gap >= margin
            out.append(Match(people[top] if known else None, people[top], best, gap))
        return out

    def save(self, path: str | Path) -> None:
        """Write as .npz (no pickles)."""
        np.savez(
            Path(path),
            embeddings=self.embeddings.astype(np.float32),
            labels=np.asarray(self.labels, dtype=np.str_),
            sources=np.asarray(self.sources, dtype=np.str_),
            digests=np.asarray(self.digests, dtype=np.str_),
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
            digests = [str(x) for x in data["digests"]] if "digests" in data else None
        return cls(
            embeddings,
            labels,
            sources or [""] * len(labels),
            metric,  # type: ignore[arg-type]
            digests,
        )


@dataclass(frozen=True)
class _Index:
    """The gallery grouped by person (vectorised: no loop over people when matching)."""

    people: list[str]
    column: dict[str, int]
    centroids: np.ndarray
    rows: np.ndarray
    """people x (most embeddings of one person): row numbers, -1 where padded."""
    valid: np.ndarray
    safe_rows: np.ndarray
    """``rows`` with the padding pointing at row 0 (masked by ``valid``)."""
    counts: np.ndarray
    centroids_squared: np.ndarray
    embeddings_squared: np.ndarray

    @classmethod
    def build(cls, embeddings: np.ndarray, labels: list[str], metric: Metric) -> _Index:
        dim = embeddings.shape[1]
        if not labels:
            empty, none = np.zeros((0, 1), np.int64), np.zeros(0, np.float32)
            return cls(
                [], {}, np.zeros((0, dim), np.float32), empty, empty >= 0, empty, none, none, none
            )
        names, inverse = np.unique(np.asarray(labels), return_inverse=True)
        counts = np.bincount(inverse, minlength=len(names))
        order = np.argsort(inverse, kind="stable")
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        sums = np.add.reduceat(embeddings[order].astype(np.float64), starts, axis=0)
        centroids = (sums / counts[:, None]).astype(np.float32)
        if metric == "cosine":
            centroids = l2_normalise(centroids)
        rank = np.arange(len(order)) - starts[inverse[order]]
        rows = np.full((len(names), int(counts.max())), -1, np.int64)
        rows[inverse[order], rank] = order
        people = [str(n) for n in names]
        return cls(
            people,
            {p: j for j, p in enumerate(people)},
            centroids,
            rows,
            rows >= 0,
            np.maximum(rows, 0),
            counts,
            (centroids * centroids).sum(1),
            (embeddings * embeddings).sum(1),
        )
