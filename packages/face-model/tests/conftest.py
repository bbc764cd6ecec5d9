"""Shared fixtures: one MTCNN per session, tiny self-contained images, shared-data paths."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread() -> None:
    # The suite shares a 2-core machine with other packages' tests: 2 OpenMP threads under
    # that load spin and run ~10x slower than 1 thread (measured), so tests use one.
    try:
        import torch
    except ImportError:  # torch-free tests still run; torch tests skip (or fail in CI)
        return
    torch.set_num_threads(1)


def _shared(var: str, sub: str, what: str) -> Path:
    root = os.environ.get(var)
    if not root:
        pytest.skip(f"{var} is not set: this test needs {what} (../shared)")
    path = Path(root) / sub
    if not path.exists():
        pytest.skip(f"{path} is missing ({var}={root})")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (ROLLCALL_SHARED_DATA), or skip."""
    return _shared("ROLLCALL_SHARED_DATA", ".", "the shared test data")


@pytest.fixture(scope="session")
def mfn_weights() -> Path:
    """The MobileFaceNet CASIA checkpoint (ROLLCALL_SHARED_MODELS), or skip."""
    return _shared(
        "ROLLCALL_SHARED_MODELS",
        "mobilefacenet-casia/mobilefacenet_casia.ckpt",
        "the MobileFaceNet CASIA checkpoint",
    )


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """skimage's astronaut photo (one face), RGB uint8."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


@pytest.fixture(scope="session")
def detector():  # type: ignore[no-untyped-def]
    """One MTCNN for the session."""
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
