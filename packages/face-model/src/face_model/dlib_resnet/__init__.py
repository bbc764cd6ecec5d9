"""dlib's public-domain face-recognition ResNet, read from its ``.dat`` without dlib and
converted to ONNX.

``from face_model.dlib_resnet import DLIB_CHIP_POINTS`` stays light (numpy only); the
ONNX names (``convert``, ``build_onnx``, ``normalise_chips``...) import onnx on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from face_model.dlib_resnet.network import (
    DLIB_CHANNEL_MEANS,
    DLIB_CHIP_POINTS,
    DLIB_DESCRIPTOR_SIZE,
    DLIB_DISTANCE_THRESHOLD,
    DLIB_INPUT_SCALE,
    DLIB_INPUT_SIZE,
    AddPrev,
    Affine,
    AvgPool,
    Conv,
    DlibResNet,
    FullyConnected,
    InputSpec,
    Layer,
    MaxPool,
    MetricLoss,
    Relu,
    Skip,
    Tag,
    dlib_model_file,
    load_network,
    parse_network,
)
from face_model.dlib_resnet.serialize import DlibReader

if TYPE_CHECKING:
    from face_model.dlib_resnet.onnx_graph import (
        INPUT_NAME,
        OPSET,
        OUTPUT_NAME,
        build_onnx,
        convert,
        normalise_chips,
    )

_LAZY = frozenset(
    {"INPUT_NAME", "OPSET", "OUTPUT_NAME", "build_onnx", "convert", "normalise_chips"}
)

__all__ = [
    "DLIB_CHANNEL_MEANS",
    "DLIB_CHIP_POINTS",
    "DLIB_DESCRIPTOR_SIZE",
    "DLIB_DISTANCE_THRESHOLD",
    "DLIB_INPUT_SCALE",
    "DLIB_INPUT_SIZE",
    "INPUT_NAME",
    "OPSET",
    "OUTPUT_NAME",
    "AddPrev",
    "Affine",
    "AvgPool",
    "Conv",
    "DlibReader",
    "DlibResNet",
    "FullyConnected",
    "InputSpec",
    "Layer",
    "MaxPool",
    "MetricLoss",
    "Relu",
    "Skip",
    "Tag",
    "build_onnx",
    "convert",
    "dlib_model_file",
    "load_network",
    "normalise_chips",
    "parse_network",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'face_model.dlib_resnet' has no attribute {name!r}")
    value = getattr(import_module("face_model.dlib_resnet.onnx_graph"), name)
    globals()[name] = value
    return value
