"""Shared fixtures: one detector per session, tiny self-contained images, shared-data paths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import rollcall_testkit as testkit


@pytest.fixture(scope="session", autouse=True)
def _one_thread() -> None:
    # The suite shares a 2-core machine with other packages' tests: 2 threads under that
    # load spin and run ~10x slower than 1 thread (measured), so tests use one.
    from face_model.threads import set_threads

    set_threads(1)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (ROLLCALL_SHARED_DATA), or skip (fail under CI)."""
    return testkit.shared_data()


@pytest.fixture(scope="session")
def mfn_weights() -> Path:
    """The MobileFaceNet CASIA checkpoint (ROLLCALL_SHARED_MODELS), or skip (fail under CI)."""
    return testkit.shared_models("mobilefacenet-casia", "mobilefacenet_casia.ckpt")


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """skimage's astronaut photo (one face), RGB uint8."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


@pytest.fixture(scope="session")
def detector():  # type: ignore[no-untyped-def]
    """One MTCNN (ONNX) for the session."""
    from face_model.detect import FaceDetector

    return FaceDetector()


@pytest.fixture(scope="session")
def face_crop(astronaut: np.ndarray) -> np.ndarray:
    """A tiny (120 x 120) image of the astronaut's head."""
    head = Image.fromarray(astronaut[10:240, 110:340])
    return np.asarray(head.resize((120, 120), Image.Resampling.BILINEAR))


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory, face_crop: np.ndarray) -> Path:
    """Flat layout, two 'people' (same face: plumbing only, never recognition), every
    format (PNG, JPEG, GIF, grayscale PGM), plus a no-face, an unreadable and a 2-face image."""
    root = tmp_path_factory.mktemp("tiny")
    img = Image.fromarray(face_crop)
    a = root / "eileen"
    a.mkdir()
    img.save(a / "1.png")
    img.save(a / "2.jpg", quality=90)
    img.save(a / "3.gif")
    img.convert("L").save(a / "4.pgm")
    Image.fromarray(np.full((120, 120, 3), 128, np.uint8)).save(a / "blank.png")
    (a / "broken.jpg").write_bytes(b"this is not an image")
    b = root / "mirror"
    b.mkdir()
    mirrored = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    mirrored.save(b / "1.png")
    mirrored.convert("L").save(b / "2.pgm")
    pair = Image.new("RGB", (260, 120), (20, 20, 20))
    pair.paste(img, (0, 0))
    pair.paste(mirrored, (140, 0))
    pair.save(b / "group.png")
    return root
