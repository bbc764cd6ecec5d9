"""Faces followed through the frames of one video, in order: the detector's full search on
few frames, its cheap re-location (:meth:`~face_model.detect.Detector.refine_resized`) on
the others."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from face_model.detect import DETECT_MAX_SIDE, Detection, check_frame, resize_frame
from face_model.results import FaceMatch, RecognitionBatch

if TYPE_CHECKING:
    from face_model.detect import Detector
    from face_model.recognizer import Recognizer

REDETECT_MS = 1000
"""Faces are followed at most this long after a full detection; then the cascade runs again
(and finds faces that came in since)."""
CUT_LEVEL = 40.0
"""A scene cut: the mean absolute difference of two consecutive frames' 16 x 16 grey
thumbnails (0-255) above this."""
_THUMB = 16


def _thumbnail(image: np.ndarray) -> np.ndarray:
    """A 16 x 16 grey thumbnail (block means of every 4th pixel), for telling scene cuts."""
    sparse = image[::4, ::4]
    height, width = sparse.shape[:2]
    rows = np.linspace(0, height, _THUMB + 1).astype(int)
    cols = np.linspace(0, width, _THUMB + 1).astype(int)
    grey = sparse.sum(axis=2, dtype=np.float32) / 3
    if height < _THUMB or width < _THUMB:  # tiny frames: one block per pixel, padded
        return np.resize(grey, (_THUMB, _THUMB)).astype(np.float32)
    sums = np.add.reduceat(np.add.reduceat(grey, rows[:-1], axis=0), cols[:-1], axis=1)
    area = np.outer(np.diff(rows), np.diff(cols)).astype(np.float32)
    return sums / area


class FaceTracker:
    """Faces in the frames of one video, given in order.

    The full cascade runs on the first frame, after a scene cut, when a followed face is
    lost, when the last full detection is more than ``redetect_ms`` old (negative: on every
    frame), and on every frame while no face is known; otherwise the faces of the previous
    frame are followed into this one cheaply (see :meth:`Detector.refine_resized`).

    ``coarse``: a full detection looks first for faces at least this fraction of the frame's
    shorter side, and for smaller ones only when it finds none (coarse to fine: a small face
    beside a larger one is missed); None: the exact cascade down to the detector's
    ``min_face_size``.
    """

    def __init__(
        self,
        detector: Detector,
        *,
        max_side: int | None = DETECT_MAX_SIDE,
        redetect_ms: int = REDETECT_MS,
        cut_level: float = CUT_LEVEL,
        coarse: float | None = None,
    ) -> None:
        self.detector = detector
        self.max_side, self.redetect_ms, self.cut_level = max_side, redetect_ms, cut_level
        self.coarse = coarse
        self.full = 0
        """Frames searched by the full cascade."""
        self.followed = 0
        """Frames whose faces were followed (not searched in full)."""
        self._faces: list[Detection] = []
        self._detected_at: int | None = None
        self._thumb: np.ndarray | None = None

    def step(
        self, frame: np.ndarray, time_ms: int, *, small: np.ndarray | None = None
    ) -> list[Detection]:
        """Faces in ``frame`` (RGB uint8 H x W x 3), seen ``time_ms`` into the video; boxes
        in its pixels, most probable first. ``small``: a copy of the frame already scaled
        down to ``max_side`` (e.g. by the video decoder), used for detection instead of
        resizing ``frame`` here."""
        if small is None:
            small_frame = resize_frame(check_frame(frame), self.max_side)
        else:
            small_frame = (check_frame(small), small.shape[1] / np.asarray(frame).shape[1])
        thumb = _thumbnail(small_frame[0])
        cut = self._thumb is not None and (
            self._thumb.shape != thumb.shape
            or float(np.abs(thumb - self._thumb).mean()) > self.cut_level
        )
        self._thumb = thumb
        fresh = (
            self._detected_at is not None
            and self.redetect_ms >= 0
            and 0 <= time_ms - self._detected_at <= self.redetect_ms
        )
        if self._faces and fresh and not cut:
            found = self.detector.refine_resized(small_frame, self._faces)
            if len(found) >= len(self._faces):
                self.followed += 1
                self._faces = found
                return found
        coarse = None if self.coarse is None else self.coarse * min(np.shape(frame)[:2])
        [found] = self.detector.detect_resized([small_frame], coarse_min_face=coarse)
        self.full += 1
        self._faces, self._detected_at = found, time_ms
        return found


class VideoRecognizer:
    """A :class:`Recognizer` over the frames of one video, one frame at a time: faces
    followed by a :class:`FaceTracker` (``coarse``: see there), each frame's faces named as
    it comes, no frame kept."""

    def __init__(
        self,
        recognizer: Recognizer,
        *,
        max_side: int | None = DETECT_MAX_SIDE,
        redetect_ms: int = REDETECT_MS,
        coarse: float | None = None,
    ) -> None:
        self.recognizer = recognizer
        self.tracker = FaceTracker(
            recognizer.detector, max_side=max_side, redetect_ms=redetect_ms, coarse=coarse
        )
        self.faces: list[FaceMatch] = []
        self.frames = 0
        self.detect_ms = self.embed_ms = 0.0

    def add(
        self, frame: np.ndarray, time_ms: int, *, small: np.ndarray | None = None
    ) -> list[FaceMatch]:
        """The named faces of the next frame (also added to :attr:`faces`); ``small``: see
        :meth:`FaceTracker.step`."""
        start = time.perf_counter()
        found = self.tracker.step(frame, time_ms, small=small)
        self.detect_ms += (time.perf_counter() - start) * 1000
        faces, align_ms, embed_ms = self.recognizer.identify(frame, found, frame_index=self.frames)
        self.detect_ms += align_ms
        self.embed_ms += embed_ms
        self.frames += 1
        self.faces.extend(faces)
        return faces

    def batch(self) -> RecognitionBatch:
        """Every face so far, as :meth:`Recognizer.recognize` reports them."""
        return RecognitionBatch(
            faces=list(self.faces), detect_ms=self.detect_ms, embed_ms=self.embed_ms
        )
