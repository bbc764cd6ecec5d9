"""MTCNN face detection on ONNX Runtime and numpy, converted from facenet-pytorch's weights.

No torch at any point: :func:`convert_all` reads the ``.pt`` files facenet-pytorch ships
and writes three ONNX graphs; :class:`MtcnnDetector` runs them. Names load on first use,
so ``import face_model.mtcnn`` imports neither onnx nor onnxruntime.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from face_model.mtcnn.detector import (
        DEFAULT_FACTOR,
        DEFAULT_THRESHOLDS,
        Detections,
        MtcnnDetector,
    )
    from face_model.mtcnn.graphs import build_onet, build_pnet, build_rnet, convert_all
    from face_model.mtcnn.legacy_torch import mtcnn_weight_files, read_legacy_state_dict

_LAZY: dict[str, str] = {
    "DEFAULT_FACTOR": "face_model.mtcnn.detector",
    "DEFAULT_THRESHOLDS": "face_model.mtcnn.detector",
    "Detections": "face_model.mtcnn.detector",
    "MtcnnDetector": "face_model.mtcnn.detector",
    "build_onet": "face_model.mtcnn.graphs",
    "build_pnet": "face_model.mtcnn.graphs",
    "build_rnet": "face_model.mtcnn.graphs",
    "convert_all": "face_model.mtcnn.graphs",
    "mtcnn_weight_files": "face_model.mtcnn.legacy_torch",
    "read_legacy_state_dict": "face_model.mtcnn.legacy_torch",
}

__all__ = [
    "DEFAULT_FACTOR",
    "DEFAULT_THRESHOLDS",
    "Detections",
    "MtcnnDetector",
    "build_onet",
    "build_pnet",
    "build_rnet",
    "convert_all",
    "mtcnn_weight_files",
    "read_legacy_state_dict",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'face_model.mtcnn' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
