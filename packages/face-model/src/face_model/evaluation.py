"""Accuracy, TAR/FAR, per-person precision/recall, unknown rejection; threshold calibration."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from face_model.scoring import Probe, Scorer

UNKNOWN = "(unknown)"
NO_FACE = "(no face)"


@dataclass(frozen=True)
class Scores:
    """Genuine (own centroid) and impostor (other centroids, unknown people) similarities."""

    genuine: np.ndarray
    impostor: np.ndarray


def run_probes(
    scorer: Scorer,
    people: Mapping[str, Sequence[Path]],
    progress: Callable[[], None] | None = None,
) -> list[Probe]:
    """Probe every image of every person."""
    probes = []
    for person, paths in people.items():
        for path in paths:
            probes.append(scorer.probe(path, person))
            if progress:
                progress()
    return probes


def score_distribution(scorer: Scorer, probes: Sequence[Probe]) -> Scores:
    """Per usable probe: genuine = similarity to its own person (enrolled people only);
    impostor = its highest similarity to anybody else (every person for unknown people).

    FAR is thus the open-set false-accept rate per probe: how often a face would be
    named as somebody it is not, had the threshold alone decided.
    """
    usable = [p for p in probes if p.embedding is not None]
    if not usable or not scorer.gallery.people:
        return Scores(np.zeros(0), np.zeros(0))
    people, sims = scorer.gallery.similarities(
        np.stack([p.embedding for p in usable]),  # type: ignore[misc]
        scorer.matching,
        scorer.k,
    )
    genuine, impostor = [], []
    for probe, row in zip(usable, sims, strict=True):
        others = [float(s) for person, s in zip(people, row, strict=True) if person != probe.truth]
        if probe.truth in people:
            genuine.append(float(row[people.index(probe.truth)]))
        if others:
            impostor.append(max(others))
    return Scores(np.asarray(genuine), np.asarray(impostor))


def threshold_for_far(impostor: np.ndarray, target_far: float) -> float:
    """Lowest threshold whose false-accept rate on ``impostor`` scores is <= ``target_far``."""
    if len(impostor) == 0:
        raise ValueError(
            "no impostor scores: calibration needs two enrolled people or an unknown person"
        )
    ranked = np.sort(impostor)[::-1]
    allowed = int(np.floor(target_far * len(ranked)))
    if allowed >= len(ranked):
        return float(ranked[-1])
    return float(np.nextafter(ranked[allowed], np.inf))


def calibrate(scorer: Scorer, probes: Sequence[Probe], target_far: float) -> dict[str, Any]:
    """Pick the threshold for ``target_far`` from held-out probes; report TAR/FAR there."""
    scores = score_distribution(scorer, probes)
    threshold = threshold_for_far(scores.impostor, target_far)
    return {
        "threshold": threshold,
        "target_far": target_far,
        "far": float(np.mean(scores.impostor >= threshold)),
        "tar": float(np.mean(scores.genuine >= threshold)) if len(scores.genuine) else None,
        "n_genuine": len(scores.genuine),
        "n_impostor": len(scores.impostor),
        "n_images": len(probes),
    }


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


def evaluate(
    scorer: Scorer, probes: Sequence[Probe], threshold: float | None = None
) -> dict[str, Any]:
    """The evaluation report (JSON-ready) of ``probes`` at ``threshold`` (default: shipped)."""
    threshold = scorer.threshold if threshold is None else threshold
    enrolled = set(scorer.gallery.people)
    usable = [p for p in probes if p.embedding is not None]
    matches = (
        scorer.gallery.match(
            np.stack([p.embedding for p in usable]),  # type: ignore[misc]
            threshold,
            scorer.margin,
            scorer.matching,
            scorer.k,
        )
        if usable
        else []
    )
    predicted: dict[int, str] = {}
    for probe, match in zip(usable, matches, strict=True):
        predicted[id(probe)] = match.identity or UNKNOWN
    rows = []
    for probe in probes:
        pred = predicted.get(id(probe), NO_FACE)
        truth = probe.truth if probe.truth in enrolled else UNKNOWN
        rows.append((probe, truth, pred))

    def correct(truth: str, pred: str) -> bool:
        return truth == pred or (truth == UNKNOWN and pred in (UNKNOWN, NO_FACE))

    known = [(t, p) for _, t, p in rows if t != UNKNOWN]
    unknown = [(t, p) for _, t, p in rows if t == UNKNOWN]
    scores = score_distribution(scorer, probes)
    labels = [*sorted(enrolled), UNKNOWN, NO_FACE]
    index = {name: i for i, name in enumerate(labels)}
    confusion = np.zeros((len(labels), len(labels)), dtype=int)
    for _, truth, pred in rows:
        confusion[index[truth], index[pred]] += 1
    per_person = {}
    for person in sorted(enrolled):
        tp = int(confusion[index[person], index[person]])
        predicted_as = int(confusion[:, index[person]].sum())
        actual = int(confusion[index[person]].sum())
        per_person[person] = {
            "precision": _rate(tp, predicted_as),
            "recall": _rate(tp, actual),
            "n_images": actual,
        }
    ms = [p.ms for p in probes if p.ms > 0]
    return {
        "model": scorer.name,
        "backbone": scorer.spec.name,
        "pretrained": scorer.pretrained,
        "threshold": threshold,
        "margin": scorer.margin,
        "matching": scorer.matching,
        "k": scorer.k,
        "n_images": len(probes),
        "n_known_images": len(known),
        "n_unknown_images": len(unknown),
        "accuracy": _rate(sum(correct(t, p) for _, t, p in rows), len(rows)),
        "identification_rate": _rate(sum(t == p for t, p in known), len(known)),
        "misidentification_rate": _rate(
            sum(p not in (t, UNKNOWN, NO_FACE) for t, p in known), len(known)
        ),
        "unknown_rejection": _rate(sum(p in (UNKNOWN, NO_FACE) for _, p in unknown), len(unknown)),
        "tar": float(np.mean(scores.genuine >= threshold)) if len(scores.genuine) else None,
        "far": float(np.mean(scores.impostor >= threshold)) if len(scores.impostor) else None,
        "n_genuine": len(scores.genuine),
        "n_impostor": len(scores.impostor),
        "per_person": per_person,
        "no_face": [str(p.path) for p in probes if p.problem == "no face found"],
        "unreadable": [str(p.path) for p in probes if p.problem and p.problem != "no face found"],
        "multi_face": [str(p.path) for p in probes if p.n_faces > 1],
        "errors": [
            {"path": str(pr.path), "truth": t, "predicted": p}
            for pr, t, p in rows
            if not correct(t, p)
        ],
        "mean_ms_per_image": float(np.mean(ms)) if ms else None,
        "confusion": {"labels": labels, "matrix": confusion.tolist()},
    }


def plot_confusion(report: Mapping[str, Any], path: str | Path) -> Path:
    """Write the report's confusion matrix as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = report["confusion"]["labels"]
    matrix = np.asarray(report["confusion"]["matrix"])
    size = max(4.0, 0.45 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    acc = report.get("accuracy")
    ax.set_title(
        f"{report['backbone']}, threshold {report['threshold']:.3f}"
        + (f"\naccuracy {acc:.1%} of {report['n_images']} images" if acc is not None else ""),
        fontsize=9,
    )
    for (i, j), v in np.ndenumerate(matrix):
        if v:
            color = "white" if v > matrix.max() / 2 else "black"
            ax.text(j, i, str(v), ha="center", va="center", fontsize=7, color=color)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_report(report: dict[str, Any], model: Path, report_dir: Path | None) -> Path:
    """Write ``report.json`` and ``confusion.png`` (recording both paths in ``report``) into
    ``report_dir``, else ``MODEL/evaluation``, else ``./evaluation`` for an exported artifact
    (which is shipped as it is: never written into); the folder written."""
    is_artifact = (model / "manifest.json").is_file()
    target = report_dir or (Path.cwd() / "evaluation" if is_artifact else model / "evaluation")
    target.mkdir(parents=True, exist_ok=True)
    report["confusion_png"] = str(plot_confusion(report, target / "confusion.png"))
    report["report_json"] = str(target / "report.json")
    (target / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return target
