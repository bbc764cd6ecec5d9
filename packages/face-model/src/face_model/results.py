"""Result types of the inference API (see notes/api.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FaceMatch:
    """One detected face in one frame and who it is."""

    frame_index: int
    box: tuple[float, float, float, float]
    detection_probability: float
    identity: str | None
    similarity: float
    margin: float


@dataclass(frozen=True)
class RecognitionBatch:
    """All faces found in a batch of frames, with stage timings."""

    faces: list[FaceMatch]
    detect_ms: float
    embed_ms: float


@dataclass(frozen=True)
class PersonVote:
    """One person (or one unknown face) seen in a clip, after voting across frames."""

    identity: str | None
    similarity: float
    votes: int
    best: FaceMatch
