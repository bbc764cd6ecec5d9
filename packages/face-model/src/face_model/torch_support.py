"""torch is optional: only training, fine-tuning and torch backbones need it."""

from __future__ import annotations

from types import ModuleType

from face_model.errors import TorchRequiredError

INSTALL_HINT = (
    "install face-model's `train` extra (in the rollcall workspace: `uv sync --group train`; "
    "elsewhere: `pip install 'face-model[train]'`)"
)


def require_torch(what: str) -> ModuleType:
    """The torch module, or TorchRequiredError saying that ``what`` needs it and how to get it."""
    try:
        import torch
    except ImportError:
        raise TorchRequiredError(
            f"{what} needs torch, which is not installed: {INSTALL_HINT}"
        ) from None
    from face_model.threads import get_threads

    threads = get_threads()
    if threads:
        torch.set_num_threads(threads)
    return torch


def torch_available() -> bool:
    """True when torch can be imported (without importing it)."""
    from importlib.util import find_spec

    return find_spec("torch") is not None
