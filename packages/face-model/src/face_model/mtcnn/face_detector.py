"""MTCNN behind face-model's :class:`~face_model.detect.Detector`: the cascade on
onnxruntime, keeping confident, large-enough faces."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from face_model.detect import (
    DEFAULT_MIN_FACE_SIZE,
    DEFAULT_MIN_PROBABILITY,
    DETECT_MAX_SIDE,
    IMAGE_MAX_SIDE,
    Detection,
    check_frame,
    resize_frame,
)


def _candidates(faces: Sequence[Detection], scale: float) -> np.ndarray:
    """O-Net's candidates for following ``faces`` into a frame downscaled by ``scale``: each
    face where it was, and slightly larger (O-Net re-centres and re-sizes it)."""
    seeds = np.asarray([d.box for d in faces], np.float32) * np.float32(scale)
    centre = (seeds[:, :2] + seeds[:, 2:]) / 2
    half = (seeds[:, 2:] - seeds[:, :2]) / 2
    grown = np.concatenate([centre - 1.2 * half, centre + 1.2 * half], axis=1)
    return np.concatenate([seeds, grown])


class MtcnnFaceDetector:
    """MTCNN on onnxruntime (P/R/O-Nets converted from the facenet-pytorch wheel's weights),
    keeping confident, large-enough faces. No torch.

    ``networks`` maps ``pnet``/``rnet``/``onet`` to ONNX files (an artifact's); without it
    the networks come from face-model's cache (built on first need).
    """

    def __init__(
        self,
        *,
        min_probability: float = DEFAULT_MIN_PROBABILITY,
        min_face_size: int = DEFAULT_MIN_FACE_SIZE,
        networks: Mapping[str, Path] | None = None,
        threads: int | None = None,
    ) -> None:
        from face_model.mtcnn import MtcnnDetector

        if networks is None:
            from face_model.detectors import cached_networks

            networks = cached_networks("mtcnn")
        self.min_probability = min_probability
        self.min_face_size = min_face_size
        self.mtcnn = MtcnnDetector(
            networks["pnet"], networks["rnet"], networks["onet"], threads=threads
        )

    def detect(
        self, frames: Sequence[np.ndarray], *, max_side: int | None = DETECT_MAX_SIDE
    ) -> list[list[Detection]]:
        """Faces per frame, most probable first. Frames are RGB uint8 H x W x 3.

        Each frame is downscaled so that its longer side is at most ``max_side``; the
        minimum face size stays in original pixels (MTCNN never looks below its 12 px
        cell). Frames of one shape go through the networks together.
        """
        checked = [check_frame(f, i) for i, f in enumerate(frames)]
        return self.detect_resized([resize_frame(f, max_side) for f in checked])

    def detect_resized(
        self, small: Sequence[tuple[np.ndarray, float]], *, coarse_min_face: float | None = None
    ) -> list[list[Detection]]:
        """:meth:`detect` on frames already downscaled: (image, scale) pairs, where scale
        is the image's size over the original's (boxes come back in original pixels).

        ``coarse_min_face`` (pixels of the original; coarse to fine): look first only for
        faces at least this large - the pyramid's costly largest scales are skipped - and
        down to ``min_face_size`` only in the frames where none was found. A face smaller
        than it beside a larger one is then missed. None: one search down to
        ``min_face_size`` (the exact MTCNN cascade).
        """
        coarse = coarse_min_face if coarse_min_face is not None else 0.0
        if coarse > self.min_face_size:
            out = self._detect_resized(small, coarse)
            missing = [i for i, found in enumerate(out) if not found]
            if missing:
                finer = self._detect_resized([small[i] for i in missing], self.min_face_size)
                for i, found in zip(missing, finer, strict=True):
                    out[i] = found
            return out
        return self._detect_resized(small, self.min_face_size)

    def _detect_resized(
        self, small: Sequence[tuple[np.ndarray, float]], min_face_size: float
    ) -> list[list[Detection]]:
        out: list[list[Detection]] = [[] for _ in small]
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, (img, _) in enumerate(small):
            groups.setdefault(img.shape, []).append(i)
        for indices in groups.values():
            scale = small[indices[0]][1]
            found = self.mtcnn.detect(
                [small[i][0] for i in indices], max(12.0, min_face_size * scale)
            )
            for i, (boxes, probs, points) in zip(indices, found, strict=True):
                out[i] = self._keep(boxes / scale, probs, points / scale)
        return out

    def refine_resized(
        self, small: tuple[np.ndarray, float], faces: Sequence[Detection]
    ) -> list[Detection]:
        """``faces`` (of a nearby frame, original pixels) re-located in one downscaled frame
        (image, scale) by O-Net alone, without the pyramid; a face that is no longer there
        is missing from the result."""
        image, scale = small
        if not faces:
            return []
        [(boxes, probs, points)] = self.mtcnn.refine([image], [_candidates(faces, scale)])
        return self._keep(boxes / scale, probs, points / scale)

    def track(
        self, frames: Sequence[np.ndarray], *, max_side: int | None = DETECT_MAX_SIDE
    ) -> list[list[Detection]]:
        """Faces in frames of one moment (a clip of a second or less, one shape): the full
        cascade on the middle frame, then its faces followed into the other frames by O-Net
        alone (a face moves little in a fraction of a second). About a third of
        :meth:`detect`'s work for three frames; a face seen only outside the middle frame is
        missed. Without a face in the middle frame every frame is searched in full.
        """
        checked = [check_frame(f, i) for i, f in enumerate(frames)]
        if len(checked) < 2 or len({f.shape for f in checked}) != 1:
            return self.detect(checked, max_side=max_side)
        key = len(checked) // 2
        others = [i for i in range(len(checked)) if i != key]
        found = self.detect([checked[key]], max_side=max_side)[0]
        if not found:
            rest = self.detect([checked[i] for i in others], max_side=max_side)
            out: list[list[Detection]] = [[] for _ in checked]
            for i, dets in zip(others, rest, strict=True):
                out[i] = dets
            return out
        # detect() resized the middle frame itself; the others share its shape and scale
        small = [resize_frame(checked[i], max_side) for i in others]
        scale = small[0][1]
        candidates = _candidates(found, scale)
        refined = self.mtcnn.refine([img for img, _ in small], [candidates for _ in others])
        out = [[] for _ in checked]
        out[key] = found
        for i, (boxes, probs, points) in zip(others, refined, strict=True):
            out[i] = self._keep(boxes / scale, probs, points / scale)
        return out

    def _keep(self, boxes: np.ndarray, probs: np.ndarray, points: np.ndarray) -> list[Detection]:
        dets = [
            Detection(
                box=(float(b[0]), float(b[1]), float(b[2]), float(b[3])),
                probability=float(min(1.0, max(0.0, p))),
                landmarks=np.asarray(lm, dtype=np.float32),
            )
            for b, p, lm in zip(boxes, probs, points, strict=True)
        ]
        dets = [
            d
            for d in dets
            if d.probability >= self.min_probability and d.size >= self.min_face_size
        ]
        dets.sort(key=lambda d: d.probability, reverse=True)
        return dets

    def detect_image(
        self, image: np.ndarray, *, max_side: int | None = IMAGE_MAX_SIDE
    ) -> list[Detection]:
        """Faces in one still image; retries with a padded border for tight face crops.

        Tightly cropped portraits (e.g. ORL's 92 x 112 faces) leave MTCNN no context
        around the face; padding the border with edge pixels lets it find them.
        """
        found = self.detect([image], max_side=max_side)[0]
        if found:
            return found
        # pad the copy detection would look at (longer side at most max_side / 2), not the
        # original: padding doubles both sides, 4x the pixels of a photo of any size
        small, scale = resize_frame(check_frame(image), None if max_side is None else max_side // 2)
        height, width = small.shape[:2]
        pad_y, pad_x = height // 2, width // 2
        padded = np.pad(small, ((pad_y, pad_y), (pad_x, pad_x), (0, 0)), mode="edge")
        [(boxes, probs, points)] = self.mtcnn.detect(
            [padded], max(12.0, self.min_face_size * scale)
        )
        shift = np.array([pad_x, pad_y], dtype=np.float32)
        return self._keep((boxes - np.tile(shift, 2)) / scale, probs, (points - shift) / scale)
