"""Result types of the inference API (see notes/api.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FaceMatch:
    """One detected face in one frame and who it is."""

    frame_index: int
    box: tuple[float, float, float, float]
    detection_probability: float
    identity: str | None
    similarity: float
    margin: float
    best: str | None = None
    """The closest person, named or not (None: nobody enrolled, or no embedding)."""
    embedding: Any = field(default=None, compare=False, repr=False)
    """The face's embedding (numpy float32), when the recognizer embeds faces."""
    chip: Any = field(default=None, compare=False, repr=False)
    """The aligned face (RGB uint8) of a face nobody was named for, for the face library."""


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
