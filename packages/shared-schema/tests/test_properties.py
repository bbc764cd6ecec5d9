"""Property tests: every message round-trips, validates against its committed schema,
and bad input is refused with the documented error and nothing else."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from shared_schema import (
    ClipId,
    InvalidKeyError,
    RecognitionResult,
    StudentRecord,
    format_key,
    load_student_seed,
    parse_key,
)
from shared_schema.json_schemas import MESSAGES, schema_path
from shared_schema_strategies import (
    clip_ids,
    recognition_results,
    student_records,
)

STRATEGIES: dict[type[BaseModel], st.SearchStrategy[Any]] = {
    ClipId: clip_ids,
    StudentRecord: student_records(),
    RecognitionResult: recognition_results(),
}
messages = st.sampled_from(list(STRATEGIES)).flatmap(STRATEGIES.__getitem__)
VALIDATORS = {
    model: jsonschema.Draft202012Validator(
        json.loads(schema_path(stem).read_text()),
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )
    for stem, model in MESSAGES.items()
}


@given(messages)
def test_every_message_round_trips_through_json(message: BaseModel) -> None:
    assert type(message).model_validate_json(message.model_dump_json()) == message


@given(recognition_results())
def test_result_round_trips_as_an_sqs_body(result: RecognitionResult) -> None:
    assert RecognitionResult.from_message(result.to_message()) == result


@given(clip_ids)
def test_parse_key_inverts_format_key(clip: ClipId) -> None:
    assert parse_key(format_key(clip)) == clip


@given(clip_ids, clip_ids)
def test_distinct_clips_never_share_a_key(a: ClipId, b: ClipId) -> None:
    assert (format_key(a) == format_key(b)) == (a == b)


@given(st.text(max_size=200) | st.binary(max_size=50).map(lambda b: b.decode("latin-1")))
def test_parse_key_accepts_only_canonical_keys(key: str) -> None:
    try:
        clip = parse_key(key)
    except InvalidKeyError as exc:
        assert exc.key == key
    else:
        assert format_key(clip) == key


@given(clip_ids.map(format_key), st.data())
def test_mutated_keys_are_refused_or_canonical(key: str, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(key) - 1))
    replacement = data.draw(st.characters())
    mutated = key[:index] + replacement + key[index + 1 :]
    with contextlib.suppress(InvalidKeyError):
        assert format_key(parse_key(mutated)) == mutated


@given(student_records())
def test_student_record_round_trips_through_a_dynamodb_item(record: StudentRecord) -> None:
    assert StudentRecord.from_item(record.to_item()) == record


@given(messages)
def test_every_message_validates_against_its_committed_json_schema(message: BaseModel) -> None:
    VALIDATORS[type(message)].validate(json.loads(message.model_dump_json()))


def _mutations(data: st.DataObject, text: str) -> str:
    kind = data.draw(st.sampled_from(["truncate", "flip", "insert", "drop_field", "retype"]))
    if kind == "truncate":
        return text[: data.draw(st.integers(0, len(text) - 1))]
    if kind == "flip":
        i = data.draw(st.integers(0, len(text) - 1))
        return text[:i] + data.draw(st.characters()) + text[i + 1 :]
    if kind == "insert":
        i = data.draw(st.integers(0, len(text)))
        return text[:i] + data.draw(st.text(min_size=1, max_size=5)) + text[i:]
    obj = json.loads(text)
    field = data.draw(st.sampled_from(sorted(obj)))
    if kind == "drop_field":
        del obj[field]
    else:
        obj[field] = data.draw(
            st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers()))
        )
    return json.dumps(obj)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(messages, st.data())
def test_mutated_json_is_refused_with_a_validation_error_only(
    message: BaseModel, data: st.DataObject
) -> None:
    model = type(message)
    text = message.model_dump_json()
    mutated = _mutations(data, text)
    try:
        parsed = model.model_validate_json(mutated)
    except ValidationError as exc:
        assert exc.errors(), "a refusal always says which field and why"
    else:
        # Some mutations stay valid (a dropped field with a default, a flipped letter in a
        # name): whatever parses must still be a complete, self-consistent message.
        assert model.model_validate_json(parsed.model_dump_json()) == parsed


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
        max_leaves=20,
    )
)
def test_seed_loader_reports_every_bad_entry_and_never_crashes(document: object) -> None:
    text = json.dumps(document)
    if not isinstance(document, list):
        with pytest.raises(ValueError, match="list"):
            load_student_seed(text)
        return
    loaded = load_student_seed(text)
    assert len(loaded.records) + len(loaded.errors) == len(document)
    assert sorted(e.index for e in loaded.errors) == [e.index for e in loaded.errors]
    assert all(0 <= e.index < len(document) for e in loaded.errors)
