"""cloud_handler: rollcall's Lambda function (see README.md)."""

from __future__ import annotations

from typing import Any

__all__ = ["__version__"]


def __getattr__(name: str) -> Any:
    """``__version__``, read from the installed distribution's metadata when asked for
    (``pyproject.toml`` is its one source; importing the package reads nothing)."""
    if name == "__version__":
        from importlib.metadata import version

        return version("cloud-handler")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
