"""Calls that AWS refuses for a while after a related change (eventual consistency), retried
with backoff for up to about a minute.

botocore's retry modes retry throttling, 5xx and dropped connections, never a 400; these two
400s are known to be transient on a first deploy:

* S3 validates a notification's destination when ``PutBucketNotificationConfiguration`` runs
  and can refuse, just after the queue's policy was set, with ``InvalidArgument: Unable to
  validate the following destination configurations``;
* Lambda's ``CreateFunction`` with a role created seconds before answers
  ``InvalidParameterValueException: The role defined for the function cannot be assumed by
  Lambda`` until IAM has propagated the role.

Anything else is raised at once. The clock and the sleep are injectable (tests never wait).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import botocore.exceptions

from rollcall_tools.aws import error_code

T = TypeVar("T")
PATIENCE_S = 60.0
"""How long a refused call is retried before its error is reported."""


def _message(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", ""))


def destination_not_validated(exc: botocore.exceptions.ClientError) -> bool:
    """S3 could not (yet) validate a notification's destination queue."""
    return error_code(exc) == "InvalidArgument" and (
        "Unable to validate the following destination configurations" in _message(exc)
    )


def role_not_assumable(exc: botocore.exceptions.ClientError) -> bool:
    """Lambda cannot (yet) assume a freshly created execution role."""
    return error_code(exc) == "InvalidParameterValueException" and (
        "cannot be assumed" in _message(exc)
    )


@dataclass(frozen=True)
class Patience:
    """Retry one transient refusal with exponential backoff until ``budget_s`` has passed."""

    budget_s: float = PATIENCE_S
    first_delay_s: float = 1.0
    max_delay_s: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def call(
        self,
        transient: Callable[[botocore.exceptions.ClientError], bool],
        fn: Callable[..., T],
        *args: Any,
        **kwargs: Any,
    ) -> T:
        """``fn(*args, **kwargs)``, again while it raises an error that ``transient`` accepts
        and the budget lasts; then that error."""
        deadline = self.clock() + self.budget_s
        delay = self.first_delay_s
        while True:
            try:
                return fn(*args, **kwargs)
            except botocore.exceptions.ClientError as exc:
                left = deadline - self.clock()
                if not transient(exc) or left <= 0:
                    raise
                self.sleep(min(delay, left))
                delay = min(delay * 2, self.max_delay_s)


PATIENT = Patience()
