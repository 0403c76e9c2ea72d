"""Schema changes through the target into PostgreSQL: the same outcomes as with DuckDB."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from target_looker_stage.errors import SchemaChangeError
from tests.services import PostgresServer
from tests.target.singer_streams import (
    encode,
    record_message,
    run_in_process,
    run_target,
    schema_message,
    state_message,
)


@pytest.fixture
def pg_config(postgres_server: PostgresServer) -> dict[str, Any]:
    schema = f"evo_{uuid.uuid4().hex[:8]}"
    return {"stage_uri": "", "warehouse_uri": postgres_server.uri, "default_target_schema": schema}


def sync(props: dict[str, Any], *records: dict[str, Any]) -> list[str]:
    schema = {"type": "object", "properties": {"id": {"type": "integer"}, **props}}
    return [
        encode(schema_message("items", schema, ["id"])),
        *(encode(record_message("items", r)) for r in records),
        encode(state_message({"n": len(records)})),
    ]


def select(server: PostgresServer, config: dict[str, Any], statement: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(server.uri) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        table = f'"{config["default_target_schema"]}".items'
        return conn.execute(statement.replace("{items}", table).encode()).fetchall()


def column_type(server: PostgresServer, config: dict[str, Any], column: str) -> str:
    with psycopg.connect(server.uri) as conn:
        row = conn.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = 'items' AND column_name = %s",
            (config["default_target_schema"], column),
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_a_new_property_mid_run_becomes_a_column(
    postgres_server: PostgresServer, pg_config: dict[str, Any]
) -> None:
    lines = sync({"a": {"type": "string"}}, {"id": 1, "a": "x"})
    lines += sync({"a": {"type": "string"}, "c": {"type": "object"}}, {"id": 2, "c": {"k": [1, 2]}})
    run_in_process(pg_config, lines)
    assert column_type(postgres_server, pg_config, "c") == "jsonb"
    assert select(postgres_server, pg_config, "SELECT id, a, c FROM {items} ORDER BY id") == [
        (1, "x", None),
        (2, None, {"k": [1, 2]}),
    ]


@pytest.mark.parametrize(
    ("old", "new", "widened"),
    [
        ({"type": "integer"}, {"type": "number"}, "numeric"),
        (
            {"type": "string", "format": "date"},
            {"type": "string", "format": "date-time"},
            "timestamp with time zone",
        ),
        ({"type": "number"}, {"type": "string"}, "text"),
    ],
)
def test_widening_is_applied_in_place(
    postgres_server: PostgresServer,
    pg_config: dict[str, Any],
    old: dict[str, Any],
    new: dict[str, Any],
    widened: str,
) -> None:
    first = {"integer": 1, "number": 1, "string": "2024-01-02"}[old["type"]]
    run_in_process(pg_config, sync({"v": old}, {"id": 1, "v": first}))
    second = {"number": 2, "string": "2024-01-03T04:05:06Z"}[new["type"]]
    run_in_process(pg_config, sync({"v": new}, {"id": 2, "v": second}))
    assert column_type(postgres_server, pg_config, "v") == widened
    assert select(postgres_server, pg_config, "SELECT count(*) FROM {items}") == [(2,)]


def test_a_narrower_incoming_type_is_stored_in_the_wider_column(
    postgres_server: PostgresServer, pg_config: dict[str, Any]
) -> None:
    run_in_process(pg_config, sync({"v": {"type": "number"}}, {"id": 1, "v": 1.5}))
    run_in_process(pg_config, sync({"v": {"type": "integer"}}, {"id": 2, "v": 7}))
    assert column_type(postgres_server, pg_config, "v") == "numeric"
    run_in_process(pg_config, sync({"v": {"type": "string"}}, {"id": 3, "v": "n/a"}))
    run_in_process(pg_config, sync({"v": {"type": "number"}}, {"id": 4, "v": 2.50}))
    values = select(postgres_server, pg_config, "SELECT v FROM {items} ORDER BY id")
    assert [v for (v,) in values] == ["1.5", "7", "n/a", "2.5"]  # what DuckDB stores too


def test_an_incompatible_change_fails_and_keeps_the_table(
    postgres_server: PostgresServer, pg_config: dict[str, Any]
) -> None:
    run_in_process(pg_config, sync({"v": {"type": "boolean"}}, {"id": 1, "v": True}))
    with pytest.raises(SchemaChangeError, match="column 'v' cannot change from boolean to jsonb"):
        run_in_process(pg_config, sync({"v": {"type": "object"}}, {"id": 2, "v": {}}))
    assert select(postgres_server, pg_config, "SELECT id, v FROM {items}") == [(1, True)]


def test_an_incompatible_change_is_one_line_and_exit_1_on_the_cli(
    postgres_server: PostgresServer, pg_config: dict[str, Any], tmp_path: Path
) -> None:
    run_in_process(pg_config, sync({"v": {"type": "boolean"}}, {"id": 1, "v": True}))
    run = run_target(pg_config, sync({"v": {"type": "integer"}}, {"id": 2, "v": 2}), workdir=tmp_path)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    (error,) = [line for line in run.stderr.splitlines() if "error" in line]
    assert "stream 'items': column 'v' cannot change from boolean to bigint" in error
    assert postgres_server.password not in run.stderr
