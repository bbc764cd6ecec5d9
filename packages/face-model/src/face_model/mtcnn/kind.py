"""MTCNN's entry in face-model's detector registry: its networks, files and weights."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from face_model.detect import DetectorFactory, DetectorKind

if TYPE_CHECKING:
    import onnx

    from face_model.model_cache import BuiltinModel

STAGES = ("pnet", "rnet", "onet")


def _builtin_model(stage: str) -> BuiltinModel:
    from face_model.model_cache import BuiltinModel

    def locate() -> Path:
        from face_model.mtcnn import mtcnn_weight_files

        return mtcnn_weight_files()[stage]

    def convert(source: Path) -> onnx.ModelProto:
        from face_model.mtcnn import read_legacy_state_dict
        from face_model.mtcnn.graphs import BUILDERS

        return BUILDERS[stage](read_legacy_state_dict(source))

    return BuiltinModel(
        name=f"mtcnn-{stage}",
        description=f"MTCNN {stage[0].upper()}-Net (face detection)",
        package="facenet-pytorch",
        licence="MIT",
        locate=locate,
        convert=convert,
    )


def _source() -> str:
    try:
        return "facenet-pytorch " + metadata.version("facenet-pytorch")
    except metadata.PackageNotFoundError:
        return "facenet-pytorch unknown"


def _factory() -> DetectorFactory:
    from face_model.mtcnn.face_detector import MtcnnFaceDetector

    return MtcnnFaceDetector


MTCNN = DetectorKind(
    name="mtcnn",
    files={stage: f"detector/{stage}.onnx" for stage in STAGES},
    builtin={stage: f"mtcnn-{stage}" for stage in STAGES},
    builtin_models=lambda: [_builtin_model(stage) for stage in STAGES],
    source=_source,
    factory=_factory,
)
