"""The package version, read from the installed distribution's metadata: pyproject.toml is its
one source (``edge_capture.__version__`` reads it lazily through this)."""

from __future__ import annotations

from functools import cache
from importlib import metadata

DISTRIBUTION = "edge-capture"


@cache
def edge_version() -> str:
    """This edge-capture's version, e.g. ``0.2.0`` (recorded in every spooled clip's sidecar)."""
    return metadata.version(DISTRIBUTION)
