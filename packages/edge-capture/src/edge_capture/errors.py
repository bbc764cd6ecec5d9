"""The exceptions edge-capture raises, each mapped to one CLI exit code."""

from __future__ import annotations

EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 1, 2, 3


class EdgeError(Exception):
    """Base class: a problem the CLI reports as one clear line (exit code 1: the job failed)."""

    exit_code = EXIT_FAILED


class ConfigError(EdgeError):
    """Bad usage or configuration (exit code 2): names what is wrong and where."""

    exit_code = EXIT_USAGE


class SourceError(EdgeError):
    """The video source cannot be opened or read (exit code 2)."""

    exit_code = EXIT_USAGE


class ServiceError(EdgeError):
    """An AWS resource is missing or refuses our credentials (exit code 2)."""

    exit_code = EXIT_USAGE


class UnreachableError(EdgeError):
    """An external service (AWS endpoint, network camera) cannot be reached (exit code 3)."""

    exit_code = EXIT_UNREACHABLE
