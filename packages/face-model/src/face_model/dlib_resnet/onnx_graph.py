"""dlib's face-recognition ResNet as an ONNX graph (opset 17), built with ``onnx.helper``.

Input ``input``: float32 N x 3 x 150 x 150, RGB, already normalised as dlib does,
``(x - mean_c) / 256`` (:func:`normalise_chips`). Output ``descriptor``: float32 N x 128,
raw (not normalised); dlib compares descriptors by Euclidean distance, same person under
0.6. Each ``affine_`` folds into the convolution before it; the same file gives
byte-identical models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

from face_model.dlib_resnet.network import (
    DLIB_CHANNEL_MEANS,
    DLIB_DESCRIPTOR_SIZE,
    DLIB_INPUT_SCALE,
    DLIB_INPUT_SIZE,
    AddPrev,
    Affine,
    AvgPool,
    Conv,
    DlibResNet,
    FullyConnected,
    Layer,
    MaxPool,
    Relu,
    Shape,
    Skip,
    Tag,
    dlib_model_file,
    load_network,
)

__all__ = [
    "INPUT_NAME",
    "OPSET",
    "OUTPUT_NAME",
    "build_onnx",
    "convert",
    "normalise_chips",
]

OPSET: Final = 17
IR_VERSION: Final = 8  # the IR of opset 17: loads in onnxruntime >= 1.13
INPUT_NAME: Final = "input"
OUTPUT_NAME: Final = "descriptor"
PRODUCER: Final = "rollcall face-model dlib_resnet"


def normalise_chips(chips: NDArray[np.uint8]) -> NDArray[np.float32]:
    """RGB uint8 chips (N x 150 x 150 x 3, or one 150 x 150 x 3) -> the graph's input,
    ``(x - mean_c) / 256`` in float32, N x 3 x 150 x 150, as dlib computes it."""
    batch = np.asarray(chips)
    if batch.ndim == 3:
        batch = batch[None]
    size = DLIB_INPUT_SIZE
    if batch.ndim != 4 or batch.shape[1:] != (size, size, 3) or batch.dtype != np.uint8:
        raise ValueError(
            f"expected uint8 RGB chips of {size}x{size}x3, got {batch.dtype} {batch.shape}"
        )
    means = np.asarray(DLIB_CHANNEL_MEANS, dtype=np.float32)
    x = (batch.astype(np.float32) - means) / np.float32(DLIB_INPUT_SCALE)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def convert(dat_path: str | Path | None = None) -> onnx.ModelProto:
    """Read dlib's ``.dat`` (default: :func:`dlib_model_file`) and build the ONNX model."""
    return build_onnx(load_network(dat_path if dat_path is not None else dlib_model_file()))


def build_onnx(network: DlibResNet, *, fold_affine: bool = True) -> onnx.ModelProto:
    """The ONNX model of ``network``; ``fold_affine=False`` keeps each affine as Mul/Add."""
    builder = _GraphBuilder(network.input.size)
    layers = network.layers
    i = 0
    while i < len(layers):
        layer = layers[i]
        after = layers[i + 1] if i + 1 < len(layers) else None
        if fold_affine and isinstance(layer, Conv) and isinstance(after, Affine):
            builder.conv(_fold(layer, after))
            i += 2
            continue
        builder.add(layer)
        i += 1
    graph = helper.make_graph(
        builder.nodes,
        "dlib_face_recognition_resnet_model_v1",
        inputs=[
            helper.make_tensor_value_info(
                INPUT_NAME, TensorProto.FLOAT, ["N", 3, network.input.size, network.input.size]
            )
        ],
        outputs=[
            helper.make_tensor_value_info(
                OUTPUT_NAME, TensorProto.FLOAT, ["N", DLIB_DESCRIPTOR_SIZE]
            )
        ],
        initializer=builder.initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name=PRODUCER,
        producer_version="1",
        doc_string=(
            "dlib's face-recognition ResNet (dlib_face_recognition_resnet_model_v1.dat, "
            "public domain). Input: RGB 150x150 chips, (x - mean_c)/256, NCHW. Output: "
            "128-d descriptors; same person when the Euclidean distance < 0.6."
        ),
    )
    model.ir_version = IR_VERSION
    means = ",".join(f"{m:.9g}" for m in network.input.means)
    helper.set_model_props(
        model,
        {
            "source": "dlib_face_recognition_resnet_model_v1.dat",
            "channel_means_rgb": means,
            "input_scale": f"{DLIB_INPUT_SCALE:g}",
            "distance_threshold": f"{network.loss.distance_threshold:.9g}",
        },
    )
    onnx.checker.check_model(model)
    return model


