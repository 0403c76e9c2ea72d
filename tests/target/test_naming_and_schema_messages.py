"""Stream -> table and property -> column naming, in DuckDB and PostgreSQL alike.

Two streams never share a table (the mapping is injective and fits PostgreSQL's 63-byte identifiers; a table
records its stream in its comment), names no warehouse can hold apart are refused when the schema arrives,
and every refusal is one line naming the stream and the fix, with nothing half-written.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from target_looker_stage.errors import SchemaChangeError
from target_looker_stage.schema_mapping import MAX_IDENTIFIER_BYTES, table_name_for
from target_looker_stage.table_spec import LOADS_TABLE
from tests.services import PostgresServer
from tests.target.singer_streams import (
    TargetRun,
    encode,
    record_message,
    run_in_process,
    run_target,
    schema_message,
    state_message,
)
from tests.target.warehouses import Warehouse

LONG = "a_property_name_that_is_much_longer_than_what_postgresql_keeps_of_it"  # 68 bytes


def schema_of(*properties: str, kinds: dict[str, str] | None = None) -> dict[str, Any]:
    """Nullable properties, integers unless ``kinds`` says otherwise."""
    kinds = kinds or {}
    return {
        "type": "object",
        "properties": {p: {"type": ["null", kinds.get(p, "integer")]} for p in properties},
    }


def load(
    stream: str,
    records: list[dict[str, Any]],
    keys: tuple[str, ...] = ("id",),
    kinds: dict[str, str] | None = None,
) -> list[str]:
    properties = sorted({p for r in records for p in r} | set(keys))
    return [
        encode(schema_message(stream, schema_of(*properties, kinds=kinds), list(keys))),
        *(encode(record_message(stream, r)) for r in records),
        encode(state_message({stream: len(records)})),
    ]


def error_line(run: TargetRun) -> str:
    """The one error line of a failed run (no traceback, no other error logged)."""
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("target-looker-stage: error:")]
    assert len(errors) == 1, run.stderr
    assert not [line for line in run.stderr.splitlines() if "| ERROR" in line], run.stderr
    return errors[0]


def staged_files(config: dict[str, Any]) -> list[Path]:
    return sorted(Path(config["stage_uri"]).rglob("*.parquet"))


# ------------------------------------------------------------------------------------------- tables


def test_plain_stream_names_keep_their_table_names() -> None:
    """The dbt models read these tables: a name that already is a plain identifier never changes."""
    for name in ("invoices", "bill_payments", "journal_entries", "Invoice", "TestCamelcase", "_x", "a" * 63):
        assert table_name_for(name) == name


def test_other_stream_names_keep_the_same_hashed_table_names_in_every_version() -> None:
    """The hash is part of the table name dbt reads: it must never change between releases."""
    assert table_name_for("a/b") == "a_b_82badf67"
    assert table_name_for("test:SpecialChars!in?attributes") == "test_SpecialChars_in_attributes_e2a4831d"
    assert table_name_for("é") == "__954544c2"
    assert table_name_for("1st") == "_1st_50625d7c"
    assert table_name_for("t" * 70) == "t" * 54 + "_87623c3d"


@given(st.text(max_size=80), st.text(max_size=80))
def test_distinct_stream_names_map_to_distinct_short_identifiers(first: str, second: str) -> None:
    for name in (first, second):
        table = table_name_for(name)
        assert len(table.encode()) <= MAX_IDENTIFIER_BYTES
        assert table.isascii()
        assert table.isidentifier()
    if first != second:
        assert table_name_for(first) != table_name_for(second)


def test_streams_whose_names_sanitise_alike_land_in_separate_tables(warehouse: Warehouse) -> None:
    streams = ["a/b", "a.b", "a-b", "a_b", "é", "ü", "t" * 70 + "1", "t" * 70 + "2"]
    lines = [line for i, s in enumerate(streams) for line in load(s, [{"id": 1, "v": i}])]
    run_in_process(warehouse.config, lines)
    run_in_process(warehouse.config, lines)  # a second run finds the same tables again
    tables = {s: table_name_for(s) for s in streams}
    assert len(set(tables.values())) == len(streams)
    assert tables["a_b"] == "a_b"
    assert warehouse.tables() == {*tables.values(), LOADS_TABLE}
    for i, stream in enumerate(streams):
        assert warehouse.rows(tables[stream], "id, v") == [(1, i)]


def test_a_table_holding_another_stream_is_refused(warehouse: Warehouse, tmp_path: Path) -> None:
    run_in_process(warehouse.config, load("items", [{"id": 1}]))
    warehouse.set_comment("items", 'target-looker-stage stream: "other/items"')
    run = run_target(warehouse.config, load("items", [{"id": 2}]), workdir=tmp_path)
    line = error_line(run)
    assert "stream 'items'" in line
    assert "stream 'other/items'" in line
    assert "rename one of the streams" in line
    assert warehouse.rows("items", "id") == [(1,)]
    assert len(staged_files(warehouse.config)) == 1


def test_a_table_without_this_targets_comment_is_claimed_and_loaded(warehouse: Warehouse) -> None:
    """Tables written before the comment existed (or by hand) keep loading; a foreign comment is kept."""
    run_in_process(warehouse.config, load("items", [{"id": 1}]))
    warehouse.set_comment("items", "")
    run_in_process(warehouse.config, load("items", [{"id": 2}]))
    warehouse.set_comment("items", "documented by the analytics team")
    run_in_process(warehouse.config, load("items", [{"id": 3}]))
    assert warehouse.rows("items", "id") == [(1,), (2,), (3,)]


def test_streams_equal_but_for_case_are_refused_in_one_run(warehouse: Warehouse, tmp_path: Path) -> None:
    run = run_target(
        warehouse.config, [*load("Items", [{"id": 1}]), *load("items", [{"id": 2}])], workdir=tmp_path
    )
    line = error_line(run)
    assert "streams 'Items' and 'items' both map to table" in line
    assert not staged_files(warehouse.config)
    assert all(not warehouse.rows(t) for t in warehouse.tables())


def test_duckdb_refuses_a_stream_differing_only_in_case_from_an_earlier_runs(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    run_in_process(warehouse.config, load("Items", [{"id": 1}]))
    run = run_target(warehouse.config, load("items", [{"id": 2}]), workdir=tmp_path)
    if warehouse.kind == "postgres":  # case-sensitive identifiers: a second table
        assert run.returncode == 0, run.stderr
        assert warehouse.rows("items", "id") == [(2,)]
        return
    assert "holds stream 'Items'" in error_line(run)
    assert warehouse.rows("Items", "id") == [(1,)]


# ------------------------------------------------------------------------------------------- columns


def test_a_key_column_over_63_bytes_loads_on_every_run(warehouse: Warehouse) -> None:
    run_in_process(warehouse.config, load("items", [{LONG: 1, "v": 1}], keys=(LONG,)))
    run_in_process(warehouse.config, load("items", [{LONG: 1, "v": 2}, {LONG: 2, "v": 3}], keys=(LONG,)))
    assert warehouse.rows("items", f'"{LONG}", v') == [(1, 2), (2, 3)]


def test_a_column_over_63_bytes_changing_type_incompatibly_is_refused(warehouse: Warehouse) -> None:
    run_in_process(warehouse.config, load("items", [{"id": 1, LONG: True}], kinds={LONG: "boolean"}))
    with pytest.raises(SchemaChangeError, match=f"column '{LONG}' cannot change from"):
        run_in_process(warehouse.config, load("items", [{"id": 2, LONG: 2}], kinds={LONG: "integer"}))


def test_a_column_over_63_bytes_is_widened(warehouse: Warehouse) -> None:
    run_in_process(warehouse.config, load("items", [{"id": 1, LONG: 1}], kinds={LONG: "integer"}))
    run_in_process(warehouse.config, load("items", [{"id": 2, LONG: "two"}], kinds={LONG: "string"}))
    assert [v for (_, v) in warehouse.rows("items", f'id, "{LONG}"')] == ["1", "two"]


# ------------------------------------------------------------------------------- refused on the CLI

SCHEMA_ITEMS = encode(schema_message("items", schema_of("id", "v"), ["id"]))
FIRST_RUN = load("items", [{"id": 1, "v": 1}])


@pytest.mark.parametrize(
    ("first_run", "messages", "expected"),
    [
        pytest.param(
            FIRST_RUN,
            load("items", [{"v": 2}], keys=()),
            "table {table} has primary key (id) but the stream now declares no key properties",
            id="key-properties-removed-across-runs",
        ),
        pytest.param(
            [],
            [*FIRST_RUN[:-1], *load("items", [{"id": 1, "v": 2}], keys=())],
            "table {table} has primary key (id) but the stream now declares no key properties",
            id="key-properties-removed-between-schema-messages",
        ),
        pytest.param(
            FIRST_RUN,
            [
                encode(schema_message("items", schema_of("v"), ["id"])),
                encode(record_message("items", {"id": 2, "v": 2})),
            ],
            "key property 'id' is not in the schema's properties; add it to the schema or fix key_properties",
            id="key-property-missing-from-the-schema",
        ),
        pytest.param(
            [],
            load("items", [{"id": 1, "Id": 2}]),
            "properties 'Id' and 'id' would be one column",
            id="Id-and-id",
        ),
        pytest.param(
            [],
            load("items", [{"id": 1, "": 2}]),
            "a property with an empty name",
            id="empty-property-name",
        ),
        pytest.param(
            [],
            load("items", [{"id": 1, "v": 1}, {"id": None, "v": 2}]),
            "a record's key property 'id' is null",
            id="null-key-value",
        ),
    ],
)
def test_names_no_warehouse_can_hold_are_one_line_and_nothing_is_written(
    warehouse: Warehouse, tmp_path: Path, first_run: list[str], messages: list[str], expected: str
) -> None:
    if first_run:
        run_in_process(warehouse.config, first_run)
    files, rows = staged_files(warehouse.config), {t: warehouse.rows(t) for t in warehouse.tables()}
    run = run_target(warehouse.config, messages, workdir=tmp_path)
    line = error_line(run)
    assert "stream 'items'" in line
    assert expected.format(table=f"{warehouse.schema}.items") in line
    assert run.states == []
    assert staged_files(warehouse.config) == files
    assert {t: warehouse.rows(t) for t in warehouse.tables()} == {
        t: rows.get(t, []) for t in warehouse.tables()
    }


# --------------------------------------------------------------------------------- local stage paths


def test_a_stream_name_too_long_for_a_folder_is_refused_when_its_schema_arrives(
    config: dict[str, Any], tmp_path: Path, database: Path
) -> None:
    stream = "é" * 42  # 42 two-byte characters, percent-encoded: 259 bytes with "stream="
    run = run_target(config, load(stream, [{"id": 1}]), workdir=tmp_path)
    line = error_line(run)
    assert "stage folder name is 259 bytes, over the 255-byte file-name limit" in line
    assert "shorten the stream name" in line
    assert not staged_files(config)
    with duckdb.connect(str(database), read_only=True) as connection:
        assert connection.sql("SHOW ALL TABLES").fetchall() == []


def test_a_realm_id_too_long_for_a_folder_is_refused_before_any_file_of_the_batch(
    config: dict[str, Any], tmp_path: Path, database: Path
) -> None:
    records = [{"id": "1", "realm_id": "9130350000000001"}, {"id": "2", "realm_id": "9" * 300}]
    run = run_target(
        config,
        load("items", records, keys=("realm_id", "id"), kinds=dict.fromkeys(("id", "realm_id"), "string")),
        workdir=tmp_path,
    )
    line = error_line(run)
    assert "stream 'items': a realm_id value makes a stage folder name of 309 bytes" in line
    assert "9" * 100 not in line  # the value itself is not repeated
    assert not staged_files(config)
    with duckdb.connect(str(database), read_only=True) as connection:
        assert connection.sql("SELECT count(*) FROM quickbooks.items").fetchall() == [(0,)]


def test_a_postgresql_table_owned_by_another_role_loads_without_its_comment(
    postgres_server: PostgresServer,
) -> None:
    """COMMENT needs ownership, loading only privileges: a table a DBA created keeps loading, unclaimed."""
    schema = f"owned_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server.admin_conninfo, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}" AUTHORIZATION {postgres_server.user}'.encode())
        admin.execute(
            f'CREATE TABLE "{schema}".items (id bigint PRIMARY KEY, v bigint, '
            "_sdc_deleted_at timestamptz, _sdc_sync_version bigint)".encode()
        )
        admin.execute(f'GRANT ALL ON "{schema}".items TO {postgres_server.user}'.encode())
    config = {"stage_uri": "", "warehouse_uri": postgres_server.uri, "default_target_schema": schema}
    run_in_process(config, load("items", [{"id": 1, "v": 1}]))
    run_in_process(config, load("items", [{"id": 1, "v": 2}]))
    with psycopg.connect(postgres_server.uri) as conn:
        assert conn.execute(f'SELECT id, v FROM "{schema}".items'.encode()).fetchall() == [(1, 2)]
        comment = conn.execute(f"SELECT obj_description('\"{schema}\".items'::regclass)".encode()).fetchone()
    assert comment == (None,)


def test_a_target_schema_over_63_bytes_is_refused(config: dict[str, Any], tmp_path: Path) -> None:
    """PostgreSQL would cut the name and then never find the table again to evolve it."""
    config = {**config, "default_target_schema": "s" * 64}
    line = error_line(run_target(config, load("items", [{"id": 1}]), workdir=tmp_path))
    assert "default_target_schema 'ssss" in line
    assert "is 64 bytes, over the 63 bytes PostgreSQL keeps of a name" in line
    assert not staged_files(config)
