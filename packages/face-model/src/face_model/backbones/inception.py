"""facenet-pytorch's InceptionResnetV1, returning raw (un-normalised) 512-d features."""

from __future__ import annotations

import torch
from facenet_pytorch import InceptionResnetV1


class EmbeddingInceptionResnetV1(InceptionResnetV1):  # type: ignore[misc]
    """InceptionResnetV1 without its final L2 normalisation (done by the embedder)."""

    def __init__(self) -> None:
        super().__init__(pretrained=None, classify=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv2d_1a(x)
        x = self.conv2d_2a(x)
        x = self.conv2d_2b(x)
        x = self.maxpool_3a(x)
        x = self.conv2d_3b(x)
        x = self.conv2d_4a(x)
        x = self.conv2d_4b(x)
        x = self.repeat_1(x)
        x = self.mixed_6a(x)
        x = self.repeat_2(x)
        x = self.mixed_7a(x)
        x = self.repeat_3(x)
        x = self.block8(x)
        x = self.avgpool_1a(x)
        x = self.last_linear(x.flatten(1))
        out: torch.Tensor = self.last_bn(x)
        return out
