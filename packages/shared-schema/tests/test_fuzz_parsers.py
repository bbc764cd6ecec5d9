"""Fuzz the parsers other packages feed with foreign data (DynamoDB items, object keys from
notifications): each refuses bad input with its one documented exception."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from shared_schema import InvalidKeyError, StudentRecord, parse_key
from shared_schema_strategies import student_records

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=40)
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.binary(max_size=8)
)
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(
    record=student_records(),
    key=st.sampled_from(["name", "major", "year", "id", "x"]),
    value=values,
)
def test_mutated_dynamodb_items_raise_only_validation_errors(
    record: StudentRecord, key: str, value: Any
) -> None:
    item = record.to_item()
    item[key] = value
    with contextlib.suppress(ValidationError):  # anything else fails the test
        StudentRecord.from_item(item)


@given(key=st.one_of(st.text(max_size=200), st.binary(max_size=50), st.integers(), st.none()))
def test_keys_from_notifications_raise_only_invalid_key_errors(key: Any) -> None:
    try:
        clip = parse_key(key)
    except InvalidKeyError:
        return
    assert clip.key == key
