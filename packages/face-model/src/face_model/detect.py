"""The face detector's seam: what a detector finds (:class:`Detection`), what it offers
(:class:`Detector`), how one is registered (:class:`DetectorKind`, listed in
:mod:`face_model.detectors`), and the frame helpers every detector shares.

No detector's networks are named here: MTCNN lives in :mod:`face_model.mtcnn`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from PIL import Image

DEFAULT_MIN_PROBABILITY = 0.9
DEFAULT_MIN_FACE_SIZE = 20
"""Smallest face (pixels of the original image) looked for when enrolling and evaluating.
MTCNN's cost grows with (12 / min_face_size)^2; serving sets its own (larger) minimum."""
DETECT_MAX_SIDE = 640
"""Detection runs on a copy of each frame whose longer side is at most this (boxes come
back in original pixels)."""
IMAGE_MAX_SIDE = 1024
"""The same for still images (enrollment, evaluation): larger, for photos of groups."""

if TYPE_CHECKING:
    from face_model.model_cache import BuiltinModel


@dataclass(frozen=True)
class Detection:
    """One face: box (x1, y1, x2, y2) and landmarks (5 x 2, x/y) in original pixels."""

    box: tuple[float, float, float, float]
    probability: float
    landmarks: np.ndarray

    @property
    def size(self) -> float:
        """The shorter side of the box."""
        return min(self.box[2] - self.box[0], self.box[3] - self.box[1])


def resize_frame(frame: np.ndarray, max_side: int | None) -> tuple[np.ndarray, float]:
    """``frame`` downscaled so that its longer side is at most ``max_side``, and the scale."""
    height, width = frame.shape[:2]
    longest = max(height, width)
    if max_side is None or longest <= max_side:
        return frame, 1.0
    scale = max_side / longest
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # reducing_gap=1: box-reduce by the integer part first (fast), then bilinear
    small = Image.fromarray(frame).resize(size, Image.Resampling.BILINEAR, reducing_gap=1.0)
    return np.asarray(small), scale


def check_frame(frame: Any, index: int = 0) -> np.ndarray:
    """A contiguous RGB uint8 H x W x 3 array, or ValueError naming the frame."""
    arr = np.asarray(frame)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise ValueError(
            f"frame {index}: expected an RGB uint8 HxWx3 array, got {arr.dtype} {arr.shape}"
        )
    return np.ascontiguousarray(arr)


class Detector(Protocol):
    """A face detector: RGB uint8 frames in, faces (box, probability, 5 landmarks, original
    pixels) out, most probable first, keeping those at least ``min_probability`` and
    ``min_face_size`` (both settable)."""

    min_probability: float
    min_face_size: int

    def detect(
        self, frames: Sequence[np.ndarray], *, max_side: int | None = DETECT_MAX_SIDE
    ) -> list[list[Detection]]:
        """Faces per frame; each frame downscaled to at most ``max_side`` first."""
        ...

    def detect_resized(
        self, small: Sequence[tuple[np.ndarray, float]], *, coarse_min_face: float | None = None
    ) -> list[list[Detection]]:
        """:meth:`detect` on (downscaled image, scale) pairs; ``coarse_min_face`` (original
        pixels): look for faces this large first, smaller ones only where none was found."""
        ...

    def refine_resized(
        self, small: tuple[np.ndarray, float], faces: Sequence[Detection]
    ) -> list[Detection]:
        """``faces`` of a nearby frame re-located in one downscaled frame, cheaply."""
        ...

    def track(
        self, frames: Sequence[np.ndarray], *, max_side: int | None = DETECT_MAX_SIDE
    ) -> list[list[Detection]]:
        """Faces in frames of one moment: the middle frame searched, its faces followed."""
        ...

    def detect_image(
        self, image: np.ndarray, *, max_side: int | None = IMAGE_MAX_SIDE
    ) -> list[Detection]:
        """Faces in one still image (tight face crops included)."""
        ...


class DetectorFactory(Protocol):
    """Builds a :class:`Detector` from its network files (None: face-model's cache)."""

    def __call__(
        self,
        *,
        min_probability: float = ...,
        min_face_size: int = ...,
        networks: Mapping[str, Path] | None = ...,
        threads: int | None = ...,
    ) -> Detector: ...


@dataclass(frozen=True)
class DetectorKind:
    """One detector face-model can run and export: a :mod:`face_model.detectors` entry.

    ``files`` maps each network's key to its path inside an artifact; ``builtin`` lists
    the cache networks it is converted into (``builtin_models`` builds their entries);
    ``source`` says where its weights come from (the artifact's manifest records it).
    """

    name: str
    files: Mapping[str, str]
    builtin: Mapping[str, str]
    """network key -> face-model cache name"""
    builtin_models: Callable[[], list[BuiltinModel]]
    source: Callable[[], str]
    factory: Callable[[], DetectorFactory]


def __getattr__(name: str) -> Any:
    # ``FaceDetector``: the default detector's class (MTCNN), for callers that build one
    if name == "FaceDetector":
        from face_model.mtcnn.face_detector import MtcnnFaceDetector

        return MtcnnFaceDetector
    raise AttributeError(f"module 'face_model.detect' has no attribute {name!r}")
