"""rollcall edge: record short H.264 clips, spool them durably, upload to S3, collect results.

Runs on a Raspberry Pi: never imports torch, ``face_model`` or ``cloud_handler``.
"""

from edge_capture.config import EdgeConfig
from edge_capture.errors import ConfigError, EdgeError, ServiceError, SourceError, UnreachableError
from edge_capture.session import run_session
from edge_capture.summary import ClipOutcome, LatencyStats, PersonInClip, PersonSeen, SessionSummary
from edge_capture.version import __version__

__all__ = [
    "ClipOutcome",
    "ConfigError",
    "EdgeConfig",
    "EdgeError",
    "LatencyStats",
    "PersonInClip",
    "PersonSeen",
    "ServiceError",
    "SessionSummary",
    "SourceError",
    "UnreachableError",
    "__version__",
    "run_session",
]
