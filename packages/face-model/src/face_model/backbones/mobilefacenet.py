"""MobileFaceNet (Chen et al. 2018): ~1M parameters, 112x96 input, 128-d embedding.

Layer names follow the common public implementation so that checkpoints in the
``{'epoch', 'net_state_dict'}`` format load strictly.
"""

from __future__ import annotations

import torch
from torch import nn

# (expansion, output channels, repeats, first stride): the paper's Table 1
BOTTLENECK_SETTING: tuple[tuple[int, int, int, int], ...] = (
    (2, 64, 5, 2),
    (4, 128, 1, 2),
    (2, 128, 6, 1),
    (4, 128, 1, 2),
    (2, 128, 2, 1),
)


class ConvBlock(nn.Module):
    """Conv (no bias) -> BN -> PReLU, or without PReLU when ``linear``."""

    def __init__(
        self,
        inp: int,
        oup: int,
        k: int | tuple[int, int],
        s: int,
        p: int,
        *,
        dw: bool = False,
        linear: bool = False,
    ) -> None:
        super().__init__()
        self.linear = linear
        groups = inp if dw else 1
        self.conv = nn.Conv2d(inp, oup, k, s, p, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(oup)
        if not linear:
            self.prelu = nn.PReLU(oup)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(x))
        return x if self.linear else self.prelu(x)


class Bottleneck(nn.Module):
    """Inverted residual: 1x1 expand, 3x3 depthwise, 1x1 linear project."""

    def __init__(self, inp: int, oup: int, stride: int, expansion: int) -> None:
        super().__init__()
        self.connect = stride == 1 and inp == oup
        hidden = inp * expansion
        self.conv = nn.Sequential(
            nn.Conv2d(inp, hidden, 1, 1, 0, bias=False),
            nn.BatchNorm2d(hidden),
            nn.PReLU(hidden),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.PReLU(hidden),
            nn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
            nn.BatchNorm2d(oup),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.conv(x)
        return x + out if self.connect else out


class MobileFaceNet(nn.Module):
    """Input N x 3 x 112 x 96 normalised as (x - 127.5) / 128; output N x 128 (not normalised)."""

    input_size = (112, 96)
    embedding_dim = 128

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = ConvBlock(3, 64, 3, 2, 1)
        self.dw_conv1 = ConvBlock(64, 64, 3, 1, 1, dw=True)
        layers: list[nn.Module] = []
        inp = 64
        for expansion, channels, repeats, stride in BOTTLENECK_SETTING:
            for i in range(repeats):
                layers.append(Bottleneck(inp, channels, stride if i == 0 else 1, expansion))
                inp = channels
        self.blocks = nn.Sequential(*layers)
        self.conv2 = ConvBlock(128, 512, 1, 1, 0)
        self.linear7 = ConvBlock(512, 512, (7, 6), 1, 0, dw=True, linear=True)
        self.linear1 = ConvBlock(512, 128, 1, 1, 0, linear=True)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = self.dw_conv1(x)
        x = self.blocks(x)
        x = self.conv2(x)
        x = self.linear7(x)
        x = self.linear1(x)
        return x.flatten(1)
