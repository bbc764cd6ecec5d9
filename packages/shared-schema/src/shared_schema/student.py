"""Student records: the DynamoDB item the handler looks people up by, and the seed loader."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
"""No control characters: they have no place in names and would bloat JSON sixfold."""

PersonName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=_PRINTABLE)
]
"""A person's identity as enrolled in the recognizer and keyed in DynamoDB (e.g. ``mr_bean``)."""

Major = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=_PRINTABLE)
]
Year = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=_PRINTABLE)
]
ExtraValue = (
    Annotated[str, StringConstraints(max_length=128, pattern=_PRINTABLE)]
    | Annotated[int, Field(ge=-(2**53), le=2**53)]
    | Annotated[float, Field(allow_inf_nan=False)]
    | bool
)
MAX_EXTRA_ATTRIBUTES = 8


class StudentRecord(BaseModel):
    """One student's academic record, as stored in the DynamoDB students table (key: ``name``).

    ``year`` is kept verbatim (the course's seed spells one ``freshmen``). Further
    attributes go in ``extra``: at most 8, short values only, so that a full result
    message always fits in SQS.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: PersonName
    major: Major
    year: Year
    id: int | None = Field(default=None, ge=0, description="the seed file's numeric id, if any")
    extra: dict[
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")], ExtraValue
    ] = Field(default_factory=dict, max_length=MAX_EXTRA_ATTRIBUTES)

    def to_item(self) -> dict[str, Any]:
        """The item for boto3's DynamoDB *resource* API (plain Python values)."""
        item: dict[str, Any] = {"name": self.name, "major": self.major, "year": self.year}
        if self.id is not None:
            item["id"] = self.id
        for key, value in self.extra.items():
            if key not in item:
                item[key] = value
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> StudentRecord:
        """Parse an item read with the DynamoDB resource API (``Decimal`` numbers allowed).

        Raises:
            pydantic.ValidationError: a required attribute is missing or malformed.
        """
        known = {"name", "major", "year", "id"}
        data: dict[str, Any] = {k: _plain(v) for k, v in item.items() if k in known}
        data["extra"] = {k: _plain(v) for k, v in item.items() if k not in known}
        return cls.model_validate(data)


def _plain(value: Any) -> Any:
    """DynamoDB's resource API returns numbers as Decimal; turn them back into int or float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class SeedEntryError(BaseModel):
    """Why one entry of a seed file was refused."""

    index: int = Field(description="0-based position of the entry in the seed list")
    message: str


class SeedLoadResult(BaseModel):
    """The valid records of a seed file, and every invalid entry with its index."""

    records: list[StudentRecord]
    errors: list[SeedEntryError]

    @property
    def ok(self) -> bool:
        """True when every entry was valid."""
        return not self.errors


def load_student_seed(source: str | bytes | Path) -> SeedLoadResult:
    """Load the course's seed format: a JSON list of ``{id, name, major, year}`` objects.

    ``source`` is a path or the JSON text itself. Entries are validated one by one so that
    every bad entry is reported (index and reason) instead of stopping at the first.
    Duplicate names are reported too: the name is the table's key.

    Raises:
        ValueError: the file is not JSON or not a list (nothing can be loaded at all).
        OSError: the path cannot be read.
    """
    text = source.read_bytes() if isinstance(source, Path) else source
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"seed is not valid JSON: {exc}") from None
    if not isinstance(entries, list):
        raise ValueError(f"seed must be a JSON list of records, got {type(entries).__name__}")

    records: list[StudentRecord] = []
    errors: list[SeedEntryError] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            errors.append(SeedEntryError(index=index, message="entry is not a JSON object"))
            continue
        fields = {k: entry[k] for k in ("name", "major", "year", "id") if k in entry}
        fields["extra"] = {k: v for k, v in entry.items() if k not in fields}
        try:
            record = StudentRecord.model_validate(fields)
        except ValidationError as exc:
            errors.append(SeedEntryError(index=index, message=_describe(exc)))
            continue
        if record.name in seen:
            errors.append(
                SeedEntryError(
                    index=index,
                    message=f"duplicate name {record.name!r} (first at index {seen[record.name]})",
                )
            )
            continue
        seen[record.name] = index
        records.append(record)
    return SeedLoadResult(records=records, errors=errors)


def _describe(exc: ValidationError) -> str:
    """One line per problem: ``field: message``."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '<entry>'}: {err['msg']}" for err in exc.errors()
    )
