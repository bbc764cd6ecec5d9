"""rollcall's dev-only test kit: what every package's tests and the benchmarks share.

No runtime package imports it; tests import it (``rollcall_tools.testkit``).
"""

from rollcall_tools.testkit.prerequisites import (
    require_torch,
    shared_data,
    shared_models,
    unavailable,
)

__all__ = ["require_torch", "shared_data", "shared_models", "unavailable"]
