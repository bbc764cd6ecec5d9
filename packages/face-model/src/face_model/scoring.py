"""Embed probe images with a model directory or an exported artifact (the serving path)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from face_model.align import align_face
from face_model.backbones import BackboneSpec
from face_model.detect import Detection, Detector
from face_model.enrollment import subject_scores
from face_model.errors import DataError, UntrainedModelError
from face_model.gallery import Gallery
from face_model.images import read_rgb


@dataclass(frozen=True)
class Probe:
    """One test image: its embedding (None: unreadable or no face) and timing."""

    path: Path
    truth: str
    embedding: np.ndarray | None
    n_faces: int
    ms: float
    problem: str | None = None


@dataclass
class Scorer:
    """A gallery, its threshold/margin and a way to embed the faces in an image."""

    name: str
    spec: BackboneSpec
    pretrained: bool
    gallery: Gallery
    threshold: float
    margin: float
    matching: str
    k: int
    detector: Detector
    embed: Callable[[Sequence[np.ndarray]], np.ndarray]
    is_artifact: bool

    def probe(self, path: Path, truth: str) -> Probe:
        """Detect, align and embed the photo's subject (centre-weighted if several faces)."""
        start = time.perf_counter()
        try:
            image = read_rgb(path)
        except DataError as exc:
            return Probe(path, truth, None, 0, 0.0, f"unreadable: {exc}")
        dets: list[Detection] = self.detector.detect_image(image)
        if not dets:
            ms = (time.perf_counter() - start) * 1000
            return Probe(path, truth, None, 0, ms, "no face found")
        subject = dets[int(np.argmax(subject_scores(dets, image.shape)))]
        emb = self.embed([align_face(image, subject, self.spec)])[0]
        return Probe(path, truth, emb, len(dets), (time.perf_counter() - start) * 1000)


def load_scorer(model: str | Path) -> Scorer:
    """A Scorer for a model directory (model.json) or an artifact directory (manifest.json)."""
    from face_model.model_dir import CONFIG_FILE

    path = Path(model)
    if (path / CONFIG_FILE).is_file():
        from face_model.model_dir import load_model

        trained = load_model(path)
        cfg = trained.config
        from face_model.detectors import create_detector

        detector = create_detector(
            min_probability=cfg.min_detection_probability, min_face_size=cfg.min_face_size
        )
        return Scorer(
            name=str(path),
            spec=trained.spec,
            pretrained=cfg.pretrained,
            gallery=trained.gallery,
            threshold=cfg.threshold,
            margin=cfg.margin,
            matching=cfg.matching,
            k=cfg.k,
            detector=detector,
            embed=trained.embedder(),
            is_artifact=False,
        )
    from face_model.recognizer import Recognizer

    rec = Recognizer.load(path)
    if rec.spec is None or rec.gallery is None or rec.embedder is None:
        from face_model.errors import ArtifactError

        raise ArtifactError(f"{path} is a detection-only artifact: it recognizes nobody")
    return Scorer(
        name=str(path),
        spec=rec.spec,
        pretrained=rec.pretrained,
        gallery=rec.gallery,
        threshold=rec.threshold,
        margin=rec.margin,
        matching=rec.matching,
        k=rec.k,
        detector=rec.detector,
        embed=rec.embedder,
        is_artifact=True,
    )


def require_pretrained(scorer: Scorer, *, allow_untrained: bool) -> None:
    """Refuse to measure recognition with random weights unless explicitly allowed."""
    if not scorer.pretrained and not allow_untrained:
        raise UntrainedModelError(
            f"model {scorer.name} has untrained {scorer.spec.name} weights; its "
            "recognition figures would be meaningless (pass --allow-untrained to run anyway)"
        )
