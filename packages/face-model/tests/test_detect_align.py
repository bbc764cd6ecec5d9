"""MTCNN detection and alignment on skimage's astronaut (self-contained)."""

from __future__ import annotations

import numpy as np
import pytest

from face_model.align import align_face, crop_box, similarity_transform
from face_model.backbones import INCEPTION_RESNET_V1, MOBILEFACENET, MOBILEFACENET_REFERENCE
from face_model.detect import FaceDetector


def test_astronaut_has_one_confident_face_with_landmarks(detector, astronaut) -> None:
    (faces,) = detector.detect([astronaut], max_side=None)
    assert len(faces) == 1
    face = faces[0]
    assert face.probability >= 0.9
    x1, y1, x2, y2 = face.box
    assert 150 < x1 < 200 and 40 < y1 < 90 and 250 < x2 < 290 and 150 < y2 < 190
    assert face.landmarks.shape == (5, 2) and face.landmarks.dtype == np.float32
    left_eye, right_eye, nose, mouth_l, mouth_r = face.landmarks
    assert left_eye[0] < right_eye[0] and mouth_l[0] < mouth_r[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_l[1], mouth_r[1])
    assert all(x1 <= x <= x2 and y1 <= y <= y2 for x, y in face.landmarks)


def test_downscaled_detection_returns_original_pixels(detector, astronaut) -> None:
    full = detector.detect([astronaut], max_side=None)[0][0]
    small = detector.detect([astronaut], max_side=256)[0][0]
    assert np.allclose(full.box, small.box, atol=8)
    assert np.allclose(full.landmarks, small.landmarks, atol=8)


def test_batches_of_mixed_shapes_and_empty_frames(detector, astronaut) -> None:
    blank = np.zeros((200, 300, 3), np.uint8)
    half = np.ascontiguousarray(astronaut[:, :300])
    result = detector.detect([astronaut, blank, half, astronaut], max_side=640)
    assert [len(r) for r in result] == [1, 0, 1, 1]


def test_min_face_size_and_bad_frames(astronaut) -> None:
    assert FaceDetector(min_face_size=200).detect([astronaut])[0] == []
    with pytest.raises(ValueError, match="frame 1: expected an RGB uint8"):
        FaceDetector().detect([astronaut, astronaut.astype(np.float32)])


def test_similarity_transform_recovers_a_known_transform() -> None:
    src = np.asarray(MOBILEFACENET_REFERENCE)
    angle, scale, shift = 0.3, 1.7, np.array([12.0, -5.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = src @ rot.T + shift
    matrix = similarity_transform(src, dst)
    assert np.allclose(matrix[:, :2], rot, atol=1e-9) and np.allclose(matrix[:, 2], shift)


def test_alignment_puts_landmarks_on_the_reference(detector, astronaut) -> None:
    face = detector.detect([astronaut], max_side=None)[0][0]
    crop = align_face(astronaut, face, MOBILEFACENET)
    assert crop.shape == (112, 96, 3) and crop.dtype == np.uint8
    matrix = similarity_transform(face.landmarks, np.asarray(MOBILEFACENET_REFERENCE))
    mapped = face.landmarks @ matrix[:, :2].T + matrix[:, 2]
    assert np.abs(mapped - np.asarray(MOBILEFACENET_REFERENCE)).max() < 6
    # the aligned crop is itself a face MTCNN finds, eyes near the reference rows
    again = FaceDetector(min_face_size=12).detect_image(crop)
    assert again and abs(again[0].landmarks[0][1] - 51.7) < 8


def test_box_crop_for_inception(detector, astronaut) -> None:
    face = detector.detect([astronaut], max_side=None)[0][0]
    assert align_face(astronaut, face, INCEPTION_RESNET_V1).shape == (160, 160, 3)
    with pytest.raises(ValueError, match="outside"):
        crop_box(astronaut, (600, 600, 700, 700), (160, 160), 0.0)


def test_tight_crops_are_found_with_padding(detector, face_crop) -> None:
    tight = np.ascontiguousarray(face_crop[25:100, 25:95])
    found = detector.detect_image(tight)
    assert len(found) == 1
    x1, y1, x2, y2 = found[0].box
    assert x2 > 0 and y2 > 0 and x1 < tight.shape[1] and y1 < tight.shape[0]


def test_detection_only_recognizer(astronaut) -> None:
    from face_model import Recognizer

    rec = Recognizer.detection_only()
    assert (rec.backbone, rec.pretrained, rec.people) == ("none", False, [])
    batch = rec.recognize([astronaut, np.zeros((64, 64, 3), np.uint8)])
    assert len(batch.faces) == 1
    face = batch.faces[0]
    assert face.frame_index == 0 and face.identity is None and face.similarity == 0.0
    assert batch.embed_ms == 0.0 and batch.detect_ms > 0
    assert all(0 <= v <= 512 for v in face.box)


def test_min_face_size_can_change_after_first_use(astronaut) -> None:
    from face_model import Recognizer

    rec = Recognizer.detection_only()
    assert len(rec.recognize([astronaut]).faces) == 1
    rec.min_face_size = 300
    assert rec.recognize([astronaut]).faces == []


def test_warm_up() -> None:
    from face_model import Recognizer

    rec = Recognizer.detection_only()
    assert rec.warm_up() > 0 and rec.recognize([np.zeros((32, 32, 3), np.uint8)]).faces == []


def test_warp_affine_reads_only_the_region_it_needs(astronaut) -> None:  # type: ignore[no-untyped-def]
    """The same bytes as PIL's affine warp of the whole image, also where the crop reaches
    past the image's edges (outside: black)."""
    from PIL import Image

    from face_model.align import similarity_transform, warp_affine

    reference = np.array([[38.3, 51.7], [73.5, 51.5], [56.0, 71.7], [41.5, 92.4], [70.7, 92.2]])
    for shift in (0.0, -170.0, 330.0):  # inside, past the left edge, past the right edge
        points = np.array([[200, 220], [270, 220], [235, 260], [205, 300], [265, 300]]) + shift
        matrix = similarity_transform(points, reference)
        inverse = np.linalg.inv(np.vstack([matrix, [0.0, 0.0, 1.0]]))[:2]
        whole = Image.fromarray(astronaut).transform(
            (112, 112), Image.Transform.AFFINE, data=tuple(inverse.flatten()),
            resample=Image.Resampling.BILINEAR,
        )  # fmt: skip
        assert np.array_equal(warp_affine(astronaut, matrix, (112, 112)), np.asarray(whole))
