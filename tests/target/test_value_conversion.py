"""Record values -> Arrow columns: exact, UTC-normalised, and refused with a clear error when impossible."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from target_looker_stage.arrow_batch import RecordValueError, collapse_newest, records_to_table
from target_looker_stage.schema_mapping import build_table_spec, column_kind
from target_looker_stage.table_spec import DELETE_VERSION, TableSpec

UTC = dt.UTC


def spec_for(**properties: Any) -> TableSpec:
    return build_table_spec(
        stream_name="s",
        schema={"properties": properties},
        key_properties=[],
        schema_name="q",
        load_method="upsert",
        hard_delete=False,
    )


@pytest.mark.parametrize(
    ("schema", "kind"),
    [
        ({"type": ["null", "number"]}, "decimal"),
        ({"type": "integer"}, "integer"),
        ({"type": ["integer", "number"]}, "decimal"),
        ({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]}, "timestamp"),
        ({"type": "string", "format": "date"}, "date"),
        ({"type": ["null", "object"], "properties": {}}, "json"),
        ({"type": "array", "items": {"type": "object"}}, "json"),
        ({}, "json"),
        ({"type": ["string", "number"]}, "string"),
        ({"type": ["null", "boolean"]}, "boolean"),
    ],
)
def test_json_schema_to_column_kind(schema: dict[str, Any], kind: str) -> None:
    assert column_kind(schema) == kind


def test_timestamps_are_normalised_to_utc() -> None:
    spec = spec_for(t={"type": "string", "format": "date-time"})
    values = ["2024-01-01T10:00:00+02:00", "2024-01-01T08:00:00Z", "2024-01-01T08:00:00", "2024-01-01", None]
    table = records_to_table(spec, [{"t": v} for v in values])
    expected = dt.datetime(2024, 1, 1, 8, tzinfo=UTC)
    assert table.column("t").to_pylist() == [
        expected,
        expected,
        expected,
        dt.datetime(2024, 1, 1, tzinfo=UTC),
        None,
    ]


def test_invalid_timestamp_names_the_column_but_not_the_value() -> None:
    spec = spec_for(t={"type": "string", "format": "date-time"})
    expected = r"column 't' \(timestamp\) cannot store the value of record"
    with pytest.raises(RecordValueError, match=expected) as e:
        records_to_table(spec, [{"t": "2024-01-01T00:00:00Z"}, {"t": "2024-13-01T00:00:00Z"}])
    assert "2024-13" not in str(e.value)


def test_numbers_stay_decimal_and_integers_are_accepted() -> None:
    spec = spec_for(n={"type": "number"})
    table = records_to_table(spec, [{"n": Decimal("0.1")}, {"n": 3}, {"n": 0.25}])
    assert table.column("n").to_pylist() == [Decimal("0.1"), Decimal(3), Decimal("0.25")]


def test_nested_values_are_json_text_with_exact_numbers() -> None:
    spec = spec_for(o={"type": "object"})
    table = records_to_table(spec, [{"o": {"a": Decimal("1.10"), "b": [1, None]}}])
    assert table.column("o").to_pylist() == ['{"a":1.10,"b":[1,null]}']


def test_collapse_keeps_newest_and_merges_a_delete_stub_over_the_values() -> None:
    rows: list[dict[str, Any]] = [
        {"Id": "1", "v": "old", "_sdc_sync_version": 1},
        {"Id": "1", "v": "new", "x": 5, "_sdc_sync_version": 2},
        {"Id": "1", "_sdc_deleted_at": "2024-01-01T00:00:00Z", "_sdc_sync_version": DELETE_VERSION},
        {"Id": "2", "v": "a", "_sdc_sync_version": None},
        {"Id": "2", "v": "b", "_sdc_sync_version": None},
    ]
    assert collapse_newest(rows, ["Id"]) == [
        {
            "Id": "1",
            "v": "new",
            "x": 5,
            "_sdc_deleted_at": "2024-01-01T00:00:00Z",
            "_sdc_sync_version": DELETE_VERSION,
        },
        {"Id": "2", "v": "b", "_sdc_sync_version": None},
    ]
