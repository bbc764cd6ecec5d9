"""Seed the students table from the course's JSON file (validated with shared-schema)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rollcall_tools.aws import AwsTarget, aws_errors, if_present
from rollcall_tools.errors import ConfigError
from shared_schema import SeedEntryError, StudentRecord, load_student_seed


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
    ddb = target.resource("dynamodb")
    with aws_errors(f"seeding table {table}"):
        stored = stored_records(ddb, table)
        if stored is None:
            raise ConfigError(
                f"table {table} does not exist in {target.region}: run `tools deploy` first"
            )
        changed = [r for r in records if stored.get(r.name) != r]
        with ddb.Table(table).batch_writer() as batch:  # it resends unprocessed items itself
            for record in changed:
                batch.put_item(Item=record.to_item())
    report.written = [r.name for r in changed]
    report.unchanged = [r.name for r in records if r not in changed]
    return report


def stored_records(ddb: Any, table: str) -> dict[str, StudentRecord] | None:
    """Every record stored in ``table`` (unreadable items count as absent); None when the
    table does not exist."""
    paginator = ddb.meta.client.get_paginator("scan")
    pages: list[dict[str, Any]] | None = if_present(list, paginator.paginate(TableName=table))
    if pages is None:
        return None
    found: dict[str, StudentRecord] = {}
    for item in (item for page in pages for item in page["Items"]):
        try:
            record = StudentRecord.from_item(item)
        except ValueError:
            continue
        found[record.name] = record
    return found


def seed_file(target: AwsTarget, table: str, path: Path) -> SeedReport:
    """Validate ``path`` and seed its valid records; the report lists every invalid entry."""
    records, invalid = load_seed(path)
    report = seed_records(target, table, records)
    report.invalid = invalid
    return report
