"""face_model: detect, align, embed and recognize faces; train, evaluate, enroll and export.

``import face_model`` is light (no torch, no onnxruntime): heavy modules load on first use.
"""

from __future__ import annotations

from importlib import import_module, metadata
from typing import TYPE_CHECKING, Any

from face_model.errors import (
    ArtifactError,
    DataError,
    DownloadError,
    FaceModelError,
    ImageTooLargeError,
    ModelDirError,
    UntrainedModelError,
    WeightsError,
)
from face_model.results import FaceMatch, PersonVote, RecognitionBatch
from face_model.voting import decided, vote

if TYPE_CHECKING:
    from face_model.artifact import ExportReport, export_model, read_manifest
    from face_model.dataset import Dataset, discover
    from face_model.model_dir import TrainedModel, load_model
    from face_model.recognizer import Recognizer
    from face_model.training import (
        EnrollReport,
        build_model,
        build_model_from_folder,
        enroll,
        remove,
    )

    __version__: str

_LAZY: dict[str, str] = {
    "Recognizer": "face_model.recognizer",
    "export_model": "face_model.artifact",
    "ExportReport": "face_model.artifact",
    "read_manifest": "face_model.artifact",
    "Dataset": "face_model.dataset",
    "discover": "face_model.dataset",
    "TrainedModel": "face_model.model_dir",
    "load_model": "face_model.model_dir",
    "EnrollReport": "face_model.training",
    "build_model": "face_model.training",
    "build_model_from_folder": "face_model.training",
    "enroll": "face_model.training",
    "remove": "face_model.training",
}

__all__ = [
    "ArtifactError",
    "DataError",
    "Dataset",
    "DownloadError",
    "EnrollReport",
    "ExportReport",
    "FaceMatch",
    "FaceModelError",
    "ImageTooLargeError",
    "ModelDirError",
    "PersonVote",
    "RecognitionBatch",
    "Recognizer",
    "TrainedModel",
    "UntrainedModelError",
    "WeightsError",
    "__version__",
    "build_model",
    "build_model_from_folder",
    "decided",
    "discover",
    "enroll",
    "export_model",
    "load_model",
    "read_manifest",
    "remove",
    "vote",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":  # read from the installed distribution: pyproject.toml is its source
        return metadata.version("face-model")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'face_model' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
