"""Combine per-frame matches of one clip into one answer per person."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence

from face_model.results import FaceMatch, PersonVote


def min_votes(n_frames: int) -> int:
    """Frames that must agree on a person: a third of the frames, at least one."""
    return max(1, math.ceil(n_frames / 3))


def vote(faces: Sequence[FaceMatch], n_frames: int) -> list[PersonVote]:
    """One PersonVote per identified person that enough frames agree on, plus unknown faces.

    A person counts once per frame (its best face there). A person needs
    ``ceil(n_frames / 3)`` agreeing frames; faces of people below that count as
    unknown. Unknown faces are reported as many times as the most unknown faces seen
    in any single frame, each represented by its most confident detection.
    Results are sorted by votes, then similarity.
    """
    by_person: dict[str, dict[int, FaceMatch]] = defaultdict(dict)
    for face in faces:
        if face.identity is None:
            continue
        frame_best = by_person[face.identity].get(face.frame_index)
        if frame_best is None or face.similarity > frame_best.similarity:
            by_person[face.identity][face.frame_index] = face

    needed = min_votes(max(n_frames, 1))
    votes: list[PersonVote] = []
    rejected: list[FaceMatch] = []
    for identity, frames in by_person.items():
        if len(frames) >= needed:
            best = max(frames.values(), key=lambda f: f.similarity)
            votes.append(PersonVote(identity, best.similarity, len(frames), best))
        else:
            rejected.extend(frames.values())

    unknown = [f for f in faces if f.identity is None] + rejected
    if unknown:
        per_frame = Counter(f.frame_index for f in unknown)
        count = max(per_frame.values())
        ranked = sorted(unknown, key=lambda f: f.detection_probability, reverse=True)
        # prefer representatives from the frame with the most unknown faces (distinct faces)
        busiest = max(per_frame, key=lambda k: (per_frame[k], -k))
        chosen = [f for f in ranked if f.frame_index == busiest][:count]
        for face in chosen:
            votes.append(PersonVote(None, face.similarity, len(per_frame), face))

    votes.sort(key=lambda v: (v.identity is None, -v.votes, -v.similarity))
    return votes


def decided(
    faces: Sequence[FaceMatch],
    n_frames: int,
    *,
    min_frames: int = 3,
    sure: float | None = None,
    sure_frames: int = 2,
) -> bool:
    """True when more frames would not change who is named: at least ``min_frames``
    frames, someone named, and every frame naming the same people, each once. With
    ``sure``, already from ``sure_frames`` frames on where, besides, every named face's
    similarity is at least ``sure``.

    Unknown faces do not hold the decision up (they stay unknown either way). A person who
    shows only in frames not yet seen is missed: callers stop early only where that is
    acceptable (a whole video answered by its first moment).
    """
    if n_frames < max(1, min_frames):
        named_faces = [f for f in faces if f.identity is not None]
        if sure is None or n_frames < max(1, sure_frames) or not named_faces:
            return False
        if any(f.similarity < sure for f in named_faces):
            return False
    named: list[Counter[str]] = [Counter() for _ in range(n_frames)]
    for face in faces:
        if not 0 <= face.frame_index < n_frames:
            return False
        if face.identity is not None:
            named[face.frame_index][face.identity] += 1
    first = named[0]
    return (
        bool(first)
        and all(count == 1 for count in first.values())
        and all(frame == first for frame in named[1:])
    )
