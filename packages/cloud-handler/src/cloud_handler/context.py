"""A Lambda context for running the handler outside Lambda (local runner, ``invoke``, tests)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field


@dataclass
class LocalContext:
    """The attributes Powertools reads from a Lambda context, with a real deadline.

    ``get_remaining_time_in_millis`` drives Powertools idempotency's in-progress expiry:
    a worker that dies mid-clip leaves a record that expires at this deadline, so a
    redelivery after the queue's visibility timeout is processed (once).
    """

    timeout_s: float = 60.0
    function_name: str = "rollcall-cloud-handler-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 2048
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "local"
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s

    @property
    def invoked_function_arn(self) -> str:
        """A well-formed ARN naming the local function."""
        return f"arn:aws:lambda:local:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the deadline (never negative)."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))
