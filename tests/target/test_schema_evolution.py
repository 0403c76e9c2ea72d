"""Schema changes: new columns are added, widened types widened, anything else fails with a clear error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from target_looker_stage.errors import SchemaChangeError
from tests.target.singer_streams import (
    encode,
    record_message,
    run_in_process,
    run_target,
    schema_message,
    state_message,
    warehouse_rows,
)


def schema(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": {"id": {"type": "integer"}, **properties}}


def sync(config: dict[str, Any], props: dict[str, Any], *records: dict[str, Any]) -> list[str]:
    return [
        encode(schema_message("items", schema(**props), ["id"])),
        *(encode(record_message("items", r)) for r in records),
        encode(state_message({"n": len(records)})),
    ]


def column_types(database: Path) -> dict[str, str]:
    with duckdb.connect(str(database), read_only=True) as connection:
        rows = connection.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'items'"
        ).fetchall()
    return dict(rows)


def test_new_column_is_added_and_old_rows_keep_null(config: dict[str, Any], database: Path) -> None:
    run_in_process(config, sync(config, {"a": {"type": "string"}}, {"id": 1, "a": "x"}))
    run_in_process(
        config,
        sync(config, {"a": {"type": "string"}, "b": {"type": "boolean"}}, {"id": 2, "a": "y", "b": True}),
    )
    rows = warehouse_rows(database, "quickbooks.items", order_by="id")
    assert [(r["id"], r["a"], r["b"]) for r in rows] == [(1, "x", None), (2, "y", True)]


def test_schema_change_within_one_run_adds_the_column(config: dict[str, Any], database: Path) -> None:
    lines = sync(config, {"a": {"type": "string"}}, {"id": 1, "a": "x"})
    lines += sync(config, {"a": {"type": "string"}, "c": {"type": "object"}}, {"id": 2, "c": {"k": [1, 2]}})
    run_in_process(config, lines)
    assert column_types(database)["c"] == "JSON"
    assert [r["c"] for r in warehouse_rows(database, "quickbooks.items", order_by="id")] == [
        None,
        '{"k":[1,2]}',
    ]


@pytest.mark.parametrize(
    ("old", "new", "widened"),
    [
        ({"type": "integer"}, {"type": "number"}, "DECIMAL(38,9)"),
        (
            {"type": "string", "format": "date"},
            {"type": "string", "format": "date-time"},
            "TIMESTAMP WITH TIME ZONE",
        ),
        ({"type": "number"}, {"type": "string"}, "VARCHAR"),
    ],
)
def test_widening_is_applied_in_place(
    config: dict[str, Any], database: Path, old: dict[str, Any], new: dict[str, Any], widened: str
) -> None:
    first = {"integer": 1, "number": 1, "string": "2024-01-02"}[old["type"]]
    run_in_process(config, sync(config, {"v": old}, {"id": 1, "v": first}))
    second = {"number": 2, "string": "2024-01-03T04:05:06Z"}[new["type"]]
    run_in_process(config, sync(config, {"v": new}, {"id": 2, "v": second}))
    assert column_types(database)["v"] == widened
    assert len(warehouse_rows(database, "quickbooks.items", order_by="id")) == 2


def test_narrower_incoming_type_is_stored_in_the_wider_column(config: dict[str, Any], database: Path) -> None:
    run_in_process(config, sync(config, {"v": {"type": "number"}}, {"id": 1, "v": 1.5}))
    run_in_process(config, sync(config, {"v": {"type": "integer"}}, {"id": 2, "v": 7}))
    assert column_types(database)["v"] == "DECIMAL(38,9)"
    run_in_process(config, sync(config, {"v": {"type": "string"}}, {"id": 3, "v": "n/a"}))
    run_in_process(config, sync(config, {"v": {"type": "number"}}, {"id": 4, "v": 2.50}))
    values = [r["v"] for r in warehouse_rows(database, "quickbooks.items", order_by="id")]
    assert values == ["1.5", "7", "n/a", "2.5"]


def test_incompatible_change_fails_naming_stream_column_and_types(
    config: dict[str, Any], database: Path
) -> None:
    run_in_process(config, sync(config, {"v": {"type": "boolean"}}, {"id": 1, "v": True}))
    with pytest.raises(SchemaChangeError) as raised:
        run_in_process(config, sync(config, {"v": {"type": "object"}}, {"id": 2, "v": {}}))
    message = str(raised.value)
    assert "'items'" in message
    assert "'v'" in message
    assert "BOOLEAN" in message
    assert "JSON" in message
    assert [r["id"] for r in warehouse_rows(database, "quickbooks.items", order_by="id")] == [1]


def test_incompatible_change_is_one_line_and_exit_1_on_the_cli(
    config: dict[str, Any], tmp_path: Path
) -> None:
    run_in_process(config, sync(config, {"v": {"type": "boolean"}}, {"id": 1, "v": True}))
    run = run_target(config, sync(config, {"v": {"type": "integer"}}, {"id": 2, "v": 2}), workdir=tmp_path)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    (error,) = [line for line in run.stderr.splitlines() if "error" in line]
    assert "stream 'items': column 'v' cannot change from BOOLEAN to BIGINT" in error
