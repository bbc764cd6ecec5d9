"""Seed the students table from the course's JSON file (validated with shared-schema)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rollcall_tools.aws import AwsTarget, aws_errors, error_code
from rollcall_tools.errors import ConfigError
from shared_schema import SeedEntryError, StudentRecord, load_student_seed

_BATCH_GET_LIMIT = 100


@dataclass
class SeedReport:
    """What a seed run did."""

    table: str
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    invalid: list[SeedEntryError] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "written": len(self.written),
            "unchanged": len(self.unchanged),
            "invalid": [e.model_dump() for e in self.invalid],
        }


def load_seed(path: Path) -> tuple[list[StudentRecord], list[SeedEntryError]]:
    """Valid records and every invalid entry of a seed file (``ConfigError`` if unusable)."""
    try:
        loaded = load_student_seed(Path(path))
    except OSError as exc:
        raise ConfigError(f"cannot read seed file {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return loaded.records, loaded.errors


def seed_records(target: AwsTarget, table: str, records: list[StudentRecord]) -> SeedReport:
    """Write the records that are missing or differ; leave identical ones alone."""
    report = SeedReport(table=table)
    ddb = target.session().resource("dynamodb", endpoint_url=target.endpoint_url)
    with aws_errors(f"seeding table {table}"):
        try:
            existing = _existing(ddb, table, [r.name for r in records])
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                raise ConfigError(
                    f"table {table} does not exist in {target.region}: run `tools deploy` first"
                ) from None
            raise
        changed = [r for r in records if existing.get(r.name) != r]
        with ddb.Table(table).batch_writer() as batch:
            for record in changed:
                batch.put_item(Item=record.to_item())
    report.written = [r.name for r in changed]
    report.unchanged = [r.name for r in records if r not in changed]
    return report


def _existing(ddb: Any, table: str, names: list[str]) -> dict[str, StudentRecord]:
    """The records already stored for ``names`` (unreadable items count as absent)."""
    found: dict[str, StudentRecord] = {}
    for start in range(0, len(names), _BATCH_GET_LIMIT):
        keys = [{"name": n} for n in names[start : start + _BATCH_GET_LIMIT]]
        request: dict[str, Any] = {table: {"Keys": keys}}
        while request:
            response = ddb.batch_get_item(RequestItems=request)
            for item in response["Responses"].get(table, []):
                try:
                    record = StudentRecord.from_item(item)
                except ValueError:
                    continue
                found[record.name] = record
            request = response.get("UnprocessedKeys") or {}
    return found


def seed_file(target: AwsTarget, table: str, path: Path) -> SeedReport:
    """Validate ``path`` and seed its valid records; the report lists every invalid entry."""
    records, invalid = load_seed(path)
    report = seed_records(target, table, records)
    report.invalid = invalid
    return report
