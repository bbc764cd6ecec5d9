"""Load backbone weights from a local file into a network, strictly, with clear errors."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from face_model.errors import WeightsError

if TYPE_CHECKING:
    from torch import Tensor, nn

# keys of facenet-pytorch's pretrained files that the embedding network does not use
_IGNORED_PREFIXES = ("logits.",)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def read_state_dict(path: str | Path) -> dict[str, Tensor]:
    """The state dict in a weights file: raw, ``{'net_state_dict'}``, ``{'state_dict'}``...

    A ``module.`` prefix (DataParallel) is stripped. Only tensors are loaded
    (``weights_only=True``): no code in the file is ever executed.
    """
    from face_model.torch_support import require_torch

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    torch = require_torch(f"loading the torch weights file {path}")
    try:
        obj: Any = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsError(
            f"cannot read weights file {path}: not a PyTorch state dict or checkpoint ({exc})"
        ) from exc
    if isinstance(obj, Mapping):
        for key in ("net_state_dict", "state_dict", "model_state_dict", "model"):
            if key in obj and isinstance(obj[key], Mapping):
                obj = obj[key]
                break
    if not isinstance(obj, Mapping) or not obj:
        raise WeightsError(f"weights file {path} holds no state dict (found {type(obj).__name__})")
    state: dict[str, Tensor] = {}
    for key, value in obj.items():
        if not isinstance(value, torch.Tensor):
            raise WeightsError(f"weights file {path}: entry {key!r} is not a tensor")
        name = str(key).removeprefix("module.")
        if name.startswith(_IGNORED_PREFIXES):
            continue
        state[name] = value
    return state


def load_into(net: nn.Module, state: Mapping[str, Tensor], source: str) -> None:
    """Load ``state`` into ``net`` strictly; WeightsError listing mismatches otherwise."""
    expected = net.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong_shape = sorted(
        f"{k} {tuple(state[k].shape)} != {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    )
    if missing or unexpected or wrong_shape:
        parts = []
        for label, items in (
            ("missing keys", missing),
            ("unexpected keys", unexpected),
            ("wrong shapes", wrong_shape),
        ):
            if items:
                more = f" (+{len(items) - 5} more)" if len(items) > 5 else ""
                parts.append(f"{label}: {', '.join(items[:5])}{more}")
        raise WeightsError(f"weights {source} do not fit {type(net).__name__}: " + "; ".join(parts))
    net.load_state_dict(dict(state), strict=True)


def load_backbone(name: str, weights: str | Path | None) -> tuple[nn.Module, bool]:
    """A backbone with weights from a local file, or random weights (pretrained=False)."""
    from face_model.backbones import build_backbone
    from face_model.torch_support import require_torch

    require_torch(f"the {name} backbone")
    net = build_backbone(name)
    if weights is None:
        return net, False
    load_into(net, read_state_dict(weights), str(weights))
    return net.eval(), True
