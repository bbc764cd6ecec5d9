"""The CPU threads face-model's networks use when a caller does not say (CLI ``--threads``)."""

from __future__ import annotations

_threads: int | None = None


def set_threads(count: int | None) -> None:
    """Use ``count`` intra-op threads for onnxruntime sessions created from now on, and for
    torch once it is imported (None: the libraries' defaults, one per core)."""
    global _threads  # noqa: PLW0603 - a process-wide default, like torch.set_num_threads
    _threads = count
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and count:
        torch.set_num_threads(count)


def get_threads() -> int | None:
    """The default set by :func:`set_threads`."""
    return _threads
