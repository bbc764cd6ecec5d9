"""rollcall's dev-only test kit: what every package's tests and the benchmarks share.

No runtime package imports it; tests import it (``rollcall_tools.testkit``).
"""

from rollcall_tools.testkit.imports import SERVING_NEVER_IMPORTS, blocking_env
from rollcall_tools.testkit.local_aws import local_aws
from rollcall_tools.testkit.prerequisites import (
    require_torch,
    shared_data,
    shared_models,
    unavailable,
)
from rollcall_tools.testkit.processes import reap, started_in

__all__ = [
    "SERVING_NEVER_IMPORTS",
    "blocking_env",
    "local_aws",
    "reap",
    "require_torch",
    "shared_data",
    "shared_models",
    "started_in",
    "unavailable",
]
