"""The errors every command turns into one clear line and an exit code (CONTRIBUTING.md)."""

from __future__ import annotations


class ToolsError(Exception):
    """A failure a command reports as one line; ``exit_code`` follows the team's convention."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class JobFailedError(ToolsError):
    """The job ran and failed (exit 1)."""

    exit_code = 1


class ConfigError(ToolsError):
    """Bad usage or configuration (exit 2)."""

    exit_code = 2


class ServiceUnreachableError(ToolsError):
    """An external service (AWS, the local stack, Docker) could not be reached (exit 3)."""

    exit_code = 3
