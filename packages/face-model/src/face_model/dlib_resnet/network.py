"""dlib's face-recognition ResNet (``dlib_face_recognition_resnet_model_v1.dat``) as data.

:func:`load_network` parses the file with :class:`DlibReader` into a :class:`DlibResNet`:
the input's channel means and size, the layers in forward order with numpy weights, and
the metric loss's distance threshold. The file is checked against the network dlib
defines (``anet_type`` in dlib's ``examples/dnn_face_recognition_ex.cpp``)::

    loss_metric<fc_no_bias<128, avg_pool_everything<level0<level1<level2<level3<level4<
        max_pool<3,3,2,2, relu<affine<con<32,7,7,2,2, input_rgb_image_sized<150>>>>>>>>>>>>>

dlib serializes a network outermost first: the loss, then every wrapper's version down
to the input layer, then each layer's parameters from the input outwards. ``tag``,
``skip`` and ``add_prev`` carry no tag ids in the file, so their ids come from dlib's
definition of the network, which the file must match layer for layer.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeAlias

import numpy as np
from numpy.typing import NDArray

from face_model.dlib_resnet.serialize import DlibReader
from face_model.errors import WeightsError

DLIB_MODEL_PACKAGE: Final = "face_recognition_models"
DLIB_MODEL_FILENAME: Final = "dlib_face_recognition_resnet_model_v1.dat"
DLIB_INPUT_SIZE: Final = 150
"""Side of the square RGB face chip the network takes."""
DLIB_CHANNEL_MEANS: Final = (122.782, 117.001, 104.298)
"""Per-channel means (R, G, B) subtracted before dividing by 256."""
DLIB_INPUT_SCALE: Final = 256.0
DLIB_DESCRIPTOR_SIZE: Final = 128
DLIB_DISTANCE_THRESHOLD: Final = 0.6
"""Euclidean distance under which dlib deems two descriptors the same person."""
DLIB_CHIP_POINTS: Final = (
    (47.55, 46.60),
    (100.48, 46.60),
    (74.01, 76.56),
    (50.41, 103.02),
    (97.61, 103.02),
)
"""Five-point targets in the 150x150 chip: left eye centre, right eye centre, nose tip,
left mouth corner, right mouth corner (x, y)."""

_MEAN_TOLERANCE: Final = 1e-3
_INPUT_LAYER: Final = "input_rgb_image_sized"
_INPUT_PREFIX: Final = bytes([1, len(_INPUT_LAYER)]) + _INPUT_LAYER.encode()  # as serialized
_CONV_MODE: Final = 0
_FC_HAS_BIAS, _FC_NO_BIAS = 0, 1
_INT: Final = 4  # sizeof(int), sizeof(unsigned int); long, size_t: the reader's default 8

Array: TypeAlias = NDArray[np.float32]


@dataclass(frozen=True)
class InputSpec:
    """``input_rgb_image_sized``: RGB chips of ``size`` x ``size``, (x - mean) / 256."""

    means: tuple[float, float, float]
    size: int


@dataclass(frozen=True, eq=False)
class Conv:
    """``con_``: cross-correlation, OIHW ``weights``, per-filter ``bias``, square kernel."""

    weights: Array
    bias: Array
    stride: int
    padding: int

    @property
    def in_channels(self) -> int:
        return int(self.weights.shape[1])

    @property
    def out_channels(self) -> int:
        return int(self.weights.shape[0])

    @property
    def kernel(self) -> int:
        return int(self.weights.shape[2])


@dataclass(frozen=True, eq=False)
class Affine:
    """``affine_`` in conv mode: ``x * gamma[c] + beta[c]`` (batch norm at inference)."""

    gamma: Array
    beta: Array


@dataclass(frozen=True)
class Relu:
    """``relu_``."""


@dataclass(frozen=True)
class MaxPool:
    """``max_pool_``; ``size`` 0 pools the whole input."""

    size: int
    stride: int
    padding: int


@dataclass(frozen=True)
class AvgPool:
    """``avg_pool_``; ``size`` 0 pools the whole input (``avg_pool_everything``)."""

    size: int
    stride: int
    padding: int


@dataclass(frozen=True)
class Tag:
    """``tag<id>``: remembers the current output under ``id``."""

    id: int


@dataclass(frozen=True)
class Skip:
    """``skip<id>``: continues from the output tagged ``id``."""

    id: int


@dataclass(frozen=True)
class AddPrev:
    """``add_prev<id>``: current + output tagged ``id``, the smaller zero-padded
    (channels, rows and columns at their ends) to the larger."""

    id: int


@dataclass(frozen=True, eq=False)
class FullyConnected:
    """``fc_``: ``flatten(x) @ weights`` (inputs x outputs) ``+ bias`` when there is one."""

    weights: Array
    bias: Array | None

    @property
    def in_features(self) -> int:
        return int(self.weights.shape[0])

    @property
    def out_features(self) -> int:
        return int(self.weights.shape[1])


Layer: TypeAlias = Conv | Affine | Relu | MaxPool | AvgPool | Tag | Skip | AddPrev | FullyConnected
Shape: TypeAlias = tuple[int, int, int]


@dataclass(frozen=True)
class MetricLoss:
    """``loss_metric_``: training margin and the distance threshold for "same person"."""

    margin: float
    distance_threshold: float


@dataclass(frozen=True, eq=False)
class DlibResNet:
    """The parsed network: input, layers in forward order, loss."""

    input: InputSpec
    layers: tuple[Layer, ...]
    loss: MetricLoss

    def shapes(self) -> list[Shape]:
        """Each layer's output shape (channels, rows, columns), for one sample."""
        return feature_shapes(self.layers, self.input.size)


