"""face_model: detect, align, embed and recognize faces; train, evaluate, enroll and export.

``import face_model`` is light (no torch, no onnxruntime): heavy modules load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from face_model.errors import (
    ArtifactError,
    DataError,
    DownloadError,
    FaceModelError,
    ModelDirError,
    UntrainedModelError,
    WeightsError,
)
from face_model.results import FaceMatch, PersonVote, RecognitionBatch
from face_model.voting import vote

if TYPE_CHECKING:
    from face_model.artifact import ExportReport, export_model, read_manifest
    from face_model.recognizer import Recognizer

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "Recognizer": "face_model.recognizer",
    "export_model": "face_model.artifact",
    "ExportReport": "face_model.artifact",
    "read_manifest": "face_model.artifact",
}

__all__ = [
    "ArtifactError",
    "DataError",
    "DownloadError",
    "ExportReport",
    "FaceMatch",
    "FaceModelError",
    "ModelDirError",
    "PersonVote",
    "RecognitionBatch",
    "Recognizer",
    "UntrainedModelError",
    "WeightsError",
    "__version__",
    "export_model",
    "read_manifest",
    "vote",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'face_model' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
