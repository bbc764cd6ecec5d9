"""Embedding backbones: what each needs (input size, alignment, flip) and how to build it.

Importing this module is light; torch is imported only by :func:`build_backbone`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from torch import nn

Alignment = Literal["similarity-5pt", "box"]


@dataclass(frozen=True)
class BackboneSpec:
    """Static facts about one embedding network."""

    name: str
    input_size: tuple[int, int]  # height, width
    embedding_dim: int  # values per forward pass (doubled when ``flip``)
    alignment: Alignment
    flip: bool  # embedding = concat(f(x), f(flipped x))
    default_threshold: float
    box_margin: float = 0.0  # fraction of the box size added around a "box" crop

    @property
    def feature_dim(self) -> int:
        """Length of the final (normalised) embedding."""
        return self.embedding_dim * (2 if self.flip else 1)


MOBILEFACENET = BackboneSpec(
    name="mobilefacenet",
    input_size=(112, 96),
    embedding_dim=128,
    alignment="similarity-5pt",
    flip=True,
    default_threshold=0.45,
)
INCEPTION_RESNET_V1 = BackboneSpec(
    name="inception-resnet-v1",
    input_size=(160, 160),
    embedding_dim=512,
    alignment="box",
    flip=False,
    default_threshold=0.5,
)
BACKBONES: dict[str, BackboneSpec] = {b.name: b for b in (MOBILEFACENET, INCEPTION_RESNET_V1)}

# reference points of the 5 MTCNN landmarks in a 96 x 112 crop (x, y)
MOBILEFACENET_REFERENCE: tuple[tuple[float, float], ...] = (
    (30.2946, 51.6963),
    (65.5318, 51.5014),
    (48.0252, 71.7366),
    (33.5493, 92.3655),
    (62.7299, 92.2041),
)


def get_spec(name: str) -> BackboneSpec:
    """The spec of a backbone by name; ValueError naming the choices otherwise."""
    try:
        return BACKBONES[name]
    except KeyError:
        choices = ", ".join(sorted(BACKBONES))
        raise ValueError(f"unknown backbone {name!r}; choose one of: {choices}") from None


def build_backbone(name: str) -> nn.Module:
    """A fresh network with random weights, in eval mode, outputting raw features."""
    spec = get_spec(name)
    if spec.name == "mobilefacenet":
        from face_model.backbones.mobilefacenet import MobileFaceNet

        net: nn.Module = MobileFaceNet()
    else:
        from face_model.backbones.inception import EmbeddingInceptionResnetV1

        net = EmbeddingInceptionResnetV1()
    return net.eval()
