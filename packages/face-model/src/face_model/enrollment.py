"""Turn a person's photos into gallery embeddings, choosing the right face in group photos."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from face_model.align import align_face
from face_model.backbones import BackboneSpec
from face_model.detect import Detection, Detector
from face_model.embed import Embedder
from face_model.errors import DataError, ImageTooLargeError
from face_model.images import read_rgb
from face_model.weights import sha256_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageIssue:
    """An image that was skipped or needed a choice: kind is unreadable, too-large, no-face,
    multi-face or duplicate."""

    path: str
    kind: str
    detail: str


@dataclass
class FaceCandidates:
    """The faces found in one image and their embeddings."""

    path: Path
    detections: list[Detection]
    embeddings: np.ndarray
    shape: tuple[int, ...] = ()
    crops: list[np.ndarray] = field(default_factory=list)


@dataclass
class PersonFaces:
    """The chosen embedding per usable image of one person, plus issues."""

    person: str
    embeddings: np.ndarray
    sources: list[str]
    issues: list[ImageIssue] = field(default_factory=list)
    crops: list[np.ndarray] = field(default_factory=list)  # the chosen aligned face per image


def content_digest(path: Path) -> str:
    """sha256 of the file's bytes; ``""`` when it cannot be read (find_faces reports it)."""
    try:
        return sha256_file(path)
    except OSError:
        return ""


def skip_duplicates(
    person: str, paths: Sequence[Path], enrolled: dict[str, str]
) -> tuple[list[Path], dict[str, str], list[ImageIssue]]:
    """(new paths, their sha256 by path, issues): a file whose content (sha256) is already
    enrolled for ``person`` (``enrolled``: sha256 -> source), or given twice, is skipped."""
    seen = dict(enrolled)
    fresh: list[Path] = []
    digests: dict[str, str] = {}
    issues: list[ImageIssue] = []
    for path in paths:
        digest = content_digest(path)
        if digest and digest in seen:
            detail = f"same content as {seen[digest]}, already enrolled for {person}; skipped"
            issues.append(ImageIssue(str(path), "duplicate", detail))
            continue
        if digest:
            seen[digest] = str(path)
        fresh.append(path)
        digests[str(path)] = digest
    return fresh, digests, issues


def find_faces(
    paths: Sequence[Path], detector: Detector, spec: BackboneSpec, embed: Embedder
) -> tuple[list[FaceCandidates], list[ImageIssue]]:
    """Detect and embed every face in each image; unreadable, too large and faceless images
    are issues."""
    found: list[FaceCandidates] = []
    issues: list[ImageIssue] = []
    for path in paths:
        try:
            image = read_rgb(path)
        except DataError as exc:
            kind = "too-large" if isinstance(exc, ImageTooLargeError) else "unreadable"
            issues.append(ImageIssue(str(path), kind, str(exc)))
            continue
        detections = detector.detect_image(image)
        if not detections:
            issues.append(
                ImageIssue(
                    str(path),
                    "no-face",
                    "no face with probability >= "
                    f"{detector.min_probability} and size >= "
                    f"{detector.min_face_size} px",
                )
            )
            continue
        crops = [align_face(image, d, spec) for d in detections]
        found.append(FaceCandidates(path, detections, embed(crops), image.shape, crops))
    return found, issues


def subject_scores(detections: Sequence[Detection], shape: tuple[int, ...]) -> np.ndarray:
    """facenet-pytorch's 'center_weighted_size' rule: box area minus 2 x squared offset
    of the box centre from the image centre. The photo's subject scores highest."""
    height, width = shape[:2]
    boxes = np.asarray([d.box for d in detections], dtype=np.float64)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    centres = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], 1)
    offset = ((centres - np.array([width / 2, height / 2])) ** 2).sum(1)
    return np.asarray(area - 2.0 * offset)


def choose_faces(person: str, candidates: list[FaceCandidates]) -> PersonFaces:
    """One embedding per image: the face that agrees with the person's other images.

    Single-face images fix the person's appearance; in a group photo the face most
    similar to that is chosen. If every image has several faces, start from each photo's
    subject (facenet-pytorch's centre-weighted size rule) and refine by agreement with
    the other images; with a single group photo that rule alone decides (reported).
    """
    choice = {
        i: (0 if len(c.detections) == 1 else int(np.argmax(subject_scores(c.detections, c.shape))))
        for i, c in enumerate(candidates)
    }
    multi = [i for i, c in enumerate(candidates) if len(c.detections) > 1]
    single = [i for i, c in enumerate(candidates) if len(c.detections) == 1]
    for _ in range(3 if multi else 0):
        changed = False
        for i in multi:
            anchors = single or [j for j in range(len(candidates)) if j != i]
            if not anchors:
                break
            ref = np.mean([candidates[j].embeddings[choice[j]] for j in anchors], axis=0)
            best = int(np.argmax(candidates[i].embeddings @ ref))
            changed |= best != choice[i]
            choice[i] = best
        if single or not changed:
            break
    issues = []
    for i in multi:
        c = candidates[i]
        det = c.detections[choice[i]]
        box = ", ".join(f"{v:.0f}" for v in det.box)
        how = (
            "agreement with the other images"
            if len(candidates) > 1
            else "the centre-weighted size rule (no other image to compare with; "
            "enroll more photos to be sure)"
        )
        issues.append(
            ImageIssue(
                str(c.path),
                "multi-face",
                f"{len(c.detections)} faces; enrolled the one at ({box}) by {how}",
            )
        )
        log.info("%s: %s", c.path, issues[-1].detail)
    embeddings = (
        np.stack([c.embeddings[choice[i]] for i, c in enumerate(candidates)])
        if candidates
        else np.zeros((0, 0), np.float32)
    )
    crops = [c.crops[choice[i]] for i, c in enumerate(candidates) if c.crops]
    return PersonFaces(person, embeddings, [str(c.path) for c in candidates], issues, crops)
