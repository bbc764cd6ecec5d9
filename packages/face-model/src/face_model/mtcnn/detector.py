"""MTCNN face detection on ONNX Runtime: facenet-pytorch's ``detect_face`` ported to numpy.

The glue follows facenet-pytorch 2.5.3 step for step (image pyramid, P-Net, NMS, R-Net,
O-Net, box regression, landmarks) so results match it; all resampling is torch's
``interpolate(mode='area')`` (adaptive average pooling), computed exactly from integral
images. R-Net and O-Net each run once per :meth:`MtcnnDetector.detect` call, over the
candidates of every frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import onnxruntime as ort

from face_model.detect import check_frame
from face_model.errors import WeightsError

Detections = tuple[np.ndarray, np.ndarray, np.ndarray]
"""Per frame: boxes N x 4 (x1, y1, x2, y2), probabilities N, landmarks N x 5 x 2 (x, y)."""

DEFAULT_THRESHOLDS = (0.6, 0.7, 0.7)
DEFAULT_FACTOR = 0.709
_OUTPUTS = {"pnet": ("reg", "prob"), "rnet": ("reg", "prob"), "onet": ("reg", "landmarks", "prob")}
_CROP = {"rnet": 24, "onet": 48}


def _empty() -> Detections:
    return (
        np.zeros((0, 4), np.float32),
        np.zeros((0,), np.float32),
        np.zeros((0, 5, 2), np.float32),
    )


def _check_frames(frames: Sequence[Any]) -> list[np.ndarray]:
    return [check_frame(frame, i) for i, frame in enumerate(frames)]


def _integral(frame: np.ndarray) -> np.ndarray:
    """Summed-area table, channels first: 3 x (H + 1) x (W + 1), exact (integers)."""
    height, width = frame.shape[:2]
    dtype = np.int32 if height * width * 255 < 2**31 else np.int64
    table = np.zeros((3, height + 1, width + 1), dtype)
    sums = table[:, 1:, 1:]
    sums[...] = frame.transpose(2, 0, 1)
    np.add.accumulate(sums, axis=1, out=sums)
    np.add.accumulate(sums, axis=2, out=sums)
    return table


def _bins(start: np.ndarray, length: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive-pooling windows [lo, hi) of ``size`` bins over ``[start, start + length)``.

    torch's ``interpolate(mode='area')``: bin i spans floor(i * n / size) to
    ceil((i + 1) * n / size). Vectorised over ``start``/``length``: ... x size arrays.
    """
    i = np.arange(size)
    length = length[..., None]
    lo = start[..., None] + (i * length) // size
    hi = start[..., None] + ((i + 1) * length + size - 1) // size
    return lo, hi


