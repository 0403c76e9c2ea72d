"""validate_records checks what becomes a column (top-level types, required), not inside nested JSON."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from singer_sdk.exceptions import InvalidRecord

from target_looker_stage.validation import record_validator, shallow_schema, type_test

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["Id"],
    "properties": {
        "Id": {"type": "string"},
        "TotalAmt": {"type": ["null", "number"]},
        "Line": {
            "type": ["null", "array"],
            "items": {"type": "object", "properties": {"Amount": {"type": "number"}}},
        },
        "Ref": {"anyOf": [{"type": "object", "properties": {"value": {"type": "string"}}}, {"type": "null"}]},
    },
}


def test_valid_record_passes() -> None:
    record_validator(SCHEMA).validate({"Id": "1", "TotalAmt": 1, "Line": [{"Amount": 2}], "Ref": None})


@pytest.mark.parametrize(
    "record",
    [
        {"TotalAmt": 1},
        {"Id": 1},
        {"Id": "1", "TotalAmt": "12.00"},
        {"Id": "1", "Line": {"Amount": 1}},
        {"Id": "1", "Ref": "42"},
    ],
)
def test_top_level_violations_are_rejected(record: dict[str, Any]) -> None:
    with pytest.raises(InvalidRecord):
        record_validator(SCHEMA).validate(record)


def test_inside_of_nested_json_is_stored_as_is() -> None:
    record_validator(SCHEMA).validate({"Id": "1", "Line": [{"Amount": "n/a"}], "Ref": {"value": 42}})


def test_validator_does_not_fill_in_defaults() -> None:
    schema = {"properties": {"a": {"type": "string", "default": "x"}}}
    record: dict[str, Any] = {}
    record_validator(schema).validate(record)
    assert record == {}


@pytest.mark.parametrize(
    "record",
    [
        {"Id": "1"},
        {"Id": "1", "TotalAmt": Decimal("1.5"), "Line": [], "Ref": {"value": "1"}},
        {"Id": "1", "TotalAmt": True},
        {"Id": None},
        {"Id": "1", "Ref": []},
        {"Id": "1", "extra": object()},
    ],
)
def test_fast_type_test_never_accepts_what_the_schema_rejects(record: dict[str, Any]) -> None:
    import fastjsonschema

    shallow = shallow_schema(SCHEMA)
    accepts = type_test(shallow)
    assert accepts is not None
    if accepts(record):
        fastjsonschema.compile(shallow, use_default=False, use_formats=False)(record)


def test_schemas_with_value_constraints_skip_the_fast_type_test() -> None:
    assert type_test({"properties": {"status": {"type": "string", "enum": ["a", "b"]}}}) is None
    assert type_test({"properties": {"n": {"type": "integer"}}, "minProperties": 1}) is None
    with pytest.raises(InvalidRecord):
        record_validator({"properties": {"status": {"type": "string", "enum": ["a"]}}}).validate(
            {"status": "b"}
        )
