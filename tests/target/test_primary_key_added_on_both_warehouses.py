"""Upserting into a table created without a primary key (loaded with ``load_method: append``) adds the
stream's key, in DuckDB as in PostgreSQL; a table whose rows repeat a key is refused with one line."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from target_looker_stage.errors import SchemaChangeError, TargetError
from tests.target.singer_streams import encode, record_message, run_in_process, schema_message, state_message

SCHEMA = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": ["null", "string"]}}}


def sync(*records: dict[str, Any]) -> list[str]:
    return [
        encode(schema_message("items", SCHEMA, ["id"])),
        *(encode(record_message("items", r)) for r in records),
        encode(state_message({"n": len(records)})),
    ]


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """A config for one warehouse, and how to read the table back."""
    schema = f"pk_{uuid.uuid4().hex[:8]}"
    if request.param == "duckdb":
        path = tmp_path / "warehouse.duckdb"

        def rows_duckdb() -> list[tuple[Any, ...]]:
            with duckdb.connect(str(path), read_only=True) as connection:
                return connection.execute(f'SELECT id, name FROM "{schema}".items ORDER BY id').fetchall()

        return {"config": {"warehouse_uri": f"duckdb:///{path}"}, "schema": schema, "rows": rows_duckdb}
    server = request.getfixturevalue("postgres_server")

    def rows_postgres() -> list[tuple[Any, ...]]:
        with psycopg.connect(server.uri) as connection:
            return connection.execute(f'SELECT id, name FROM "{schema}".items ORDER BY id').fetchall()

    return {"config": {"warehouse_uri": server.uri}, "schema": schema, "rows": rows_postgres}


def config(warehouse: dict[str, Any], **settings: Any) -> dict[str, Any]:
    return {"stage_uri": "", "default_target_schema": warehouse["schema"], **warehouse["config"], **settings}


def test_upserting_into_a_table_created_without_a_key_adds_it(warehouse: dict[str, Any]) -> None:
    run_in_process(
        config(warehouse, load_method="append"), sync({"id": 1, "name": "a"}, {"id": 2, "name": "b"})
    )
    run_in_process(config(warehouse), sync({"id": 2, "name": "B"}, {"id": 3, "name": "c"}))
    run_in_process(config(warehouse), sync({"id": 2, "name": "B2"}))
    assert warehouse["rows"]() == [(1, "a"), (2, "B2"), (3, "c")]


def test_a_keyless_table_with_repeated_keys_is_refused_in_one_line(warehouse: dict[str, Any]) -> None:
    run_in_process(
        config(warehouse, load_method="append"), sync({"id": 1, "name": "a"}, {"id": 1, "name": "b"})
    )
    with pytest.raises(TargetError) as caught:
        run_in_process(config(warehouse), sync({"id": 1, "name": "c"}))
    message = str(caught.value)
    assert len(message.splitlines()) == 1
    assert "items" in message
    if isinstance(caught.value, SchemaChangeError):
        assert "repeat" in message
    assert warehouse["rows"]() == [(1, "a"), (1, "b")]
