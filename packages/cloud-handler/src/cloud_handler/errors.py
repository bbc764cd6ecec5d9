"""The package's exceptions: a final clip failure, a transient one, and a bad configuration."""

from __future__ import annotations

from typing import Literal

from shared_schema import MAX_MESSAGE_LENGTH, ErrorCode, ErrorDetail

Stage = Literal["event", "download", "decode", "detect", "embed", "lookup", "send"]


class ClipError(Exception):
    """A clip cannot be processed; this is final (redelivery would not change it)."""

    def __init__(self, code: ErrorCode, message: str, stage: Stage) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.stage: Stage = stage

    def detail(self) -> ErrorDetail:
        """The result's ``error`` field (a longer message is cut to what the schema holds)."""
        return ErrorDetail(
            code=self.code, message=self.message[:MAX_MESSAGE_LENGTH], stage=self.stage
        )


class TransientError(RuntimeError):
    """A transient failure outside botocore's retries (e.g. DynamoDB left keys unprocessed):
    the record fails and SQS delivers it again."""


class ConfigError(ValueError):
    """The environment (or the model artifact it names) does not configure the handler; the
    message names every problem."""
