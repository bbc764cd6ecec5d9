"""Face alignment: 5-point similarity warp (dlib, MobileFaceNet) or box crop (InceptionResnetV1)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from face_model.backbones import BackboneSpec
from face_model.detect import Detection


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2 x 3 least-squares similarity transform mapping ``src`` points onto ``dst`` (Umeyama)."""
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1
    rotation = u @ np.diag(d) @ vt
    var = (src_c**2).sum() / len(src)
    scale = (s * d).sum() / var if var > 0 else 1.0
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - scale * rotation @ src_mean
    return matrix


_MARGIN = 4
"""Pixels kept around the region a warp reads from."""


def warp_affine(image: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Warp ``image`` by the forward 2 x 3 ``matrix`` into an output of (height, width)."""
    full = np.vstack([matrix, [0.0, 0.0, 1.0]])
    inverse = np.linalg.inv(full)[:2]  # PIL maps output pixels back to input pixels
    height, width = size
    # only the part of the image the output maps back to (and a margin for the bilinear
    # filter) is handed to PIL: not a copy of a whole 1080p frame per face
    corners = np.array([[0, 0, 1], [width, 0, 1], [0, height, 1], [width, height, 1]], float)
    back = corners @ inverse.T
    rows, cols = image.shape[:2]
    left = int(np.clip(np.floor(back[:, 0].min()) - _MARGIN, 0, cols))
    top = int(np.clip(np.floor(back[:, 1].min()) - _MARGIN, 0, rows))
    right = int(np.clip(np.ceil(back[:, 0].max()) + _MARGIN, left, cols))
    bottom = int(np.clip(np.ceil(back[:, 1].max()) + _MARGIN, top, rows))
    if right > left and bottom > top:
        image = image[top:bottom, left:right]
        inverse = inverse - np.array([[0, 0, left], [0, 0, top]], float)
    warped = Image.fromarray(np.ascontiguousarray(image)).transform(
        (width, height),
        Image.Transform.AFFINE,
        data=tuple(inverse.flatten()),
        resample=Image.Resampling.BILINEAR,
    )
    return np.asarray(warped)


def crop_box(
    image: np.ndarray, box: tuple[float, float, float, float], size: tuple[int, int], margin: float
) -> np.ndarray:
    """Crop ``box`` (plus ``margin`` of its size on each side) and resize to (height, width)."""
    x1, y1, x2, y2 = box
    mx, my = (x2 - x1) * margin, (y2 - y1) * margin
    height, width = image.shape[:2]
    left = int(max(0, np.floor(x1 - mx)))
    top = int(max(0, np.floor(y1 - my)))
    right = int(min(width, np.ceil(x2 + mx)))
    bottom = int(min(height, np.ceil(y2 + my)))
    if right <= left or bottom <= top:
        raise ValueError(f"face box {box} lies outside the {width}x{height} image")
    crop = Image.fromarray(image[top:bottom, left:right])
    return np.asarray(crop.resize((size[1], size[0]), Image.Resampling.BILINEAR))


def align_face(image: np.ndarray, detection: Detection, spec: BackboneSpec) -> np.ndarray:
    """The aligned RGB uint8 crop that ``spec``'s network expects."""
    if spec.alignment == "similarity-5pt":
        matrix = similarity_transform(detection.landmarks, np.asarray(spec.reference_points))
        return warp_affine(image, matrix, spec.input_size)
    return crop_box(image, detection.box, spec.input_size, spec.box_margin)
