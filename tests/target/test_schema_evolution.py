"""Schema changes on DuckDB and PostgreSQL alike: new columns are added, widened types widened, a table
created without a key gets the stream's key when it upserts, anything else fails with one line (the same
words on both warehouses, each naming its own types)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from target_looker_stage.errors import SchemaChangeError
from tests.target.singer_streams import (
    encode,
    record_message,
    run_in_process,
    run_target,
    schema_message,
    state_message,
)
from tests.target.warehouses import Warehouse


def schema(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": {"id": {"type": "integer"}, **properties}}


def sync(props: dict[str, Any], *records: dict[str, Any]) -> list[str]:
    return [
        encode(schema_message("items", schema(**props), ["id"])),
        *(encode(record_message("items", r)) for r in records),
        encode(state_message({"n": len(records)})),
    ]


def column_types(warehouse: Warehouse) -> dict[str, str]:
    rows = warehouse.query(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = 'items'",
        (warehouse.schema,),
    )
    return {str(name): str(data_type) for name, data_type in rows}


#: information_schema's data_type of each kind, per warehouse.
TYPES = {
    "duckdb": {
        "boolean": "BOOLEAN",
        "integer": "BIGINT",
        "decimal": "DECIMAL(38,9)",
        "timestamp": "TIMESTAMP WITH TIME ZONE",
        "string": "VARCHAR",
        "json": "JSON",
    },
    "postgres": {
        "boolean": "boolean",
        "integer": "bigint",
        "decimal": "numeric",
        "timestamp": "timestamp with time zone",
        "string": "text",
        "json": "jsonb",
    },
}


def test_a_new_column_is_added_and_old_rows_keep_null(warehouse: Warehouse) -> None:
    run_in_process(warehouse.config, sync({"a": {"type": "string"}}, {"id": 1, "a": "x"}))
    run_in_process(
        warehouse.config,
        sync({"a": {"type": "string"}, "b": {"type": "boolean"}}, {"id": 2, "a": "y", "b": True}),
    )
    assert warehouse.rows("items", "id, a, b") == [(1, "x", None), (2, "y", True)]


def test_a_new_property_mid_run_becomes_a_column(warehouse: Warehouse) -> None:
    lines = sync({"a": {"type": "string"}}, {"id": 1, "a": "x"})
    lines += sync({"a": {"type": "string"}, "c": {"type": "object"}}, {"id": 2, "c": {"k": [1, 2]}})
    run_in_process(warehouse.config, lines)
    assert column_types(warehouse)["c"] == TYPES[warehouse.kind]["json"]
    stored_json = '{"k":[1,2]}' if warehouse.kind == "duckdb" else {"k": [1, 2]}  # JSON text / jsonb
    assert warehouse.rows("items", "id, a, c") == [(1, "x", None), (2, None, stored_json)]


@pytest.mark.parametrize(
    ("old", "new", "widened"),
    [
        ({"type": "integer"}, {"type": "number"}, "decimal"),
        ({"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}, "timestamp"),
        ({"type": "number"}, {"type": "string"}, "string"),
    ],
)
def test_a_widening_is_applied_in_place(
    warehouse: Warehouse, old: dict[str, Any], new: dict[str, Any], widened: str
) -> None:
    first = {"integer": 1, "number": 1, "string": "2024-01-02"}[old["type"]]
    run_in_process(warehouse.config, sync({"v": old}, {"id": 1, "v": first}))
    second = {"number": 2, "string": "2024-01-03T04:05:06Z"}[new["type"]]
    run_in_process(warehouse.config, sync({"v": new}, {"id": 2, "v": second}))
    assert column_types(warehouse)["v"] == TYPES[warehouse.kind][widened]
    assert warehouse.query(f'SELECT count(*) FROM "{warehouse.schema}".items') == [(2,)]


def test_a_narrower_incoming_type_is_stored_in_the_wider_column(warehouse: Warehouse) -> None:
    run_in_process(warehouse.config, sync({"v": {"type": "number"}}, {"id": 1, "v": 1.5}))
    run_in_process(warehouse.config, sync({"v": {"type": "integer"}}, {"id": 2, "v": 7}))
    assert column_types(warehouse)["v"] == TYPES[warehouse.kind]["decimal"]
    run_in_process(warehouse.config, sync({"v": {"type": "string"}}, {"id": 3, "v": "n/a"}))
    run_in_process(warehouse.config, sync({"v": {"type": "number"}}, {"id": 4, "v": 2.50}))
    assert warehouse.rows("items", "id, v") == [(1, "1.5"), (2, "7"), (3, "n/a"), (4, "2.5")]  # same text


def test_an_incompatible_change_fails_naming_stream_column_types_and_table(warehouse: Warehouse) -> None:
    run_in_process(warehouse.config, sync({"v": {"type": "boolean"}}, {"id": 1, "v": True}))
    with pytest.raises(SchemaChangeError) as raised:
        run_in_process(warehouse.config, sync({"v": {"type": "object"}}, {"id": 2, "v": {}}))
    types = TYPES[warehouse.kind]
    assert str(raised.value).startswith(
        f"stream 'items': column 'v' cannot change from {types['boolean']} to {types['json']} in "
        f"{warehouse.schema}.items (not a widening the target applies); migrate or rename the column"
    )
    assert warehouse.rows("items", "id, v") == [(1, True)]
    assert column_types(warehouse)["v"] == types["boolean"]


def test_an_incompatible_change_after_a_new_column_changes_nothing(warehouse: Warehouse) -> None:
    """The plan is checked whole before it runs: the column the refused schema adds is not added either."""
    run_in_process(warehouse.config, sync({"v": {"type": "boolean"}}, {"id": 1, "v": True}))
    with pytest.raises(SchemaChangeError, match="column 'v' cannot change"):
        run_in_process(
            warehouse.config, sync({"a": {"type": "string"}, "v": {"type": "object"}}, {"id": 2, "v": {}})
        )
    assert set(column_types(warehouse)) == {"id", "v", "_sdc_deleted_at", "_sdc_sync_version"}


def test_an_incompatible_change_is_one_line_and_exit_1_on_the_cli(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    run_in_process(warehouse.config, sync({"v": {"type": "boolean"}}, {"id": 1, "v": True}))
    run = run_target(warehouse.config, sync({"v": {"type": "integer"}}, {"id": 2, "v": 2}), workdir=tmp_path)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    (error,) = [line for line in run.stderr.splitlines() if "error" in line]
    types = TYPES[warehouse.kind]
    assert f"stream 'items': column 'v' cannot change from {types['boolean']} to {types['integer']}" in error
    if warehouse.server is not None:
        assert warehouse.server.password not in run.stderr


# ------------------------------------------------------------------------------------- primary key

NAMED = {"id": {"type": "integer"}, "name": {"type": ["null", "string"]}}


def test_upserting_into_a_table_created_without_a_key_adds_it(warehouse: Warehouse) -> None:
    run_in_process(
        {**warehouse.config, "load_method": "append"},
        sync(NAMED, {"id": 1, "name": "a"}, {"id": 2, "name": "b"}),
    )
    run_in_process(warehouse.config, sync(NAMED, {"id": 2, "name": "B"}, {"id": 3, "name": "c"}))
    run_in_process(warehouse.config, sync(NAMED, {"id": 2, "name": "B2"}))
    assert warehouse.rows("items", "id, name") == [(1, "a"), (2, "B2"), (3, "c")]


def test_a_keyless_table_with_repeated_keys_is_refused_in_one_line(warehouse: Warehouse) -> None:
    run_in_process(
        {**warehouse.config, "load_method": "append"},
        sync(NAMED, {"id": 1, "name": "a"}, {"id": 1, "name": "b"}),
    )
    with pytest.raises(SchemaChangeError) as caught:
        run_in_process(warehouse.config, sync(NAMED, {"id": 1, "name": "c"}))
    assert str(caught.value) == (
        f"stream 'items': table {warehouse.schema}.items has no primary key and its rows repeat a (id) key "
        "or leave it null, so upserts cannot add one; remove those rows (or drop the table to reload it), or "
        "keep load_method: append"
    )
    assert warehouse.rows("items", "id, name") == [(1, "a"), (1, "b")]


def test_a_changed_key_is_refused_in_the_same_words_on_both_warehouses(warehouse: Warehouse) -> None:
    run_in_process(warehouse.config, sync(NAMED, {"id": 1, "name": "a"}))
    lines = [
        encode(schema_message("items", schema(**NAMED), ["id", "name"])),
        encode(record_message("items", {"id": 1, "name": "b"})),
    ]
    with pytest.raises(SchemaChangeError) as caught:
        run_in_process(warehouse.config, lines)
    assert str(caught.value) == (
        f"stream 'items': table {warehouse.schema}.items has primary key (id) but the stream now declares "
        "(id, name); rename or drop the table to change the key"
    )
    assert warehouse.rows("items", "id, name") == [(1, "a")]
