"""How the default threshold was chosen: genuine and impostor pairs of colour camera faces
(the Pi team's photos without its mixed `ayush_kalani` folder, the CSE 546 gallery photos and
the faces of its videos, skimage's astronaut and matplotlib's Grace Hopper, each also
mirrored), embedded by the serving code, and the share of each accepted per threshold."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from face_model import Recognizer

MIXED = "ayush_kalani"
"""The Pi team folder that holds two different men (shared data's README)."""
THRESHOLDS = tuple(round(0.3 + 0.025 * i, 3) for i in range(11))


def _subject(recognizer: Recognizer, image: np.ndarray) -> np.ndarray | None:
    from face_model.align import align_face
    from face_model.enrollment import subject_scores

    found = recognizer.detector.detect_image(image)
    if not found or recognizer.spec is None or recognizer.embedder is None:
        return None
    chosen = found[int(np.argmax(subject_scores(found, image.shape)))]
    return np.asarray(recognizer.embedder([align_face(image, chosen, recognizer.spec)])[0])


def _samples(recognizer: Recognizer, data: Path) -> list[tuple[str, str, np.ndarray]]:
    import csv

    from cloud_handler.decode import sample_frames
    from face_model.images import read_rgb

    out: list[tuple[str, str, np.ndarray]] = []

    def add(source: str, person: str, vector: np.ndarray | None) -> None:
        if vector is not None:
            out.append((source, person, vector))

    for path in sorted((data / "pi-team").glob("*/*/*")):
        if path.parent.name != MIXED:
            add("pi", path.parent.name, _subject(recognizer, read_rgb(path)))
    course = data / "cse546-videos"
    with (course / "expected.csv").open() as fh:
        for row in csv.DictReader(fh):
            photo = read_rgb(course / "gallery" / row["name"] / "frame0.jpg")
            add("course-photo", row["name"], _subject(recognizer, photo))
            video = (course / "videos" / row["video"]).read_bytes()
            frames = sample_frames(video, count=8, max_frame_pixels=4096 * 2304).frames
            for face in recognizer.recognize(frames).faces:
                add("course-video", row["name"], face.embedding)
    from rollcall_tools.clips import astronaut
    from rollcall_tools.demo.video import grace_hopper

    for person, image in (("eileen_collins", astronaut()), ("grace_hopper", grace_hopper())):
        for mirrored in (image, np.ascontiguousarray(image[:, ::-1])):
            add("photo", person, _subject(recognizer, mirrored))
    return out


def colour_thresholds(recognizer: Recognizer, data: Path) -> dict[str, Any]:
    """Genuine and impostor acceptance per threshold, and the best balanced accuracy."""
    from face_model.gallery import pairwise_similarity

    assert recognizer.spec is not None
    samples = _samples(recognizer, data)
    genuine: list[float] = []
    impostor: list[float] = []
    for (s1, p1, v1), (s2, p2, v2) in itertools.combinations(samples, 2):
        if s1 == s2 == "course-video" and p1 == p2:
            continue  # frames of one clip: too easy
        sim = float(pairwise_similarity(v1[None], v2[None], recognizer.spec.metric)[0, 0])
        (genuine if p1 == p2 else impostor).append(sim)
    gen, imp = np.asarray(genuine), np.asarray(impostor)
    rows = [
        {
            "threshold": t,
            "genuine_accepted": round(float((gen >= t).mean()), 4),
            "impostors_accepted": round(float((imp >= t).mean()), 4),
            "balanced_accuracy": round(float(((gen >= t).mean() + (imp < t).mean()) / 2), 4),
        }
        for t in THRESHOLDS
    ]
    best = max(rows, key=lambda r: r["balanced_accuracy"])
    return {
        "faces": len(samples),
        "genuine_pairs": len(gen),
        "impostor_pairs": len(imp),
        "best": best,
        "thresholds": rows,
    }
