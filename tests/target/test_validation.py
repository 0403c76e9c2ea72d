"""validate_records checks what becomes a column (top-level types, required), not inside nested JSON."""

from __future__ import annotations

from typing import Any

import pytest
from singer_sdk.exceptions import InvalidRecord

from target_looker_stage.validation import record_validator

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
