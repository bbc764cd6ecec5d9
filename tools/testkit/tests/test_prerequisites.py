"""The test kit's prerequisites: skip with a reason on a laptop, fail under CI."""

from __future__ import annotations

import unittest
from pathlib import Path

import pytest

import rollcall_testkit as testkit
from rollcall_testkit.prerequisites import SHARED_DATA, PrerequisiteMissingError


def test_shared_data_finds_a_path_under_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cse546-videos").mkdir()
    monkeypatch.setenv(SHARED_DATA, str(tmp_path))
    assert testkit.shared_data("cse546-videos") == tmp_path / "cse546-videos"


def test_missing_data_skips_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SHARED_DATA, raising=False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(unittest.SkipTest, match=SHARED_DATA):
        testkit.shared_data("cse546-videos")


def test_missing_data_fails_under_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SHARED_DATA, str(tmp_path))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(PrerequisiteMissingError, match="does not exist"):
        testkit.shared_data("absent")
