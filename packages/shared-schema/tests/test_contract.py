"""Example-based tests of the contract: the errors people see, the data the course ships."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

import rollcall_testkit as testkit
from shared_schema import (
    ClipId,
    ClipRef,
    FaceResult,
    InvalidKeyError,
    RecognitionResult,
    RecordLookup,
    ResultStatus,
    StudentRecord,
    format_key,
    load_student_seed,
    parse_key,
)
from shared_schema.json_schemas import MESSAGES, render, schema_path

NOW = datetime(2026, 11, 24, 17, 30, 0, 123456, tzinfo=UTC)
CLIP = ClipId(device_id="pi-lab-1", session_id="s20261124", seq=42, captured_at=NOW)


def test_key_layout_is_readable_and_sortable() -> None:
    assert format_key(CLIP) == "clips/pi-lab-1/s20261124/00000042-1795541400123.mp4"
    later = CLIP.model_copy(update={"seq": 43})
    assert format_key(CLIP) < format_key(later)


def test_timestamps_are_utc_milliseconds() -> None:
    assert CLIP.captured_at.microsecond == 123000
    local = datetime(2026, 11, 24, 18, 30, tzinfo=timezone(timedelta(hours=1)))
    clip = CLIP.model_copy(update={"captured_at": local})
    clip = ClipId.model_validate(clip.model_dump())
    assert clip.captured_at == datetime(2026, 11, 24, 17, 30, tzinfo=UTC)
    assert json.loads(CLIP.model_dump_json())["captured_at"] == "2026-11-24T17:30:00.123Z"


def test_naive_timestamps_are_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="captured_at"):
        ClipId(device_id="a", session_id="b", seq=0, captured_at=datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("field", "value"),
    [("device_id", "../etc"), ("device_id", "a/b"), ("session_id", ""), ("seq", -1)],
)
def test_unsafe_ids_are_refused_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        ClipId.model_validate({**CLIP.model_dump(), field: value})


@pytest.mark.parametrize(
    "key",
    [
        "clips/pi/s/00000001-1795541400123.MP4",
        "clips/pi/s/1-1795541400123.mp4",
        "clips/pi/s/00000001-179554140012.mp4",
        "clips/pi/s/00000001-1795541400123.mp4/extra",
        "clips/../s/00000001-1795541400123.mp4",
        "/clips/pi/s/00000001-1795541400123.mp4",
        "clips/pi/s/00000001-0000000000000.mp4",
        "clips/pi%2Fx/s/00000001-1795541400123.mp4",
        "other/pi/s/00000001-1795541400123.mp4",
        "",
    ],
)
def test_foreign_keys_are_refused_with_invalid_key_error(key: str) -> None:
    with pytest.raises(InvalidKeyError, match="not a rollcall clip key"):
        parse_key(key)


def test_parse_key_refuses_non_strings() -> None:
    with pytest.raises(InvalidKeyError, match="expected a string"):
        parse_key(None)  # type: ignore[arg-type]


def _result(**changes: object) -> dict[str, object]:
    base = RecognitionResult(
        clip=ClipRef(bucket="rollcall-clips", key=format_key(CLIP), clip=CLIP),
        status=ResultStatus.NO_FACE,
        processed_at=NOW,
    )
    return {**json.loads(base.to_message()), **changes}


def test_unknown_schema_versions_are_refused() -> None:
    with pytest.raises(ValidationError, match="schema_version"):
        RecognitionResult.model_validate(_result(schema_version=2))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"status": "error"}, "error must be present"),
        ({"status": "recognized"}, "at least one identified face"),
        ({"status": "unknown"}, "needs faces"),
        ({"status": "sleeping"}, "status"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_inconsistent_results_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RecognitionResult.model_validate(_result(**changes))


def test_a_recognized_face_without_a_record_says_so() -> None:
    face = FaceResult(
        identity="nobody_enrolled_in_dynamodb",
        similarity=0.71,
        box={"x1": 1, "y1": 2, "x2": 30, "y2": 40},
        frame_time_ms=0,
        lookup=RecordLookup.MISSING,
    )
    result = RecognitionResult.model_validate(
        _result(status="recognized", faces=[face.model_dump(mode="json")])
    )
    assert result.faces[0].record is None
    assert result.people == ["nobody_enrolled_in_dynamodb"]
    with pytest.raises(ValidationError, match="record must be present"):
        FaceResult.model_validate({**face.model_dump(), "lookup": "found"})


def test_not_json_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match=r"json_invalid|Invalid JSON"):
        RecognitionResult.from_message(b"\x00not json")


def test_seed_loader_reports_each_invalid_entry_with_its_index() -> None:
    seed = json.dumps(
        [
            {"id": 1, "name": "mr_bean", "major": "lawyer", "year": "freshmen"},
            {"id": 2, "name": "", "major": "history", "year": "sophomore"},
            "not an object",
            {"id": 4, "name": "floki", "year": "junior"},
            {"id": 5, "name": "mr_bean", "major": "math", "year": "senior"},
            {"id": 6, "name": "vin", "major": "cs", "year": "senior", "email": "v@example.org"},
        ]
    )
    loaded = load_student_seed(seed)
    assert [r.name for r in loaded.records] == ["mr_bean", "vin"]
    assert loaded.records[1].extra == {"email": "v@example.org"}
    assert [(e.index, e.message.split(":")[0]) for e in loaded.errors] == [
        (1, "name"),
        (2, "entry is not a JSON object"),
        (3, "major"),
        (4, "duplicate name 'mr_bean' (first at index 0)"),
    ]


@pytest.mark.parametrize(
    ("text", "message"), [("{", "not valid JSON"), ("{}", "must be a JSON list")]
)
def test_seed_loader_refuses_documents_that_are_not_lists(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_student_seed(text)


@pytest.mark.shared_data
def test_the_course_seed_file_loads_as_distributed() -> None:
    """Skipped without ../shared on a laptop; fails under CI=true (the test kit's rule)."""
    loaded = load_student_seed(testkit.shared_data("cse546-videos", "student_data.json"))
    assert loaded.ok
    assert len(loaded.records) == 8
    bean = next(r for r in loaded.records if r.name == "mr_bean")
    assert (bean.major, bean.year, bean.id) == ("lawyer", "freshmen", 1)
    assert all(StudentRecord.from_item(r.to_item()) == r for r in loaded.records)


@pytest.mark.parametrize("stem", sorted(MESSAGES))
def test_committed_json_schemas_match_the_models(stem: str) -> None:
    committed = schema_path(stem).read_text(encoding="utf-8")
    assert committed == render(MESSAGES[stem]), (
        f"{schema_path(stem).name} drifted from the model: "
        "run `uv run python -m shared_schema.json_schemas` and commit the result"
    )
