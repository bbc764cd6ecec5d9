"""rollcall edge: record short H.264 clips, spool them durably, upload to S3, collect results.

Runs on a Raspberry Pi: never imports torch, ``face_model`` or ``cloud_handler``.
"""

from typing import TYPE_CHECKING

from edge_capture.config import EdgeConfig
from edge_capture.errors import ConfigError, EdgeError, ServiceError, SourceError, UnreachableError
from edge_capture.session import run_session
from edge_capture.settings import EdgeSettings, Resolution
from edge_capture.summary import ClipOutcome, LatencyStats, PersonInClip, PersonSeen, SessionSummary
from edge_capture.version import edge_version

if TYPE_CHECKING:
    __version__: str

__all__ = [
    "ClipOutcome",
    "ConfigError",
    "EdgeConfig",
    "EdgeError",
    "EdgeSettings",
    "LatencyStats",
    "PersonInClip",
    "PersonSeen",
    "Resolution",
    "ServiceError",
    "SessionSummary",
    "SourceError",
    "UnreachableError",
    "__version__",
    "run_session",
]


def __getattr__(name: str) -> str:
    """``__version__``, read lazily from the installed distribution (as structlog does)."""
    if name == "__version__":
        return edge_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