def _normalize(sums: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Pixel sums over bins of ``area`` pixels -> float32 in [-1, 1), as facenet-pytorch."""
    mean = sums.astype(np.float32) / area.astype(np.float32)
    return (mean - np.float32(127.5)) * np.float32(0.0078125)


def _resize_frames(tables: np.ndarray, height: int, width: int) -> np.ndarray:
    """Area resize of whole frames (N integral tables) to N x 3 x height x width."""
    r0, r1 = _bins(np.array(0), np.array(tables.shape[2] - 1), height)
    c0, c1 = _bins(np.array(0), np.array(tables.shape[3] - 1), width)
    rows = np.take(tables, r1, axis=2) - np.take(tables, r0, axis=2)
    sums = np.take(rows, c1, axis=3) - np.take(rows, c0, axis=3)
    return _normalize(sums, (r1 - r0)[:, None] * (c1 - c0)[None, :])


def _resize_crops(table: np.ndarray, windows: np.ndarray, size: int) -> np.ndarray:
    """Area resize of crops of one frame to K x 3 x size x size.

    ``windows``: K x 4 ints (y0, y1, x0, x1), the crops' rows [y0, y1) and columns [x0, x1).
    """
    r0, r1 = _bins(windows[:, 0], windows[:, 1] - windows[:, 0], size)
    c0, c1 = _bins(windows[:, 2], windows[:, 3] - windows[:, 2], size)
    stride = table.shape[2]
    r0, r1 = r0[:, :, None] * stride, r1[:, :, None] * stride
    c0, c1 = c0[:, None, :], c1[:, None, :]
    flat = table.reshape(3, -1)
    sums = (
        np.take(flat, r1 + c1, axis=1)
        - np.take(flat, r0 + c1, axis=1)
        - np.take(flat, r1 + c0, axis=1)
        + np.take(flat, r0 + c0, axis=1)
    )
    area = (r1 - r0) // stride * (c1 - c0)
    return np.ascontiguousarray(_normalize(sums, area).transpose(1, 0, 2, 3))


def _frame_size(table: np.ndarray) -> tuple[int, int]:
    """A frame's height and width, from its integral table."""
    return table.shape[1] - 1, table.shape[2] - 1


def _pyramid(height: int, width: int, min_face_size: float, factor: float) -> list[float]:
    scale = 12.0 / min_face_size
    shortest = min(height, width) * scale
    scales = []
    while shortest >= 12:
        scales.append(scale)
        scale *= factor
        shortest *= factor
    return scales


def _nms(
    boxes: np.ndarray, scores: np.ndarray, groups: np.ndarray, threshold: float, mode: str
) -> np.ndarray:
    """Greedy NMS within each group; kept indices, highest score first.

    ``union``: torchvision's ``nms`` (IoU with areas without +1; equal scores in index
    order). ``min``: facenet-pytorch's ``nms_numpy`` (areas +1, overlap over the smaller
    area; equal scores in the reverse of numpy's default argsort, per group). Equal scores
    are common: boxes overflowing the frame on every side all crop the whole frame.
    """
    if len(boxes) == 0:
        return np.zeros(0, np.int64)
    if mode == "min":
        members = (np.flatnonzero(groups == g) for g in np.unique(groups))
        order = np.concatenate([m[np.argsort(scores[m])[::-1]] for m in members])
    else:
        order = np.argsort(-scores, kind="stable")
    x1, y1, x2, y2 = (boxes[order, i] for i in range(4))
    groups = groups[order]
    plus = np.float32(1.0 if mode == "min" else 0.0)
    area = (x2 - x1 + plus) * (y2 - y1 + plus)
    alive = np.ones(len(order), bool)
    keep = []
    for i in range(len(order)):
        if not alive[i]:
            continue
        keep.append(i)
        rest = i + 1 + np.flatnonzero(alive[i + 1 :] & (groups[i + 1 :] == groups[i]))
        if len(rest) == 0:
            continue
        w = np.maximum(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + plus, 0)
        h = np.maximum(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + plus, 0)
        inter = w * h
        if mode == "min":
            overlap = inter / np.minimum(area[i], area[rest])
        else:
            overlap = inter / (area[i] + area[rest] - inter)
        alive[rest[overlap > threshold]] = False
    return order[np.asarray(keep, np.int64)]


def _rerec(boxes: np.ndarray) -> np.ndarray:
    """Boxes made square (the longer side) about their centre."""
    out = boxes.copy()
    h = boxes[:, 3] - boxes[:, 1]
    w = boxes[:, 2] - boxes[:, 0]
    side = np.maximum(w, h)
    out[:, 0] = boxes[:, 0] + w * np.float32(0.5) - side * np.float32(0.5)
    out[:, 1] = boxes[:, 1] + h * np.float32(0.5) - side * np.float32(0.5)
    out[:, 2] = out[:, 0] + side
    out[:, 3] = out[:, 1] + side
    return out


def _bbreg(boxes: np.ndarray, reg: np.ndarray) -> np.ndarray:
    """Box regression as facenet-pytorch's ``bbreg`` (widths + 1)."""
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    out = boxes.copy()
    out[:, :4] = boxes[:, :4] + reg * np.stack([w, h, w, h], axis=1)
    return out


def _crop_windows(boxes: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """facenet-pytorch's ``pad``: crop rows/columns [y0, y1) x [x0, x1) and which are non-empty."""
    b = np.trunc(boxes[:, :4]).astype(np.int64)
    x0 = np.maximum(b[:, 0], 1) - 1
    y0 = np.maximum(b[:, 1], 1) - 1
    x1 = np.minimum(b[:, 2], width)
    y1 = np.minimum(b[:, 3], height)
    return np.stack([y0, y1, x0, x1], axis=1), (y1 > y0) & (x1 > x0)


class MtcnnDetector:
    """MTCNN over three ONNX files (see :func:`face_model.mtcnn.convert_all`).

    Sessions are created once; :meth:`detect` holds no state, so it is thread-safe.
    """

    def __init__(
        self, pnet: str | Path, rnet: str | Path, onet: str | Path, *, threads: int | None = None
    ) -> None:
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        self._sessions = {
            net: self._session(net, Path(path), threads)
            for net, path in (("pnet", pnet), ("rnet", rnet), ("onet", onet))
        }

    @classmethod
    def from_dir(cls, directory: str | Path, *, threads: int | None = None) -> MtcnnDetector:
        """From ``pnet.onnx``, ``rnet.onnx`` and ``onet.onnx`` in ``directory``."""
        d = Path(directory)
        return cls(d / "pnet.onnx", d / "rnet.onnx", d / "onet.onnx", threads=threads)

    @staticmethod
    def _session(net: str, path: Path, threads: int | None) -> ort.InferenceSession:
        from face_model.onnx_session import session as make_session

        if not path.is_file():
            raise WeightsError(f"{net} ONNX file not found: {path}")
        try:
            session = make_session(path, threads=threads)
        except Exception as exc:
            raise WeightsError(f"cannot load {net} ONNX file {path}: {exc}") from exc
        names = [i.name for i in session.get_inputs()]
        shape = list(session.get_inputs()[0].shape[1:]) if names else []
        outputs = sorted(o.name for o in session.get_outputs())
        side = _CROP.get(net)  # P-Net: dynamic height and width
        spatial = [side, side] if side else [d for d in shape[1:] if isinstance(d, str)]
        if names != ["input"] or shape != [3, *spatial] or outputs != sorted(_OUTPUTS[net]):
            raise WeightsError(
                f"{path} is not an MTCNN {net}: inputs {names} {shape}, outputs {outputs}"
            )
        return session

    def _run(self, net: str, batch: np.ndarray) -> list[np.ndarray]:
        outputs: list[np.ndarray] = self._sessions[net].run(list(_OUTPUTS[net]), {"input": batch})
        return outputs

    def detect(
        self,
        frames: Sequence[np.ndarray],
        min_face_size: float,
        *,
        thresholds: tuple[float, float, float] = DEFAULT_THRESHOLDS,
        factor: float = DEFAULT_FACTOR,
    ) -> list[Detections]:
        """Faces per frame (RGB uint8 H x W x 3, any shapes), most probable first.

        Per frame: boxes float32 N x 4 (x1, y1, x2, y2), probabilities float32 N and
        landmarks float32 N x 5 x 2 (x, y: left eye, right eye, nose, left and right mouth
        corners), in the frame's pixels. ``min_face_size`` (pixels) sets the pyramid's
        largest scale, 12 / min_face_size; ``factor`` is the step between scales.
        """
        if not min_face_size > 0:
            raise ValueError(f"min_face_size must be > 0, got {min_face_size}")
        if not 0 < factor < 1:
            raise ValueError(f"factor must be in (0, 1), got {factor}")
        if len(thresholds) != 3:
            raise ValueError(f"thresholds must be 3 values, got {thresholds!r}")
        images = _check_frames(frames)
        if not images:
            return []
        tables = [_integral(img) for img in images]
        boxes, owners = self._stage1(tables, min_face_size, factor, thresholds[0])
        boxes, owners = self._stage2(boxes, owners, tables, thresholds[1])
        boxes, owners, points = self._stage3(boxes, owners, tables, thresholds[2])
        return self._per_frame(len(images), boxes, owners, points)

    def refine(
        self,
        frames: Sequence[np.ndarray],
        seeds: Sequence[np.ndarray],
        *,
        threshold: float = DEFAULT_THRESHOLDS[2],
    ) -> list[Detections]:
        """O-Net alone on candidate boxes given per frame (K x 4 each, x1, y1, x2, y2): faces
        found in a neighbouring frame, re-located and re-scored here without the pyramid.

        Returns the same per-frame tuples as :meth:`detect`.
        """
        images = _check_frames(frames)
        if len(seeds) != len(images):
            raise ValueError(f"{len(seeds)} seed arrays for {len(images)} frames")
        boxes = np.concatenate(
            [np.zeros((0, 5), np.float32)]
            + [np.pad(np.asarray(s, np.float32).reshape(-1, 4), ((0, 0), (0, 1))) for s in seeds]
        )
        owners = np.concatenate(
            [np.zeros(0, np.int64)] + [np.full(len(s), i, np.int64) for i, s in enumerate(seeds)]
        )
        boxes = _rerec(boxes)
        # each frame's summed-area table covers only the part its crops read (not the frame)
        regions = [_Region(0, 0, *img.shape[:2]) for img in images]
        tables = [np.zeros((3, 1, 1), np.int32) for _ in images]
        for i, img in enumerate(images):
            mine = owners == i
            windows, valid = _crop_windows(boxes[mine], *img.shape[:2])
            if valid.any():
                top, bottom = windows[valid, 0].min(), windows[valid, 1].max()
                left, right = windows[valid, 2].min(), windows[valid, 3].max()
                regions[i] = _Region(int(top), int(left), *img.shape[:2])
                tables[i] = _integral(img[top:bottom, left:right])
        boxes, owners, points = self._stage3(boxes, owners, tables, threshold, regions)
        return self._per_frame(len(images), boxes, owners, points)

    def _per_frame(
        self, count: int, boxes: np.ndarray, owners: np.ndarray, points: np.ndarray
    ) -> list[Detections]:
        results = []
        for i in range(count):
            mine = np.flatnonzero(owners == i)
            mine = mine[np.argsort(-boxes[mine, 4], kind="stable")]
            results.append(
                (
                    np.ascontiguousarray(boxes[mine, :4]),
                    np.ascontiguousarray(boxes[mine, 4]),
                    np.ascontiguousarray(points[mine]),
                )
                if len(mine)
                else _empty()
            )
        return results

    def _stage1(
        self,
        tables: list[np.ndarray],
        min_face_size: float,
        factor: float,
        threshold: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """P-Net over each frame's pyramid (frames of one shape batched): square candidates."""
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for i, table in enumerate(tables):
            by_shape.setdefault(table.shape, []).append(i)
        found: list[np.ndarray] = [np.zeros((0, 9), np.float32)]
        owners: list[np.ndarray] = [np.zeros(0, np.int64)]
        for (_, rows, cols), members in by_shape.items():
            height, width = rows - 1, cols - 1
            stacked = np.stack([tables[i] for i in members])
            index = np.asarray(members, np.int64)
            for scale in _pyramid(height, width, min_face_size, factor):
                size = (int(height * scale + 1), int(width * scale + 1))
                reg, prob = self._run("pnet", _resize_frames(stacked, *size))
                boxes, which = _generate_boxes(reg, prob[:, 1], scale, threshold)
                keep = _nms(boxes[:, :4], boxes[:, 4], which, 0.5, "union")
                found.append(boxes[keep])
                owners.append(index[which[keep]])
        boxes, owner = np.concatenate(found), np.concatenate(owners)
        keep = _nms(boxes[:, :4], boxes[:, 4], owner, 0.7, "union")
        boxes, owner = boxes[keep], owner[keep]
        # P-Net's regression uses widths without +1
        w = boxes[:, 2] - boxes[:, 0]
        h = boxes[:, 3] - boxes[:, 1]
        shift = boxes[:, 5:9] * np.stack([w, h, w, h], axis=1)
        moved = np.concatenate([boxes[:, :4] + shift, boxes[:, 4:5]], axis=1)
        return _rerec(moved), owner

    def _stage2(
        self, boxes: np.ndarray, owners: np.ndarray, tables: list[np.ndarray], threshold: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """R-Net over every candidate of every frame (one call): refined square boxes."""
        boxes, owners, crops = _crops(boxes, owners, tables, _CROP["rnet"])
        if len(boxes) == 0:
            return boxes, owners
        reg, prob = self._run("rnet", crops)
        ok = prob[:, 1] > threshold
        boxes = np.concatenate([boxes[ok, :4], prob[ok, 1:2]], axis=1)
        owners, reg = owners[ok], reg[ok]
        keep = _nms(boxes[:, :4], boxes[:, 4], owners, 0.7, "union")
        return _rerec(_bbreg(boxes[keep], reg[keep])), owners[keep]

    def _stage3(
        self,
        boxes: np.ndarray,
        owners: np.ndarray,
        tables: list[np.ndarray],
        threshold: float,
        regions: list[_Region] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """O-Net over every candidate of every frame (one call): final boxes and landmarks."""
        boxes, owners, crops = _crops(boxes, owners, tables, _CROP["onet"], regions)
        if len(boxes) == 0:
            return boxes, owners, np.zeros((0, 5, 2), np.float32)
        reg, marks, prob = self._run("onet", crops)
        ok = prob[:, 1] > threshold
        boxes = np.concatenate([boxes[ok, :4], prob[ok, 1:2]], axis=1)
        owners, reg, marks = owners[ok], reg[ok], marks[ok]
        # landmarks are relative to the boxes O-Net saw (before its regression)
        w = (boxes[:, 2] - boxes[:, 0] + 1)[:, None]
        h = (boxes[:, 3] - boxes[:, 1] + 1)[:, None]
        points = np.stack(
            [w * marks[:, :5] + boxes[:, 0:1] - 1, h * marks[:, 5:] + boxes[:, 1:2] - 1], axis=2
        )
        boxes = _bbreg(boxes, reg)
        keep = _nms(boxes[:, :4], boxes[:, 4], owners, 0.7, "min")
        return boxes[keep], owners[keep], points[keep]


class _Region(NamedTuple):
    """Where a summed-area table lies in its frame: its top-left corner, and the frame's
    height and width."""

    top: int
    left: int
    height: int
    width: int


def _crops(
    boxes: np.ndarray,
    owners: np.ndarray,
    tables: list[np.ndarray],
    size: int,
    regions: list[_Region] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The candidates with a non-empty crop, and their crops resized to size x size.
    ``regions``: where each frame's table lies in it (None: the tables cover the frames).

    facenet-pytorch skips empty crops (boxes wholly outside the frame) and then fails;
    here such candidates are dropped.
    """
    if regions is None:
        regions = [_Region(0, 0, *_frame_size(table)) for table in tables]
    windows = np.zeros((len(boxes), 4), np.int64)
    valid = np.zeros(len(boxes), bool)
    for i in np.unique(owners):
        mine = owners == i
        region = regions[i]
        windows[mine], valid[mine] = _crop_windows(boxes[mine], region.height, region.width)
        windows[mine] -= np.array([region.top, region.top, region.left, region.left])
    boxes, owners, windows = boxes[valid], owners[valid], windows[valid]
    crops = np.zeros((len(boxes), 3, size, size), np.float32)
    for i in np.unique(owners):
        mine = owners == i
        crops[mine] = _resize_crops(tables[i], windows[mine], size)
    return boxes, owners, crops


def _generate_boxes(
    reg: np.ndarray, prob: np.ndarray, scale: float, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """P-Net cells at or above ``threshold``: K x 9 (x1, y1, x2, y2, score, reg) and frame."""
    which, ys, xs = np.nonzero(prob >= threshold)
    cell = np.stack([xs, ys], axis=1).astype(np.float32)
    scale32 = np.float32(scale)
    q1 = np.floor((2 * cell + 1) / scale32)
    q2 = np.floor((2 * cell + 12) / scale32)
    score = prob[which, ys, xs][:, None]
    offsets = reg[which, :, ys, xs]
    return np.concatenate([q1, q2, score, offsets], axis=1).astype(np.float32), which
