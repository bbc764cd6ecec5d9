"""The exception that turns into an ``error`` result, and the one that asks for redelivery."""

from __future__ import annotations

from typing import Literal

from shared_schema import ErrorCode, ErrorDetail

Stage = Literal["event", "download", "decode", "detect", "embed", "lookup", "send"]


class ClipError(Exception):
    """A clip cannot be processed; this is final (redelivery would not change it)."""

    def __init__(self, code: ErrorCode, message: str, stage: Stage) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.stage: Stage = stage

    def detail(self) -> ErrorDetail:
        """The result's ``error`` field."""
        return ErrorDetail(code=self.code, message=self.message[:2048], stage=self.stage)


class TransientError(RuntimeError):
    """A transient failure outside botocore's retries (e.g. DynamoDB left keys unprocessed):
    the record fails and SQS delivers it again."""
