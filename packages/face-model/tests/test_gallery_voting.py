"""Gallery matching, voting, face choice in group photos and calibration (pure numpy)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from face_model import FaceMatch, vote
from face_model.detect import Detection
from face_model.embed import l2_normalise
from face_model.enrollment import FaceCandidates, choose_faces
from face_model.errors import FaceModelError
from face_model.evaluation import threshold_for_far
from face_model.gallery import Gallery


def _unit(*vals: float) -> np.ndarray:
    return l2_normalise(np.asarray([vals], np.float32))[0]


@pytest.fixture
def gallery() -> Gallery:
    g = Gallery.empty(3)
    g.add("ann", np.stack([_unit(1, 0.1, 0), _unit(1, -0.1, 0)]), ["a1", "a2"])
    g.add("bob", np.stack([_unit(0, 1, 0), _unit(0.1, 1, 0)]), ["b1", "b2"])
    return g


def test_open_set_threshold_and_margin(gallery: Gallery) -> None:
    probes = np.stack([_unit(1, 0, 0), _unit(0, 0, 1), _unit(1, 1, 0)])
    ann, stranger, between = gallery.match(probes, threshold=0.5, margin=0.05)
    assert ann.identity == "ann" and ann.similarity > 0.99 and ann.margin > 0.5
    assert stranger.identity is None and stranger.similarity < 0.1
    assert between.identity is None and between.best in ("ann", "bob") and between.margin < 0.05


@pytest.mark.parametrize("method", ["centroid", "knn", "hybrid"])
def test_methods_agree_on_clear_cases(gallery: Gallery, method: str) -> None:
    people, sims = gallery.similarities(np.stack([_unit(0, 1, 0)]), method, 1)
    assert people == ["ann", "bob"] and sims[0].argmax() == 1


def test_knn_finds_a_second_cluster_the_centroid_misses() -> None:
    g = Gallery.empty(3)
    g.add("mixed", np.stack([_unit(1, 0, 0)] * 5 + [_unit(0, 0, 1)] * 2), ["x"] * 7)
    g.add("other", np.stack([_unit(0, 1, 0)]), ["y"])
    probe = np.stack([_unit(0, 0.05, 1)])
    assert g.match(probe, 0.6, method="centroid")[0].identity is None
    assert g.match(probe, 0.6, method="hybrid", k=2)[0].identity == "mixed"


def test_save_load_remove(tmp_path: Path, gallery: Gallery) -> None:
    gallery.save(tmp_path / "g.npz")
    loaded = Gallery.load(tmp_path / "g.npz")
    assert loaded.people == ["ann", "bob"] and loaded.sources == ["a1", "a2", "b1", "b2"]
    assert loaded.remove("ann") == 2 and loaded.people == ["bob"]
    with pytest.raises(FaceModelError, match="'zed' is not enrolled"):
        loaded.remove("zed")
    empty = Gallery.empty(3)
    assert empty.match(np.stack([_unit(1, 0, 0)]), 0.5)[0].identity is None


def _m(frame: int, who: str | None, sim: float, prob: float = 0.99) -> FaceMatch:
    return FaceMatch(frame, (0, 0, 10, 10), prob, who, sim, 0.2)


def test_vote_combines_frames() -> None:
    faces = [
        _m(0, "ann", 0.7),
        _m(1, "ann", 0.8),
        _m(1, "ann", 0.6),  # same frame twice counts once
        _m(2, "bob", 0.5),  # one frame of three is not enough (needs 1 of 3: ceil(3/3))
        _m(0, None, 0.2, 0.95),
        _m(2, None, 0.1, 0.97),
        _m(2, None, 0.3, 0.93),
    ]
    votes = vote(faces, 3)
    named = {v.identity: v for v in votes if v.identity}
    assert named["ann"].votes == 2 and named["ann"].similarity == 0.8
    assert named["ann"].best.frame_index == 1
    assert "bob" in named  # ceil(3 / 3) = 1 frame suffices for 3 frames
    unknown = [v for v in votes if v.identity is None]
    assert len(unknown) == 2  # most unknown faces in any one frame
    assert votes[0].identity == "ann"


def test_vote_rejects_flukes_in_long_clips() -> None:
    faces = [_m(i, "ann", 0.7) for i in range(9)] + [_m(4, "bob", 0.5)]
    votes = vote(faces, 9)
    assert [v.identity for v in votes] == ["ann", None]
    assert vote([], 3) == []


def _det(box: tuple[float, float, float, float]) -> Detection:
    x1, y1, x2, y2 = box
    cx, cy, w = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1
    lm = np.array(
        [
            [cx - w / 5, cy - w / 6],
            [cx + w / 5, cy - w / 6],
            [cx, cy],
            [cx - w / 6, cy + w / 4],
            [cx + w / 6, cy + w / 4],
        ],
        np.float32,
    )
    return Detection(box, 0.99, lm)


def test_group_photo_face_agrees_with_the_other_images() -> None:
    me, child = _unit(1, 0.1, 0), _unit(0, 1, 0)
    solo = FaceCandidates(Path("solo.jpg"), [_det((0, 0, 50, 50))], np.stack([me]), (100, 100, 3))
    group = FaceCandidates(
        Path("group.jpg"),
        [_det((0, 0, 90, 90)), _det((200, 0, 240, 40))],  # the bigger, central face is not me
        np.stack([child, _unit(1, 0, 0)]),
        (100, 300, 3),
    )
    chosen = choose_faces("me", [solo, group])
    assert np.allclose(chosen.embeddings[1], _unit(1, 0, 0))
    assert [i.kind for i in chosen.issues] == ["multi-face"]
    assert "group.jpg" in chosen.issues[0].path and "agreement" in chosen.issues[0].detail


def test_lone_group_photo_falls_back_on_the_photo_subject() -> None:
    group = FaceCandidates(
        Path("g.jpg"),
        [_det((420, 20, 480, 80)), _det((200, 150, 300, 250))],
        np.stack([_unit(0, 1, 0), _unit(1, 0, 0)]),
        (400, 500, 3),
    )
    chosen = choose_faces("me", [group])
    assert np.allclose(chosen.embeddings[0], _unit(1, 0, 0))
    assert "centre-weighted" in chosen.issues[0].detail


def test_threshold_for_far() -> None:
    impostor = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
    t0 = threshold_for_far(impostor, 0.0)
    assert t0 > 0.95 and np.mean(impostor >= t0) == 0
    t20 = threshold_for_far(impostor, 0.2)
    assert np.mean(impostor >= t20) <= 0.2 and 0.8 < t20 <= 0.9 + 1e-6
    with pytest.raises(ValueError, match="no impostor"):
        threshold_for_far(np.zeros(0), 0.1)


def test_similarities_stay_within_cosine_range() -> None:
    g = Gallery.empty(3)
    e = _unit(1, 1, 1) * np.float32(1.0000005)  # a hair over unit length
    g.embeddings = np.stack([e])
    g.labels, g.sources = ["a"], ["x"]
    (match,) = g.match(np.stack([e]), 0.5)
    assert -1.0 <= match.similarity <= 1.0 and match.identity == "a"
