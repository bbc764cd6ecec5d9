"""MTCNN's P-Net, R-Net and O-Net as ONNX graphs (opset 17), built from numpy state dicts.

The graphs mirror ``facenet_pytorch/models/mtcnn.py`` layer for layer: 3x3/2x2 convolutions,
PReLU with per-channel slopes, max pooling with ``ceil_mode=True``, the N,W,H,C permute
before the dense layers of R-Net and O-Net, and a softmax over the two face/not-face logits.
Inputs are N x 3 x H x W float32 images scaled to [-1, 1). Conversion is deterministic.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from face_model.errors import WeightsError
from face_model.mtcnn.legacy_torch import MTCNN_NETS, mtcnn_weight_files, read_legacy_state_dict

OPSET = 17
IR_VERSION = 8
PRODUCER = "rollcall face_model.mtcnn"


class _Layer(NamedTuple):
    kind: str  # conv, prelu, pool, permute or dense
    name: str = ""
    kernel: int = 0  # conv/pool kernel size; dense: input width
    stride: int = 0


def _conv_block(i: int, kernel: int, pool: tuple[int, int] | None) -> list[_Layer]:
    block = [_Layer("conv", f"conv{i}", kernel), _Layer("prelu", f"prelu{i}")]
    if pool is not None:
        block.append(_Layer("pool", f"pool{i}", *pool))
    return block


_LAYERS: dict[str, list[_Layer]] = {
    "pnet": [
        *_conv_block(1, 3, (2, 2)),
        *_conv_block(2, 3, None),
        *_conv_block(3, 3, None),
    ],
    "rnet": [
        *_conv_block(1, 3, (3, 2)),
        *_conv_block(2, 3, (3, 2)),
        *_conv_block(3, 2, None),
        _Layer("permute"),
        _Layer("dense", "dense4", 576),
        _Layer("prelu", "prelu4"),
    ],
    "onet": [
        *_conv_block(1, 3, (3, 2)),
        *_conv_block(2, 3, (3, 2)),
        *_conv_block(3, 3, (2, 2)),
        *_conv_block(4, 2, None),
        _Layer("permute"),
        _Layer("dense", "dense5", 1152),
        _Layer("prelu", "prelu5"),
    ],
}

# heads: (output name, layer, kind, softmax?) in the order facenet-pytorch returns them
_HEADS: dict[str, list[tuple[str, str, str, bool]]] = {
    "pnet": [("reg", "conv4_2", "conv", False), ("prob", "conv4_1", "conv", True)],
    "rnet": [("reg", "dense5_2", "dense", False), ("prob", "dense5_1", "dense", True)],
    "onet": [
        ("reg", "dense6_2", "dense", False),
        ("landmarks", "dense6_3", "dense", False),
        ("prob", "dense6_1", "dense", True),
    ],
}

_INPUT_SIZE = {"pnet": None, "rnet": 24, "onet": 48}


class _Graph:
    """Accumulates nodes and initializers while checking the state dict it reads."""

    def __init__(self, net: str, state: Mapping[str, np.ndarray]) -> None:
        self.net = net
        self.state = state
        self.used: set[str] = set()
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []

    def param(self, key: str, shape: tuple[int, ...] | None = None) -> str:
        """Add ``state[key]`` (reshaped to ``shape``) as a float32 initializer."""
        if key not in self.state:
            raise WeightsError(f"{self.net}: state dict lacks {key!r}")
        value = np.asarray(self.state[key], dtype=np.float32)
        if shape is not None:
            if value.size != int(np.prod(shape)):
                raise WeightsError(f"{self.net}: {key!r} has shape {value.shape}, expected {shape}")
            value = value.reshape(shape)
        self.used.add(key)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), key))
        return key

    def node(self, op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def conv(self, x: str, name: str, kernel: int) -> str:
        weight = self.param(f"{name}.weight")
        if self.state[weight].ndim != 4 or self.state[weight].shape[2:] != (kernel, kernel):
            raise WeightsError(
                f"{self.net}: {weight!r} has shape {self.state[weight].shape}, "
                f"expected a {kernel}x{kernel} kernel"
            )
        bias = self.param(f"{name}.bias", (self.state[weight].shape[0],))
        return self.node("Conv", [x, weight, bias], name, kernel_shape=[kernel, kernel])

    def dense(self, x: str, name: str, width: int | None = None) -> str:
        weight = self.param(f"{name}.weight")
        shape = self.state[weight].shape
        if len(shape) != 2 or (width is not None and shape[1] != width):
            raise WeightsError(f"{self.net}: {weight!r} has shape {shape}, expected (*, {width})")
        bias = self.param(f"{name}.bias", (shape[0],))
        return self.node("Gemm", [x, weight, bias], name, transB=1)

    def prelu(self, x: str, name: str, spatial: bool) -> str:
        key = f"{name}.weight"
        channels = int(np.asarray(self.state.get(key, ())).size)
        shape = (channels, 1, 1) if spatial else (channels,)
        return self.node("PRelu", [x, self.param(key, shape)], name)

    def layers(self, x: str) -> str:
        spatial = True
        for layer in _LAYERS[self.net]:
            if layer.kind == "conv":
                x = self.conv(x, layer.name, layer.kernel)
            elif layer.kind == "prelu":
                x = self.prelu(x, layer.name, spatial)
            elif layer.kind == "pool":
                x = self.node(
                    "MaxPool",
                    [x],
                    layer.name,
                    kernel_shape=[layer.kernel, layer.kernel],
                    strides=[layer.stride, layer.stride],
                    ceil_mode=1,
                )
            elif layer.kind == "permute":
                # torch: x.permute(0, 3, 2, 1).contiguous().view(N, -1)
                x = self.node("Transpose", [x], "permute", perm=[0, 3, 2, 1])
                x = self.node("Flatten", [x], "flatten", axis=1)
                spatial = False
            else:
                x = self.dense(x, layer.name, layer.kernel)
        return x

    def check_all_used(self) -> None:
        unused = sorted(set(self.state) - self.used)
        if unused:
            raise WeightsError(f"{self.net}: unexpected state dict entries {unused}")


def _build(net: str, state: Mapping[str, np.ndarray]) -> onnx.ModelProto:
    graph = _Graph(net, state)
    size = _INPUT_SIZE[net]
    dims: list[int | str] = ["N", 3, "H", "W"] if size is None else ["N", 3, size, size]
    trunk = graph.layers("input")
    outputs = []
    for out, layer, kind, softmax in _HEADS[net]:
        head = graph.conv(trunk, layer, 1) if kind == "conv" else graph.dense(trunk, layer)
        if softmax:
            head = graph.node("Softmax", [head], f"{layer}_softmax", axis=1)
        graph.nodes.append(helper.make_node("Identity", [head], [out], name=out))
        width = state[f"{layer}.bias"].shape[0]
        shape: list[int | str] = ["N", width, "h", "w"] if kind == "conv" else ["N", width]
        outputs.append(helper.make_tensor_value_info(out, TensorProto.FLOAT, shape))
    graph.check_all_used()
    model = helper.make_model(
        helper.make_graph(
            graph.nodes,
            f"mtcnn_{net}",
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, dims)],
            outputs,
            initializer=graph.inits,
        ),
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name=PRODUCER,
        ir_version=IR_VERSION,
    )
    onnx.checker.check_model(model, full_check=True)
    return model


def build_pnet(state: Mapping[str, np.ndarray]) -> onnx.ModelProto:
    """P-Net: ``input`` N x 3 x H x W -> ``reg`` N x 4 x h x w, ``prob`` N x 2 x h x w."""
    return _build("pnet", state)


def build_rnet(state: Mapping[str, np.ndarray]) -> onnx.ModelProto:
    """R-Net: ``input`` N x 3 x 24 x 24 -> ``reg`` N x 4, ``prob`` N x 2."""
    return _build("rnet", state)


def build_onet(state: Mapping[str, np.ndarray]) -> onnx.ModelProto:
    """O-Net: ``input`` N x 3 x 48 x 48 -> ``reg`` N x 4, ``landmarks`` N x 10, ``prob`` N x 2."""
    return _build("onet", state)


BUILDERS: dict[str, Callable[[Mapping[str, np.ndarray]], onnx.ModelProto]] = {
    "pnet": build_pnet,
    "rnet": build_rnet,
    "onet": build_onet,
}


def convert_all(
    out_dir: str | Path, weight_files: Mapping[str, str | Path] | None = None
) -> dict[str, Path]:
    """Write ``pnet.onnx``, ``rnet.onnx`` and ``onet.onnx`` into ``out_dir``; their paths.

    ``weight_files`` defaults to facenet-pytorch's shipped ``.pt`` files. The same input
    bytes always give byte-identical ONNX files; each is written atomically.
    """
    sources = dict(weight_files) if weight_files is not None else mtcnn_weight_files()
    missing = [net for net in MTCNN_NETS if net not in sources]
    if missing:
        raise WeightsError(f"no weights file given for {missing}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for net in MTCNN_NETS:
        model = BUILDERS[net](read_legacy_state_dict(sources[net]))
        target = out / f"{net}.onnx"
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(model.SerializeToString())
        tmp.replace(target)
        written[net] = target
    return written
