"""Fixtures of the end-to-end tests: every process a test starts is gone when it ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rollcall_testkit import reap


@pytest.fixture
def reaped(tmp_path: Path) -> Iterator[Path]:
    """``tmp_path``, as the working directory of the processes under test; afterwards
    nothing started there may still run (stragglers are stopped, then reported)."""
    yield tmp_path
    left = reap(tmp_path)
    assert not left, f"processes left running: {left}"
