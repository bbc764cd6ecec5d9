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
    # sure: two frames are enough where every named face is at least that similar
    assert decided(ann[:2], 2, sure=0.7)
    assert not decided(ann[:2], 2, sure=0.9)  # not similar enough: wait for a third
    assert not decided(ann[:1], 1, sure=0.7)  # fewer than sure_frames
    assert not decided([*ann[:2], _face(1, "bob")], 2, sure=0.7)  # bob in one frame only
    assert not decided([_face(i, None) for i in range(2)], 2, sure=0.1)  # nobody named


def test_coarse_to_fine_finds_large_faces_first_and_small_ones_after(  # type: ignore[no-untyped-def]
    detector, astronaut, monkeypatch
) -> None:
    from PIL import Image

    sizes: list[float] = []
    detect = detector.mtcnn.detect

    def spy(frames, min_face_size, **kwargs):  # type: ignore[no-untyped-def]
        sizes.append(min_face_size)
        return detect(frames, min_face_size, **kwargs)

    monkeypatch.setattr(detector.mtcnn, "detect", spy)
    big = _scene(astronaut)
    [exact] = FaceTracker(detector, max_side=640).step(big, 0)
    [coarse] = FaceTracker(detector, max_side=640, coarse=0.1).step(big, 0)
    # one search for faces of at least 60 px (a tenth of 600) instead of 20: the same face
    assert len(sizes) == 2 and sizes[1] == 3 * sizes[0]
    assert np.allclose(coarse.box, exact.box, atol=0.1 * exact.size)
    # a face below the coarse size: the first search finds nothing, the finer one finds it
    small = np.full((600, 800, 3), 96, np.uint8)
    small[200:328, 300:428] = np.asarray(Image.fromarray(astronaut).resize((128, 128)))
    sizes.clear()
    found = FaceTracker(detector, max_side=640, coarse=0.1).step(small, 0)
    assert len(found) == 1 and found[0].size < 60
    assert len(sizes) == 2 and sizes[0] > sizes[1]