def _fold(conv: Conv, affine: Affine) -> Conv:
    """``affine(conv(x))`` as one convolution: weights * gamma, bias * gamma + beta."""
    gamma = affine.gamma.astype(np.float64)
    weights = conv.weights.astype(np.float64) * gamma[:, None, None, None]
    bias = conv.bias.astype(np.float64) * gamma + affine.beta.astype(np.float64)
    return Conv(
        weights=weights.astype(np.float32),
        bias=bias.astype(np.float32),
        stride=conv.stride,
        padding=conv.padding,
    )


class _GraphBuilder:
    """Appends nodes layer by layer, tracking the current tensor's name and shape."""

    def __init__(self, size: int) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.current = INPUT_NAME
        self.shape: Shape = (3, size, size)
        self._tags: dict[int, tuple[str, Shape]] = {}
        self._count = 0

    def _name(self, kind: str) -> str:
        self._count += 1
        return f"{kind}_{self._count}"

    def _const(self, name: str, value: NDArray[np.generic]) -> str:
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def _node(
        self, op: str, inputs: list[str], shape: Shape, *, out: str | None = None, **attrs: Any
    ) -> None:
        out = out or self._name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        self.current, self.shape = out, shape

    def add(self, layer: Layer) -> None:
        match layer:
            case Conv():
                self.conv(layer)
            case Affine():
                self.affine(layer)
            case Relu():
                self._node("Relu", [self.current], self.shape)
            case MaxPool() | AvgPool():
                self.pool(layer)
            case Tag():
                self._tags[layer.id] = (self.current, self.shape)
            case Skip():
                self.current, self.shape = self._tags[layer.id]
            case AddPrev():
                self.add_prev(layer)
            case FullyConnected():
                self.fc(layer)

    def conv(self, layer: Conv) -> None:
        _, h, w = self.shape
        k, s, p = layer.kernel, layer.stride, layer.padding
        base = f"conv{self._count + 1}"
        weights = self._const(f"{base}.weight", layer.weights)
        bias = self._const(f"{base}.bias", layer.bias)
        out = (layer.out_channels, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
        self._node(
            "Conv",
            [self.current, weights, bias],
            out,
            kernel_shape=[k, k],
            strides=[s, s],
            pads=[p, p, p, p],
        )

    def affine(self, layer: Affine) -> None:
        base = f"affine{self._count + 1}"
        gamma = self._const(f"{base}.gamma", layer.gamma.reshape(-1, 1, 1))
        beta = self._const(f"{base}.beta", layer.beta.reshape(-1, 1, 1))
        self._node("Mul", [self.current, gamma], self.shape)
        self._node("Add", [self.current, beta], self.shape)

    def pool(self, layer: MaxPool | AvgPool) -> None:
        c, h, w = self.shape
        op = "MaxPool" if isinstance(layer, MaxPool) else "AveragePool"
        if layer.size == 0 and layer.padding == 0:  # the whole input
            self._node(f"Global{op}", [self.current], (c, 1, 1))
            return
        kh, kw = (layer.size, layer.size) if layer.size else (h, w)
        s, p = layer.stride, layer.padding
        out = (c, (h + 2 * p - kh) // s + 1, (w + 2 * p - kw) // s + 1)
        attrs: dict[str, Any] = {"kernel_shape": [kh, kw], "strides": [s, s]}
        attrs["pads"] = [p, p, p, p]
        if op == "AveragePool":
            attrs["count_include_pad"] = 1  # dlib divides by the full window
        self._node(op, [self.current], out, **attrs)

    def add_prev(self, layer: AddPrev) -> None:
        """dlib's add_prev: the smaller operand zero-padded at the end of each axis."""
        other, other_shape = self._tags[layer.id]
        shape = (
            max(self.shape[0], other_shape[0]),
            max(self.shape[1], other_shape[1]),
            max(self.shape[2], other_shape[2]),
        )
        a = self._pad_to(self.current, self.shape, shape)
        b = self._pad_to(other, other_shape, shape)
        self._node("Add", [a, b], shape)

    def _pad_to(self, name: str, shape: Shape, target: Shape) -> str:
        if shape == target:
            return name
        ends = [t - s for s, t in zip(shape, target, strict=True)]
        pads = self._const(
            f"pads{self._count + 1}", np.array([0, 0, 0, 0, 0, *ends], dtype=np.int64)
        )
        saved = self.current, self.shape
        self._node("Pad", [name, pads], target, mode="constant")
        padded = self.current
        self.current, self.shape = saved
        return padded

    def fc(self, layer: FullyConnected) -> None:
        base = f"fc{self._count + 1}"
        out = (layer.out_features, 1, 1)
        self._node("Flatten", [self.current], (layer.in_features, 1, 1), axis=1)
        weights = self._const(f"{base}.weight", layer.weights)
        if layer.bias is None:
            self._node("MatMul", [self.current, weights], out, out=OUTPUT_NAME)
            return
        self._node("MatMul", [self.current, weights], out)
        bias = self._const(f"{base}.bias", layer.bias)
        self._node("Add", [self.current, bias], out, out=OUTPUT_NAME)
