"""facenet-pytorch's MTCNN behind :class:`face_model.mtcnn.MtcnnDetector`'s interface: the
torch path that serving used before, kept only to measure against (``tools bench``).

Importing this module imports torch; it raises ImportError where torch is not installed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from facenet_pytorch import MTCNN


class TorchMtcnn:
    """MTCNN on torch, returning per frame (boxes N x 4, probabilities N, landmarks N x 5 x 2)."""

    def __init__(self, *, threads: int) -> None:
        torch.set_num_threads(threads)
        self._mtcnn = MTCNN(keep_all=True, select_largest=False, device="cpu").eval()

    def detect(
        self, frames: Sequence[np.ndarray], min_face_size: float
    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Faces in frames of one shape, most probable first."""
        self._mtcnn.min_face_size = min_face_size
        boxes, probs, points = self._mtcnn.detect(np.stack(list(frames)), landmarks=True)
        out = []
        for b, p, pt in zip(boxes, probs, points, strict=True):
            if b is None or len(b) == 0:
                out.append(
                    (
                        np.zeros((0, 4), np.float32),
                        np.zeros(0, np.float32),
                        np.zeros((0, 5, 2), np.float32),
                    )
                )
                continue
            n = len(b)
            out.append(
                (
                    np.asarray(np.stack(list(b)), np.float32).reshape(n, 4),
                    np.asarray(np.stack(list(p)), np.float32).reshape(n),
                    np.asarray(np.stack(list(pt)), np.float32).reshape(n, 5, 2),
                )
            )
        return out
