"""rollcall's dev-only test kit: what every package's tests share.

A workspace package of its own (``rollcall-testkit``), required only by the dev groups; no
runtime package imports it (an import-linter contract). What the benchmarks also use lives in
runtime modules it re-exports: :mod:`rollcall_tools.clips`, :mod:`rollcall_tools.bench.stack`,
:func:`rollcall_tools.local.moto.local_aws`.
"""

from rollcall_testkit.imports import SERVING_NEVER_IMPORTS, blocking_env
from rollcall_testkit.prerequisites import (
    require_torch,
    shared_data,
    shared_models,
    unavailable,
)
from rollcall_testkit.processes import reap, started_in

__all__ = [
    "SERVING_NEVER_IMPORTS",
    "blocking_env",
    "reap",
    "require_torch",
    "shared_data",
    "shared_models",
    "started_in",
    "unavailable",
]
