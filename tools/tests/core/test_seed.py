"""seed-db against a moto server: the course's real seed file and broken ones."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

import rollcall_testkit as testkit
from rollcall_tools.aws import AwsTarget
from rollcall_tools.stack.deploy import Stack
from shared_schema import StudentRecord

pytestmark = pytest.mark.slow


def _items(target: AwsTarget, table: str) -> dict[str, StudentRecord]:
    items = target.resource("dynamodb").Table(table).scan()["Items"]
    return {r.name: r for r in map(StudentRecord.from_item, items)}


@pytest.mark.shared_data
def test_real_seed_file_is_written_once(
    target: AwsTarget, stack: Stack, tools: Callable[..., tuple[int, str, str]]
) -> None:
    seed = testkit.shared_data("cse546-videos", "student_data.json")
    code, out, _ = tools("seed-db", "--file", str(seed), "--json")
    assert code == 0
    assert json.loads(out) == {
        "table": stack.names.students_table,
        "written": 8,
        "unchanged": 0,
        "invalid": [],
    }
    items = _items(target, stack.names.students_table)
    assert items["mr_bean"] == StudentRecord(name="mr_bean", major="lawyer", year="freshmen", id=1)
    assert len(items) == 8

    code, out, _ = tools("seed-db", "--file", str(seed))
    assert code == 0
    assert "0 written, 8 unchanged, 0 invalid" in out


def test_broken_entries_are_each_reported_and_the_rest_written(
    target: AwsTarget, stack: Stack, tools: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    seed = tmp_path / "students.json"
    seed.write_text(
        json.dumps(
            [
                {"id": 1, "name": "ada", "major": "math", "year": "senior"},
                {"id": 2, "name": "bob", "year": "junior"},
                "not an object",
                {"id": 3, "name": "ada", "major": "physics", "year": "junior"},
                {"id": 4, "name": "  ", "major": "cs", "year": "junior"},
                {"id": 5, "name": "cy", "major": "cs", "year": "sophomore"},
            ]
        )
    )
    code, out, err = tools("seed-db", "--file", str(seed))
    assert code == 1
    assert "2 written, 0 unchanged, 4 invalid" in out
    for index, words in (
        (1, "major"),
        (2, "not a JSON object"),
        (3, "duplicate name"),
        (4, "name"),
    ):
        assert f"invalid entry {index} in {seed}" in err
        assert words in err
    assert sorted(_items(target, stack.names.students_table)) == ["ada", "cy"]

    code, out, _ = tools("seed-db", "--file", str(seed))
    assert "0 written, 2 unchanged, 4 invalid" in out


@pytest.mark.usefixtures("stack")
def test_unusable_seed_file_is_a_usage_error(
    tools: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    for content, message in (
        ("{not json", "not valid JSON"),
        ('{"name": "x"}', "must be a JSON list"),
    ):
        seed = tmp_path / "bad.json"
        seed.write_text(content)
        code, out, err = tools("seed-db", "--file", str(seed))
        assert code == 2
        assert message in err
        assert str(seed) in err
        assert "Traceback" not in out + err


def test_missing_file_and_missing_table(
    tools: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    code, _, err = tools("seed-db", "--file", str(tmp_path / "nope.json"), stack="nostack")
    assert code == 2
    assert "cannot read seed file" in err
    seed = tmp_path / "ok.json"
    seed.write_text('[{"name": "a", "major": "b", "year": "c"}]')
    code, _, err = tools("seed-db", "--file", str(seed), stack="nostack")
    assert code == 2
    assert "nostack-students does not exist" in err
    assert "tools deploy" in err
