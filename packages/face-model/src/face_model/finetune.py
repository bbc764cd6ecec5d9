"""Optional fine-tuning of the backbone on the enrolled people: CosFace head, seeded,
one resumable checkpoint per epoch in the common ``{'epoch', 'net_state_dict'}`` format."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from face_model.backbones import BackboneSpec
from face_model.embed import preprocess
from face_model.errors import DataError

log = logging.getLogger(__name__)

CHECKPOINT_GLOB = "epoch-*.pt"


@dataclass(frozen=True)
class FineTuneConfig:
    """Hyper-parameters; ``seed`` fixes head init, shuffling and flips of every epoch."""

    epochs: int
    lr: float = 1e-4
    head_lr: float = 1e-2
    batch_size: int = 16
    seed: int = 0
    scale: float = 30.0
    margin: float = 0.2


@dataclass
class FineTuneReport:
    """What ran: epochs done now, where it resumed from, mean loss per epoch."""

    start_epoch: int
    epochs: int
    losses: list[float] = field(default_factory=list)
    checkpoint_dir: str = ""


class CosFaceHead(nn.Module):
    """Large-margin cosine loss (CosFace) over the enrolled people."""

    def __init__(self, dim: int, classes: int, scale: float, margin: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(classes, dim) * 0.01)
        self.scale, self.margin = scale, margin

    def forward(self, feats: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        cos = F.linear(F.normalize(feats), F.normalize(self.weight))
        onehot = F.one_hot(labels, cos.shape[1]).to(cos.dtype)
        return F.cross_entropy(self.scale * (cos - self.margin * onehot), labels)


def checkpoints(directory: Path) -> list[Path]:
    """Epoch checkpoints in ``directory``, oldest first."""
    return sorted(directory.glob(CHECKPOINT_GLOB)) if directory.is_dir() else []


def _freeze_batchnorm(net: nn.Module) -> None:
    # a few dozen photos cannot re-estimate BN statistics: keep the pretrained ones
    for module in net.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.eval()


def fine_tune(
    net: nn.Module,
    spec: BackboneSpec,
    *,
    crops: Sequence[np.ndarray],
    labels: Sequence[int],
    people: Sequence[str],
    config: FineTuneConfig,
    checkpoint_dir: Path,
    resume: bool = True,
    progress: Callable[[int, float], None] | None = None,
) -> FineTuneReport:
    """Train ``net`` in place for ``config.epochs`` epochs (continuing from the last
    checkpoint when ``resume``); leaves it in eval mode."""
    if len(set(labels)) < 2:
        raise DataError("fine-tuning needs at least two people with usable faces")
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    head = CosFaceHead(spec.embedding_dim, len(people), config.scale, config.margin)
    optimizer = torch.optim.Adam(
        [
            {"params": net.parameters(), "lr": config.lr},
            {"params": head.parameters(), "lr": config.head_lr},
        ]
    )
    existing = checkpoints(checkpoint_dir)
    start, losses = 0, []
    if resume and existing:
        state: dict[str, Any] = torch.load(existing[-1], map_location="cpu", weights_only=True)
        if list(state.get("people", [])) != list(people):
            raise DataError(
                f"checkpoints in {checkpoint_dir} were trained on other people "
                f"({state.get('people')}); delete them or pass --no-resume"
            )
        net.load_state_dict(state["net_state_dict"])
        head.load_state_dict(state["head_state_dict"])
        optimizer.load_state_dict(state["optimizer_state_dict"])
        start, losses = int(state["epoch"]), list(state["losses"])
        log.info("resuming fine-tuning from %s (epoch %d)", existing[-1], start)
    elif existing:
        for old in existing:
            old.unlink()
    data = torch.from_numpy(preprocess(list(crops), spec))
    target = torch.as_tensor(list(labels), dtype=torch.long)
    for epoch in range(start, config.epochs):
        generator = torch.Generator().manual_seed(config.seed * 100_003 + epoch)
        order = torch.randperm(len(data), generator=generator)
        flips = torch.rand(len(data), generator=generator) < 0.5
        net.train()
        _freeze_batchnorm(net)
        total = 0.0
        for begin in range(0, len(order), config.batch_size):
            idx = order[begin : begin + config.batch_size]
            x = torch.where(flips[idx, None, None, None], data[idx].flip(-1), data[idx])
            loss = head(net(x), target[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(idx)
        net.eval()
        losses.append(total / len(data))
        torch.save(
            {
                "epoch": epoch + 1,
                "net_state_dict": net.state_dict(),
                "head_state_dict": head.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(),
                "losses": losses,
                "people": list(people),
                "config": asdict(config),
            },
            checkpoint_dir / f"epoch-{epoch + 1:03d}.pt",
        )
        if progress:
            progress(epoch + 1, losses[-1])
    net.eval()
    return FineTuneReport(start, config.epochs, losses, str(checkpoint_dir))
