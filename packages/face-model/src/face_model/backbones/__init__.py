"""Embedding backbones: what each needs (input, alignment, preprocessing, metric) and where
its network comes from.

``dlib-resnet-v1`` (the default) is converted to ONNX from an installed wheel and needs no
torch. ``mobilefacenet`` and ``inception-resnet-v1`` are torch networks for people who bring
weights; they are trained and exported with the ``train`` extra and served as ONNX like the
default. Importing this module is light; torch is imported only by :func:`build_backbone`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from face_model.dlib_resnet import (
    DLIB_CHANNEL_MEANS,
    DLIB_CHIP_POINTS,
    DLIB_DESCRIPTOR_SIZE,
    DLIB_INPUT_SCALE,
    DLIB_INPUT_SIZE,
)

if TYPE_CHECKING:
    from torch import nn

Alignment = Literal["similarity-5pt", "box"]
Metric = Literal["cosine", "euclidean"]

# reference points of MTCNN's 5 landmarks (eyes, nose, mouth corners; x, y) in each chip
MOBILEFACENET_REFERENCE: tuple[tuple[float, float], ...] = (
    (30.2946, 51.6963),
    (65.5318, 51.5014),
    (48.0252, 71.7366),
    (33.5493, 92.3655),
    (62.7299, 92.2041),
)


@dataclass(frozen=True)
class BackboneSpec:
    """Static facts about one embedding network."""

    name: str
    input_size: tuple[int, int]  # height, width
    embedding_dim: int  # values per forward pass (doubled when ``flip``)
    alignment: Alignment
    flip: bool  # embedding = concat(f(x), f(flipped x))
    default_threshold: float  # similarity below which a face is unknown
    mean: tuple[float, float, float] = (127.5, 127.5, 127.5)  # per RGB channel
    scale: float = 1.0 / 128.0  # network input = (pixel - mean) * scale, NCHW
    metric: Metric = "cosine"
    reference_points: tuple[tuple[float, float], ...] = ()  # in the chip's pixels
    box_margin: float = 0.0  # fraction of the box size added around a "box" crop
    builtin: str | None = None  # name in face_model.model_cache.BUILTIN, else a torch net

    @property
    def feature_dim(self) -> int:
        """Length of the final embedding."""
        return self.embedding_dim * (2 if self.flip else 1)

    @property
    def needs_torch(self) -> bool:
        """True for networks built from a torch weights file (the ``train`` extra)."""
        return self.builtin is None


DLIB_RESNET = BackboneSpec(
    name="dlib-resnet-v1",
    input_size=(DLIB_INPUT_SIZE, DLIB_INPUT_SIZE),
    embedding_dim=DLIB_DESCRIPTOR_SIZE,
    alignment="similarity-5pt",
    flip=False,
    # similarity = 1 - Euclidean distance. Chosen on colour camera data (`tools faces bench
    # --threshold`: the Pi team's photos, the CSE 546 gallery photos and video faces, skimage's
    # astronaut and matplotlib's Grace Hopper): the best balanced accuracy is at 0.425
    # (distance 0.575; 98.9% against 94.1% at ORL's 0.5), with test_5's unenrolled second
    # person at <= 0.39 from everyone. ORL (92x112 grayscale) had given 0.501.
    default_threshold=0.425,
    mean=DLIB_CHANNEL_MEANS,
    scale=1.0 / DLIB_INPUT_SCALE,
    metric="euclidean",
    # dlib's chip: eye centres, nose tip, mouth corners of its mean face at padding 0.25
    reference_points=DLIB_CHIP_POINTS,
    builtin="dlib-resnet-v1",
)
MOBILEFACENET = BackboneSpec(
    name="mobilefacenet",
    input_size=(112, 96),
    embedding_dim=128,
    alignment="similarity-5pt",
    flip=True,
    default_threshold=0.45,
    reference_points=MOBILEFACENET_REFERENCE,
)
INCEPTION_RESNET_V1 = BackboneSpec(
    name="inception-resnet-v1",
    input_size=(160, 160),
    embedding_dim=512,
    alignment="box",
    flip=False,
    default_threshold=0.5,
)
BACKBONES: dict[str, BackboneSpec] = {
    b.name: b for b in (DLIB_RESNET, MOBILEFACENET, INCEPTION_RESNET_V1)
}
DEFAULT_BACKBONE = DLIB_RESNET.name
TORCH_BACKBONES = tuple(name for name, spec in BACKBONES.items() if spec.needs_torch)


def get_spec(name: str) -> BackboneSpec:
    """The spec of a backbone by name; ValueError naming the choices otherwise."""
    try:
        return BACKBONES[name]
    except KeyError:
        choices = ", ".join(sorted(BACKBONES))
        raise ValueError(f"unknown backbone {name!r}; choose one of: {choices}") from None


def build_backbone(name: str) -> nn.Module:
    """A fresh torch network with random weights, in eval mode, outputting raw features."""
    spec = get_spec(name)
    if not spec.needs_torch:
        raise ValueError(f"{name} is not a torch network (it is converted from {spec.builtin})")
    if spec.name == "mobilefacenet":
        from face_model.backbones.mobilefacenet import MobileFaceNet

        net: nn.Module = MobileFaceNet()
    else:
        from face_model.backbones.inception import EmbeddingInceptionResnetV1

        net = EmbeddingInceptionResnetV1()
    return net.eval()
