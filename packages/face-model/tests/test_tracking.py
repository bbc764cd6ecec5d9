"""Faces followed through a video's frames (FaceTracker) and the early-stop rule
(decided), on skimage's astronaut (self-contained)."""

from __future__ import annotations

import numpy as np

from face_model import FaceMatch, decided
from face_model.tracking import FaceTracker


def _scene(astronaut: np.ndarray, dx: int = 0) -> np.ndarray:
    """The astronaut on a grey 800 x 600 frame, moved ``dx`` pixels right."""
    frame = np.full((600, 800, 3), 96, np.uint8)
    frame[40 : 40 + 512, 100 + dx : 100 + dx + 512] = astronaut
    return frame


def test_full_cascade_once_then_followed(detector, astronaut) -> None:  # type: ignore[no-untyped-def]
    tracker = FaceTracker(detector, max_side=640, redetect_ms=1000)
    boxes = [tracker.step(_scene(astronaut, dx), t) for dx, t in ((0, 0), (6, 100), (12, 200))]
    assert [len(b) for b in boxes] == [1, 1, 1]
    assert (tracker.full, tracker.followed) == (1, 2)
    # followed in original pixels: the box moved with the face
    assert 2 < boxes[2][0].box[0] - boxes[0][0].box[0] < 22


def test_redetected_when_stale_lost_or_cut(detector, astronaut) -> None:  # type: ignore[no-untyped-def]
    tracker = FaceTracker(detector, max_side=640, redetect_ms=1000)
    tracker.step(_scene(astronaut), 0)
    tracker.step(_scene(astronaut, 4), 1500)  # more than a second after the full detection
    assert (tracker.full, tracker.followed) == (2, 0)
    blank = np.full((600, 800, 3), 96, np.uint8)
    assert tracker.step(blank, 1600) == []  # the face is gone: a cut, searched in full
    assert tracker.step(_scene(astronaut), 1700) != []  # nothing to follow: in full again
    assert (tracker.full, tracker.followed) == (4, 0)
    every = FaceTracker(detector, max_side=640, redetect_ms=-1)  # negative: always in full
    for t in (0, 10, 20):
        every.step(_scene(astronaut), t)
    assert (every.full, every.followed) == (3, 0)


def _face(frame: int, who: str | None) -> FaceMatch:
    return FaceMatch(frame, (0, 0, 10, 10), 0.99, who, 0.8 if who else 0.2, 0.2)


def test_decided_when_every_frame_names_the_same_people() -> None:
    ann = [_face(i, "ann") for i in range(3)]
    assert decided(ann, 3)
    assert not decided(ann[:2], 2)  # fewer than min_frames
    assert not decided(ann[:2], 3)  # a frame without her
    assert decided([*ann, _face(1, None)], 3)  # an unknown face holds nothing up
    assert not decided([*ann, _face(2, "bob")], 3)  # bob in one frame only
    assert not decided([*ann, _face(0, "ann")], 3)  # named twice in one frame
    assert not decided([_face(i, None) for i in range(3)], 3)  # nobody named yet