def dlib_model_file() -> Path:
    """The ``.dat`` file shipped by PyPI's ``face-recognition-models`` (never imported)."""
    spec = importlib.util.find_spec(DLIB_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(
            f"the package {DLIB_MODEL_PACKAGE!r} (PyPI: face-recognition-models) is not "
            f"installed; it ships {DLIB_MODEL_FILENAME} (run `uv sync`)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / DLIB_MODEL_FILENAME
    if not path.is_file():
        raise WeightsError(f"dlib model file not found: {path} (reinstall face-recognition-models)")
    return path


def load_network(path: str | Path) -> DlibResNet:
    """Read and validate dlib's face-recognition ResNet from a ``.dat`` file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WeightsError(f"cannot read dlib model file {path}: {exc}") from exc
    return parse_network(data, source=str(path))


def parse_network(data: bytes, source: str = "<bytes>") -> DlibResNet:
    """Parse and validate the network from the bytes of a ``.dat`` file."""
    r = DlibReader(data, source)
    loss = _read_loss(r)
    wrappers, input_version = _read_wrapper_versions(r)
    input_spec = _read_input(r)
    found = [_read_add_layer_body(r, 0, input_version=input_version)]
    for kind in reversed(wrappers):
        if kind == "marker":  # tag or skip: the version was all there was
            found.append((r.offset, None))
        else:
            found.append(_read_add_layer_body(r, len(found)))
    if r.remaining:
        raise r.error(f"expected the end of the file, {r.remaining} bytes remain")
    _check_counts(r, found)
    layers = _match_architecture(r, found)
    feature_shapes(layers, input_spec.size, source=source, offsets=[o for o, _ in found])
    return DlibResNet(input=input_spec, layers=layers, loss=loss)


def feature_shapes(
    layers: Sequence[Layer],
    size: int,
    *,
    source: str = "network",
    offsets: Sequence[int] | None = None,
) -> list[Shape]:
    """Output shape of each layer for one ``3 x size x size`` input; WeightsError where
    channels or features do not fit."""
    shape: Shape = (3, size, size)
    tags: dict[int, Shape] = {}
    shapes: list[Shape] = []
    for i, layer in enumerate(layers):
        try:
            shape = _SHAPE_RULES[type(layer)](layer, shape, tags)
            if min(shape) < 1:
                raise ValueError(f"output shape {shape} is empty")
        except ValueError as exc:
            at = f"byte {offsets[i]}: " if offsets is not None else ""
            name = type(layer).__name__
            raise WeightsError(f"{source}: {at}layer {i} ({name}): {exc}") from None
        shapes.append(shape)
    return shapes


def _conv_shape(layer: Conv, shape: Shape, tags: dict[int, Shape]) -> Shape:
    c, h, w = shape
    if layer.in_channels != c:
        raise ValueError(f"expects {layer.in_channels} input channels, gets {c}")
    k, s, p = layer.kernel, layer.stride, layer.padding
    return (layer.out_channels, _out_size(h, k, s, p), _out_size(w, k, s, p))


def _affine_shape(layer: Affine, shape: Shape, tags: dict[int, Shape]) -> Shape:
    if layer.gamma.size != shape[0]:
        raise ValueError(f"has {layer.gamma.size} channels, gets {shape[0]}")
    return shape


def _pool_shape(layer: MaxPool | AvgPool, shape: Shape, tags: dict[int, Shape]) -> Shape:
    c, h, w = shape
    kh, kw = (layer.size, layer.size) if layer.size else (h, w)
    s, p = layer.stride, layer.padding
    return (c, _out_size(h, kh, s, p), _out_size(w, kw, s, p))


def _tag_shape(layer: Tag, shape: Shape, tags: dict[int, Shape]) -> Shape:
    tags[layer.id] = shape
    return shape


def _tagged(layer: Skip | AddPrev, tags: dict[int, Shape]) -> Shape:
    if layer.id not in tags:
        raise ValueError(f"refers to tag {layer.id}, which no earlier layer set")
    return tags[layer.id]


def _skip_shape(layer: Skip, shape: Shape, tags: dict[int, Shape]) -> Shape:
    return _tagged(layer, tags)


def _add_prev_shape(layer: AddPrev, shape: Shape, tags: dict[int, Shape]) -> Shape:
    other = _tagged(layer, tags)
    return (max(shape[0], other[0]), max(shape[1], other[1]), max(shape[2], other[2]))


def _fc_shape(layer: FullyConnected, shape: Shape, tags: dict[int, Shape]) -> Shape:
    c, h, w = shape
    if layer.in_features != c * h * w:
        raise ValueError(f"expects {layer.in_features} inputs, gets {c}x{h}x{w}")
    return (layer.out_features, 1, 1)


def _same_shape(layer: Relu, shape: Shape, tags: dict[int, Shape]) -> Shape:
    return shape


_SHAPE_RULES: Final[dict[type, Callable[[Any, Shape, dict[int, Shape]], Shape]]] = {
    Conv: _conv_shape,
    Affine: _affine_shape,
    Relu: _same_shape,
    MaxPool: _pool_shape,
    AvgPool: _pool_shape,
    Tag: _tag_shape,
    Skip: _skip_shape,
    AddPrev: _add_prev_shape,
    FullyConnected: _fc_shape,
}


def _out_size(n: int, kernel: int, stride: int, padding: int) -> int:
    """dlib's (and ONNX's floor-mode) output size of a convolution or pooling."""
    return (n + 2 * padding - kernel) // stride + 1


# --- reading --------------------------------------------------------------------------


def _read_loss(r: DlibReader) -> MetricLoss:
    start = r.offset
    version = r.read_int("the loss layer's version")
    if version != 1:
        raise r.error(f"expected add_loss_layer version 1, got {version}", start)
    start = r.offset
    name = r.read_string("the loss layer's name")
    if name == "loss_metric_":  # dlib's first version hard-coded these
        return MetricLoss(margin=0.1, distance_threshold=0.75)
    if name != "loss_metric_2":
        raise r.error(f"expected loss_metric_ or loss_metric_2, found {name!r}", start)
    margin = r.read_float("loss_metric_'s margin", single=True)
    threshold = r.read_float("loss_metric_'s distance threshold", single=True)
    return MetricLoss(margin=margin, distance_threshold=threshold)


def _read_wrapper_versions(r: DlibReader) -> tuple[list[str], int]:
    """The versions written outermost first ("layer": add_layer, "marker": tag or skip),
    and that of the add_layer holding the input layer (2 or 3; the input's name follows)."""
    wrappers: list[str] = []
    while True:
        start = r.offset
        version = r.read_int("a layer version (add_layer, tag or skip)")
        if _at_input_layer(r, version):
            if version not in (2, 3):
                raise r.error(
                    f"expected add_layer version 2 or 3 over the input, got {version}", start
                )
            return wrappers, version
        if version == 2:
            wrappers.append("layer")
        elif version == 1:
            wrappers.append("marker")
        else:
            raise r.error(
                f"expected a layer version (2: add_layer, 1: tag or skip), got {version}", start
            )


def _at_input_layer(r: DlibReader, version: int) -> bool:
    """Whether an input layer follows (version 3 is only used there; version 2 is also an
    ordinary add_layer's, so look at what follows, even if the file is cut short)."""
    if version == 3:
        return True
    name = r.peek_string()
    if name is not None:
        return name.startswith("input")
    head = r.peek_bytes(len(_INPUT_PREFIX))  # cut short: let the input layer's read say so
    return version == 2 and bool(head) and _INPUT_PREFIX.startswith(head)


def _read_input(r: DlibReader) -> InputSpec:
    start = r.offset
    name = r.read_string("the input layer's name")
    if name != _INPUT_LAYER:
        raise r.error(f"expected the input layer {_INPUT_LAYER}, found {name!r}", start)
    means = tuple(r.read_float(f"{_INPUT_LAYER}'s {c} mean", single=True) for c in "RGB")
    rows = r.read_uint(f"{_INPUT_LAYER}'s rows")
    cols = r.read_uint(f"{_INPUT_LAYER}'s columns")
    if rows != DLIB_INPUT_SIZE or cols != DLIB_INPUT_SIZE:
        raise r.error(
            f"expected {_INPUT_LAYER}<{DLIB_INPUT_SIZE}>, found {rows} x {cols} chips", start
        )
    if any(abs(m - e) > _MEAN_TOLERANCE for m, e in zip(means, DLIB_CHANNEL_MEANS, strict=True)):
        raise r.error(
            f"expected the channel means {DLIB_CHANNEL_MEANS}, found {tuple(means)}", start
        )
    return InputSpec(means=means, size=rows)  # type: ignore[arg-type]


def _read_add_layer_body(
    r: DlibReader, index: int, *, input_version: int | None = None
) -> tuple[int, Layer | None]:
    """One add_layer's layer parameters, then its training state (read and dropped).
    ``input_version``: that of the add_layer over the input layer, None for the others."""
    start = r.offset
    what = f"layer {index}"
    name = r.read_string(f"{what}'s name")
    reader = _DETAIL_READERS.get(name)
    if reader is None:
        raise r.error(
            f"expected {what}'s parameters (one of {sorted(_DETAIL_READERS)}), found {name!r}",
            start,
        )
    layer = reader(r, f"{what} ({name})")
    for flag in ("setup_called", "gradient_input_is_stale", "get_output_disabled"):
        r.read_bool(f"{what}'s {flag} flag")
    last = "params_grad" if input_version is None else "grad_final"
    for tensor in ("x_grad", "cached_output", last):
        r.read_tensor(f"{what}'s {tensor}")
    if input_version == 3:
        r.read_uint(f"{what}'s sample_expansion_factor", width=_INT)
    return start, layer


def _read_conv(r: DlibReader, what: str) -> Conv:
    start = r.offset
    params = r.read_tensor(f"{what} parameters")
    filters = r.read_int(f"{what} num_filters")
    nr, nc = r.read_int(f"{what} rows"), r.read_int(f"{what} columns")
    sy, sx = (r.read_int(f"{what} stride_{a}", width=_INT) for a in "yx")
    py, px = (r.read_int(f"{what} padding_{a}", width=_INT) for a in "yx")
    fshape = r.read_alias_tensor(f"{what} filters")
    bshape = r.read_alias_tensor(f"{what} biases")
    for m in ("learning_rate", "weight_decay", "bias_learning_rate", "bias_weight_decay"):
        r.read_float(f"{what} {m} multiplier")
    if nr != nc or sy != sx or py != px or min(nr, sy) < 1 or py < 0:
        raise r.error(
            f"{what}: expected a square kernel with equal strides and paddings, found "
            f"{nr}x{nc}, stride {sy},{sx}, padding {py},{px}",
            start,
        )
    if fshape[0] != filters or fshape[2:] != (nr, nc) or bshape != (1, filters, 1, 1):
        raise r.error(f"{what}: filters {fshape} / biases {bshape} do not fit {filters} filters")
    n_weights = math.prod(fshape)
    if params.size != n_weights + filters:
        raise r.error(f"{what}: {params.size} parameters, expected {n_weights} + {filters}")
    flat = params.reshape(-1)
    return Conv(
        weights=flat[:n_weights].reshape(fshape).copy(),
        bias=flat[n_weights:].copy(),
        stride=sy,
        padding=py,
    )


def _read_affine(r: DlibReader, what: str) -> Affine:
    params = r.read_tensor(f"{what} parameters")
    gshape = r.read_alias_tensor(f"{what} gamma")
    bshape = r.read_alias_tensor(f"{what} beta")
    mode = r.read_int(f"{what} mode", width=_INT)
    if mode != _CONV_MODE:
        raise r.error(f"{what}: expected conv mode ({_CONV_MODE}), found mode {mode}")
    channels = gshape[1]
    if gshape != (1, channels, 1, 1) or bshape != gshape or params.size != 2 * channels:
        raise r.error(f"{what}: gamma {gshape} / beta {bshape} do not fit {params.size} values")
    flat = params.reshape(-1)
    return Affine(gamma=flat[:channels].copy(), beta=flat[channels:].copy())


def _read_pool(r: DlibReader, what: str) -> tuple[int, int, int]:
    start = r.offset
    nr, nc = r.read_int(f"{what} rows"), r.read_int(f"{what} columns")
    sy, sx = (r.read_int(f"{what} stride_{a}", width=_INT) for a in "yx")
    py, px = (r.read_int(f"{what} padding_{a}", width=_INT) for a in "yx")
    if nr != nc or sy != sx or py != px or nr < 0 or sy < 1 or py < 0:
        raise r.error(
            f"{what}: expected a square window with equal strides and paddings, found "
            f"{nr}x{nc}, stride {sy},{sx}, padding {py},{px}",
            start,
        )
    return nr, sy, py


def _read_fc(r: DlibReader, what: str) -> FullyConnected:
    outputs = r.read_uint(f"{what} num_outputs")
    inputs = r.read_uint(f"{what} num_inputs")
    params = r.read_tensor(f"{what} parameters")
    wshape = r.read_alias_tensor(f"{what} weights")
    bshape = r.read_alias_tensor(f"{what} biases")
    mode = r.read_int(f"{what} bias mode", width=_INT)
    for m in ("learning_rate", "weight_decay", "bias_learning_rate", "bias_weight_decay"):
        r.read_float(f"{what} {m} multiplier")
    if mode not in (_FC_HAS_BIAS, _FC_NO_BIAS):
        raise r.error(f"{what}: unknown bias mode {mode}")
    n_bias = outputs if mode == _FC_HAS_BIAS else 0
    if wshape != (inputs, outputs, 1, 1) or params.size != inputs * outputs + n_bias:
        raise r.error(
            f"{what}: weights {wshape} and {params.size} parameters do not fit "
            f"{inputs} inputs x {outputs} outputs"
        )
    if n_bias and bshape != (1, outputs, 1, 1):
        raise r.error(f"{what}: biases {bshape} do not fit {outputs} outputs")
    flat = params.reshape(-1)
    weights = flat[: inputs * outputs].reshape(inputs, outputs).copy()
    return FullyConnected(weights=weights, bias=flat[inputs * outputs :].copy() if n_bias else None)


_DETAIL_READERS: Final[dict[str, Callable[[DlibReader, str], Layer]]] = {
    "con_4": _read_conv,
    "affine_": _read_affine,
    "relu_": lambda r, what: Relu(),
    "max_pool_2": lambda r, what: MaxPool(*_read_pool(r, what)),
    "avg_pool_2": lambda r, what: AvgPool(*_read_pool(r, what)),
    "add_prev_": lambda r, what: AddPrev(0),  # the tag id is not serialized
    "fc_2": _read_fc,
}


# --- checking against dlib's definition ------------------------------------------------


@dataclass(frozen=True)
class _Want:
    """One layer of the expected network. ``n``: filters (con), outputs (fc) or tag id;
    ``kernel``: kernel or window size (0: the whole input); padding follows dlib's default
    (0 for strides other than 1, else kernel // 2)."""

    kind: str
    n: int = 0
    kernel: int = 0
    stride: int = 1

    @property
    def padding(self) -> int:
        return 0 if self.stride != 1 else self.kernel // 2

    def __str__(self) -> str:
        if self.kind == "con":
            return f"con<{self.n},{self.kernel}x{self.kernel},stride {self.stride}>"
        if self.kind in ("max_pool", "avg_pool"):
            return f"{self.kind}<{self.kernel}x{self.kernel},stride {self.stride}>"
        if self.kind in ("tag", "skip", "add_prev"):
            return f"{self.kind}{self.n}"
        return f"fc_no_bias<{self.n}>" if self.kind == "fc" else self.kind


def _block(n: int, stride: int) -> list[_Want]:
    return [
        _Want("con", n, 3, stride),
        _Want("affine"),
        _Want("relu"),
        _Want("con", n, 3, 1),
        _Want("affine"),
    ]


def _level(n: int, residuals: int, *, down: bool) -> list[_Want]:
    """``ares_down<n>`` (when ``down``) then ``residuals`` x ``ares<n>``."""
    wants: list[_Want] = []
    if down:  # relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<n,2,tag1<SUBNET>>>>>>>>
        wants += [_Want("tag", 1), *_block(n, 2), _Want("tag", 2), _Want("skip", 1)]
        wants += [_Want("avg_pool", 0, 2, 2), _Want("add_prev", 2), _Want("relu")]
    for _ in range(residuals):  # relu<add_prev1<block<n,1,tag1<SUBNET>>>>
        wants += [_Want("tag", 1), *_block(n, 1), _Want("add_prev", 1), _Want("relu")]
    return wants


ARCHITECTURE: Final[tuple[_Want, ...]] = (
    _Want("con", 32, 7, 2),
    _Want("affine"),
    _Want("relu"),
    _Want("max_pool", 0, 3, 2),
    *_level(32, 3, down=False),
    *_level(64, 3, down=True),
    *_level(128, 2, down=True),
    *_level(256, 2, down=True),
    *_level(256, 0, down=True),
    _Want("avg_pool", 0, 0, 1),
    _Want("fc", DLIB_DESCRIPTOR_SIZE),
)
"""dlib's ``anet_type`` in forward order (the input layer excluded)."""
_N_CONV: Final = sum(w.kind == "con" for w in ARCHITECTURE)  # 29
_N_ADD_PREV: Final = sum(w.kind == "add_prev" for w in ARCHITECTURE)  # 14
_FC_INPUTS: Final = 256


def _describe(layer: Layer | None) -> str:
    match layer:
        case None:
            return "a tag or skip"
        case Conv():
            k = layer.kernel
            return f"con<{layer.out_channels},{k}x{k},stride {layer.stride},pad {layer.padding}>"
        case MaxPool() | AvgPool():
            kind = "max_pool" if isinstance(layer, MaxPool) else "avg_pool"
            return f"{kind}<{layer.size}x{layer.size},stride {layer.stride},pad {layer.padding}>"
        case FullyConnected():
            bias = "" if layer.bias is None else " with bias"
            return f"fc<{layer.in_features}->{layer.out_features}{bias}>"
        case _:
            return type(layer).__name__.lower()


def _signature(layer: Layer | None) -> tuple[object, ...]:
    """What must agree between a parsed layer and its :class:`_Want`."""
    match layer:
        case None:
            return ("marker",)
        case Conv():
            return ("con", layer.out_channels, layer.kernel, layer.stride, layer.padding)
        case MaxPool() | AvgPool():
            kind = "max_pool" if isinstance(layer, MaxPool) else "avg_pool"
            return (kind, layer.size, layer.stride, layer.padding)
        case FullyConnected():
            return ("fc", layer.out_features, layer.bias is None)
        case _:
            return (type(layer).__name__,)


def _wanted_signature(want: _Want) -> tuple[object, ...]:
    kind = want.kind
    if kind == "con":
        return (kind, want.n, want.kernel, want.stride, want.padding)
    if kind in ("max_pool", "avg_pool"):
        return (kind, want.kernel, want.stride, want.padding)
    if kind == "fc":
        return (kind, want.n, True)
    if kind in ("tag", "skip"):
        return ("marker",)
    return ({"affine": "Affine", "relu": "Relu", "add_prev": "AddPrev"}[kind],)


def _fit(want: _Want, layer: Layer | None) -> Layer | None:
    """``layer`` (tag ids filled in) if it is what ``want`` describes, else None."""
    if _signature(layer) != _wanted_signature(want):
        return None
    tagged: dict[str, type[Tag | Skip | AddPrev]] = {"tag": Tag, "skip": Skip, "add_prev": AddPrev}
    return tagged[want.kind](want.n) if want.kind in tagged else layer


def _check_counts(r: DlibReader, found: list[tuple[int, Layer | None]]) -> None:
    """The headline figures first, for clearer errors than a layer-by-layer mismatch."""
    first = found[0][0]
    convs = sum(isinstance(layer, Conv) for _, layer in found)
    joins = sum(isinstance(layer, AddPrev) for _, layer in found)
    if convs != _N_CONV:
        raise r.error(f"layers from here: expected {_N_CONV} con_ layers, found {convs}", first)
    if joins != _N_ADD_PREV:
        raise r.error(
            f"layers from here: expected {_N_ADD_PREV} add_prev_ layers, found {joins}", first
        )
    at, fc = found[-1]
    if not (
        isinstance(fc, FullyConnected)
        and (fc.in_features, fc.out_features) == (_FC_INPUTS, DLIB_DESCRIPTOR_SIZE)
        and fc.bias is None
    ):
        raise r.error(
            f"expected the last layer to be fc_no_bias {_FC_INPUTS} -> "
            f"{DLIB_DESCRIPTOR_SIZE}, found {_describe(fc)}",
            at,
        )
    if len(found) != len(ARCHITECTURE):
        raise r.error(
            f"layers from here: expected {len(ARCHITECTURE)} layers, found {len(found)}", first
        )


def _match_architecture(r: DlibReader, found: list[tuple[int, Layer | None]]) -> tuple[Layer, ...]:
    layers: list[Layer] = []
    for i, (want, (at, layer)) in enumerate(zip(ARCHITECTURE, found, strict=True)):
        fitted = _fit(want, layer)
        if fitted is None:
            raise r.error(
                f"layer {i}: expected {want} (dlib's face-recognition ResNet), "
                f"found {_describe(layer)}",
                at,
            )
        layers.append(fitted)
    return tuple(layers)
