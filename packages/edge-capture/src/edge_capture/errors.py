"""The exceptions edge-capture raises, each mapped to one CLI exit code."""

from __future__ import annotations


class EdgeError(Exception):
    """Base class: a problem the CLI reports as one clear line."""

    exit_code = 1


class ConfigError(EdgeError):
    """Bad usage or configuration (exit code 2): names what is wrong and where."""

    exit_code = 2


class SourceError(EdgeError):
    """The video source cannot be opened or read (exit code 2)."""

    exit_code = 2


class ServiceError(EdgeError):
    """An AWS resource is missing or refuses our credentials (exit code 2)."""

    exit_code = 2


class UnreachableError(EdgeError):
    """An external service (AWS endpoint, network camera) cannot be reached (exit code 3)."""

    exit_code = 3
