"""The JSON Schema of every message, and the committed copies under ``schemas/``.

Regenerate the files after changing a model::

    uv run python -m shared_schema.json_schemas
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from shared_schema.clip import ClipId
from shared_schema.result import RecognitionResult
from shared_schema.student import StudentRecord

SCHEMA_DIR = Path(__file__).parent / "schemas"

MESSAGES: dict[str, type[BaseModel]] = {
    "clip-id": ClipId,
    "student-record": StudentRecord,
    "recognition-result": RecognitionResult,
}
"""File stem -> model. Each is written as ``schemas/<stem>.v1.json``."""


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema that validates ``model``'s JSON form (what goes over the wire)."""
    schema = model.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def render(model: type[BaseModel]) -> str:
    """The committed text of ``model``'s schema file."""
    return json.dumps(json_schema(model), indent=2, sort_keys=True) + "\n"


def schema_path(stem: str) -> Path:
    """Where the schema for ``stem`` is committed."""
    return SCHEMA_DIR / f"{stem}.v1.json"


def write_all() -> list[Path]:
    """(Re)write every schema file; returns the paths written."""
    SCHEMA_DIR.mkdir(exist_ok=True)
    paths = []
    for stem, model in MESSAGES.items():
        path = schema_path(stem)
        path.write_text(render(model), encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_all():
        print(written)  # noqa: T201
