"""PostgresWarehouse against a real PostgreSQL server: schema evolution, version-guarded upserts, deletes,
exact money, jsonb, and secret-free one-line errors."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pyarrow as pa
import pytest

from target_looker_stage.arrow_batch import ARROW_TYPES
from target_looker_stage.errors import SchemaChangeError, WarehouseError
from target_looker_stage.settings import TargetSettings
from target_looker_stage.table_spec import (
    DELETE_VERSION,
    DELETED_AT_COLUMN,
    SYNC_VERSION_COLUMN,
    ColumnSpec,
    TableSpec,
)
from target_looker_stage.warehouse.postgres import PostgresWarehouse
from tests.services import PostgresServer

INVOICE_COLUMNS = (
    ColumnSpec("id", "string", nullable=False),
    ColumnSpec("doc_number", "string"),
    ColumnSpec("total_amt", "decimal"),
    ColumnSpec("line", "json"),
    ColumnSpec("txn_date", "date"),
    ColumnSpec(SYNC_VERSION_COLUMN, "integer"),
    ColumnSpec(DELETED_AT_COLUMN, "timestamp"),
)
DELETED_AT = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


def spec_of(schema: str, columns: tuple[ColumnSpec, ...] = INVOICE_COLUMNS, **kw: Any) -> TableSpec:
    kw.setdefault("key_properties", ("id",))
    return TableSpec(
        schema_name=schema, name=kw.pop("name", "invoices"), columns=columns, stream_name="Invoice", **kw
    )


def batch(spec: TableSpec, rows: list[dict[str, Any]]) -> pa.Table:
    schema = pa.schema([pa.field(c.name, ARROW_TYPES[c.kind]) for c in spec.columns])
    return pa.Table.from_pylist(rows, schema=schema)


def invoice(
    id_: str, version: int | None, doc: str = "", total: str = "1.00", **extra: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": id_,
        "doc_number": doc,
        "total_amt": Decimal(total),
        "line": json.dumps([{"Amount": total}]),
        "txn_date": dt.date(2024, 1, 2),
        SYNC_VERSION_COLUMN: version,
        DELETED_AT_COLUMN: None,
    }
    return row | extra


def stub(id_: str) -> dict[str, Any]:
    return {"id": id_, SYNC_VERSION_COLUMN: DELETE_VERSION, DELETED_AT_COLUMN: DELETED_AT}


@pytest.fixture
def schema() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def warehouse(postgres_server: PostgresServer) -> Iterator[PostgresWarehouse]:
    wh = PostgresWarehouse(postgres_server.uri, TargetSettings.from_config({}))
    yield wh
    wh.close()


@pytest.fixture
def query(postgres_server: PostgresServer) -> Iterator[Any]:
    with psycopg.connect(postgres_server.uri, autocommit=True) as conn:
        conn.execute("SET TIME ZONE 'UTC'")

        def run(statement: str, *params: Any) -> list[tuple[Any, ...]]:
            return conn.execute(statement.encode(), params or None).fetchall()

        yield run


def load(wh: PostgresWarehouse, spec: TableSpec, rows: list[dict[str, Any]]) -> int:
    wh.ensure_table(spec)
    return wh.merge(spec, batch(spec, rows))


def test_ensure_table_creates_typed_columns_and_the_primary_key(
    warehouse: PostgresWarehouse, schema: str, query: Any
) -> None:
    columns = (*INVOICE_COLUMNS, ColumnSpec("paid", "boolean"), ColumnSpec("updated", "timestamp"))
    warehouse.ensure_table(spec_of(schema, columns))
    types = query(
        "SELECT column_name, data_type, numeric_precision, numeric_scale FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = 'invoices' ORDER BY ordinal_position",
        schema,
    )
    assert types == [
        ("id", "text", None, None),
        ("doc_number", "text", None, None),
        ("total_amt", "numeric", 38, 9),
        ("line", "jsonb", None, None),
        ("txn_date", "date", None, None),
        (SYNC_VERSION_COLUMN, "bigint", 64, 0),
        (DELETED_AT_COLUMN, "timestamp with time zone", None, None),
        ("paid", "boolean", None, None),
        ("updated", "timestamp with time zone", None, None),
    ]
    pk = query(
        "SELECT kcu.column_name FROM information_schema.table_constraints tc JOIN "
        "information_schema.key_column_usage kcu USING (constraint_schema, constraint_name) "
        "WHERE tc.table_schema = %s AND tc.constraint_type = 'PRIMARY KEY'",
        schema,
    )
    assert pk == [("id",)]


def test_an_older_sync_token_never_overwrites_a_newer_row(
    warehouse: PostgresWarehouse, schema: str, query: Any
) -> None:
    spec = spec_of(schema)
    load(warehouse, spec, [invoice("1", 5, "v5"), invoice("2", None, "unversioned")])
    load(warehouse, spec, [invoice("1", 3, "v3"), invoice("2", 1, "v1")])  # 1: older loses; 2: NULL loses
    assert query(
        "SELECT id, doc_number, _sdc_sync_version FROM {}.invoices ORDER BY id".replace("{}", schema)
    ) == [
        ("1", "v5", 5),
        ("2", "v1", 1),
    ]
    load(warehouse, spec, [invoice("1", 5, "v5-again"), invoice("2", None, "null-loses")])  # equal wins
    load(warehouse, spec, [invoice("1", 7, "v7")])
    assert query(f"SELECT id, doc_number, _sdc_sync_version FROM {schema}.invoices ORDER BY id") == [
        ("1", "v7", 7),
        ("2", "v1", 1),
    ]


def test_the_same_keys_across_batches_end_as_one_row_each(
    warehouse: PostgresWarehouse, schema: str, query: Any
) -> None:
    spec = spec_of(schema)
    for version in range(1, 4):
        written = load(warehouse, spec, [invoice(str(i), version, f"v{version}") for i in range(100)])
        assert written == 100
    assert query(
        f"SELECT count(*), count(DISTINCT id), min(doc_number), max(doc_number) FROM {schema}.invoices"
    ) == [(100, 100, "v3", "v3")]


def test_a_soft_delete_marks_the_row_and_keeps_its_data(
    warehouse: PostgresWarehouse, schema: str, query: Any
) -> None:
    spec = spec_of(schema)
    load(warehouse, spec, [invoice("1", 4, "INV-1", "12.50")])
    load(warehouse, spec, [stub("1"), stub("2")])  # 2 was never seen: its stub is inserted as is
    load(warehouse, spec, [invoice("1", 9, "resurrected?")])  # an update older than the delete loses
    rows = query(
        f"SELECT id, doc_number, total_amt, line, _sdc_sync_version, _sdc_deleted_at "
        f"FROM {schema}.invoices ORDER BY id"
    )
    assert rows == [
        ("1", "INV-1", Decimal("12.50"), [{"Amount": "12.50"}], DELETE_VERSION, DELETED_AT),
        ("2", None, None, None, DELETE_VERSION, DELETED_AT),
    ]


def test_a_hard_delete_removes_the_key(warehouse: PostgresWarehouse, schema: str, query: Any) -> None:
    spec = spec_of(schema, hard_delete=True)
    load(warehouse, spec, [invoice("1", 1), invoice("2", 1)])
    written = load(warehouse, spec, [stub("1"), stub("3"), invoice("2", 2, "kept")])
    assert written == 2  # one delete, one update; the stub of the unknown key 3 writes nothing
    assert query(f"SELECT id, doc_number FROM {schema}.invoices") == [("2", "kept")]


def test_append_inserts_every_row(warehouse: PostgresWarehouse, schema: str, query: Any) -> None:
    spec = spec_of(schema, load_method="append")
    load(warehouse, spec, [invoice("1", 1), invoice("1", 2)])
    load(warehouse, spec, [invoice("1", 1)])
    assert query(f"SELECT _sdc_sync_version FROM {schema}.invoices ORDER BY 1") == [(1,), (1,), (2,)]


def test_a_new_column_is_added_and_older_rows_read_null(
    warehouse: PostgresWarehouse, schema: str, query: Any
) -> None:
    load(warehouse, spec_of(schema), [invoice("1", 1)])
    wider = spec_of(schema, (*INVOICE_COLUMNS, ColumnSpec("private_note", "string")))
    load(warehouse, wider, [invoice("2", 1, private_note="hello")])
    assert query(f"SELECT id, private_note FROM {schema}.invoices ORDER BY id") == [
        ("1", None),
        ("2", "hello"),
    ]


def test_columns_widen_in_place_and_keep_their_values(
    warehouse: PostgresWarehouse, schema: str, query: Any
) -> None:
    before = (ColumnSpec("id", "string"), ColumnSpec("qty", "integer"), ColumnSpec("amt", "decimal"),
              ColumnSpec("day", "date"), ColumnSpec("flag", "boolean"))  # fmt: skip
    after = (ColumnSpec("id", "string"), ColumnSpec("qty", "decimal"), ColumnSpec("amt", "string"),
             ColumnSpec("day", "timestamp"), ColumnSpec("flag", "string"))  # fmt: skip
    row = {"id": "1", "qty": 3, "amt": Decimal("12.30"), "day": dt.date(2024, 2, 29), "flag": True}
    load(warehouse, spec_of(schema, before), [row])
    load(
        warehouse, spec_of(schema, after), [{"id": "2", "qty": Decimal("0.5"), "amt": "n/a", "flag": "maybe"}]
    )
    assert query(f"SELECT id, qty, amt, day, flag FROM {schema}.invoices ORDER BY id") == [
        ("1", Decimal("3"), "12.3", dt.datetime(2024, 2, 29, tzinfo=dt.UTC), "true"),
        ("2", Decimal("0.5"), "n/a", None, "maybe"),
    ]


def test_a_narrower_incoming_type_is_stored_in_the_wider_column(
    warehouse: PostgresWarehouse, schema: str, query: Any
) -> None:
    load(
        warehouse,
        spec_of(schema, (ColumnSpec("id", "string"), ColumnSpec("qty", "decimal"))),
        [{"id": "1", "qty": Decimal("1.5")}],
    )
    load(
        warehouse,
        spec_of(schema, (ColumnSpec("id", "string"), ColumnSpec("qty", "integer"))),
        [{"id": "2", "qty": 7}],
    )
    assert query(f"SELECT id, qty::text FROM {schema}.invoices ORDER BY id") == [
        ("1", "1.500000000"),
        ("2", "7.000000000"),
    ]


def test_an_incompatible_type_change_names_stream_column_and_both_types(
    warehouse: PostgresWarehouse, schema: str
) -> None:
    load(warehouse, spec_of(schema), [invoice("1", 1)])
    changed = tuple(ColumnSpec(c.name, "boolean") if c.name == "total_amt" else c for c in INVOICE_COLUMNS)
    with pytest.raises(SchemaChangeError) as raised:
        warehouse.ensure_table(spec_of(schema, changed))
    message = str(raised.value)
    assert "\n" not in message
    assert (
        f"stream 'Invoice': column 'total_amt' cannot change from numeric(38,9) to boolean in {schema}"
        in message
    )


def test_money_round_trips_exactly(warehouse: PostgresWarehouse, schema: str, query: Any) -> None:
    amounts = ["12345678901.23", "0.10", "-0.01", "99999999999999999999999999999.999999999", "0.000000001"]
    spec = spec_of(schema)
    load(warehouse, spec, [invoice(str(i), 1, total=a) for i, a in enumerate(amounts)])
    stored = query(f"SELECT total_amt FROM {schema}.invoices ORDER BY id")
    assert [r[0] for r in stored] == [Decimal(a) for a in amounts]
    load(warehouse, spec, [invoice(f"dime-{i}", 1, total="0.10") for i in range(10)])
    assert query(f"SELECT sum(total_amt)::text FROM {schema}.invoices WHERE id LIKE 'dime-%%'") == [
        ("1.000000000",)
    ]


def test_json_columns_are_queryable_jsonb(warehouse: PostgresWarehouse, schema: str, query: Any) -> None:
    lines = '[{"Amount": 12345678901.23, "Description": "a, \\"quoted\\"\\nline"}, {"Amount": 0.10}]'
    load(warehouse, spec_of(schema), [invoice("1", 1, line=lines)])
    assert query(
        f"SELECT jsonb_typeof(line), jsonb_array_length(line), (line->0->>'Amount')::numeric, "
        f"line->0->>'Description', (line->1->'Amount')::numeric FROM {schema}.invoices"
    ) == [("array", 2, Decimal("12345678901.23"), 'a, "quoted"\nline', Decimal("0.10"))]


def test_a_failed_batch_leaves_the_table_untouched(
    warehouse: PostgresWarehouse, schema: str, query: Any
) -> None:
    spec = spec_of(schema)
    load(warehouse, spec, [invoice("1", 1, "before")])
    with pytest.raises(WarehouseError) as raised:
        load(warehouse, spec, [invoice("1", 2, "after"), invoice("2", 1, line="{not json")])
    assert "\n" not in str(raised.value)
    assert "invalid input syntax for type json" in str(raised.value)
    assert query(f"SELECT id, doc_number FROM {schema}.invoices") == [("1", "before")]
    load(warehouse, spec, [invoice("1", 2, "after")])  # the warehouse is usable again
    assert query(f"SELECT id, doc_number FROM {schema}.invoices") == [("1", "after")]


def test_identifiers_are_quoted_not_folded(warehouse: PostgresWarehouse, schema: str, query: Any) -> None:
    spec = spec_of(
        schema,
        (ColumnSpec("Id", "string"), ColumnSpec("select", "string")),
        name="SalesReceipt",
        key_properties=("Id",),
    )
    load(warehouse, spec, [{"Id": "1", "select": "x"}])
    assert query(f'SELECT "Id", "select" FROM {schema}."SalesReceipt"') == [("1", "x")]


@pytest.mark.slow
def test_upserts_at_least_25k_rows_per_second(warehouse: PostgresWarehouse, schema: str, query: Any) -> None:
    spec = spec_of(schema)
    rows = [invoice(str(i), 1, f"INV-{i}", f"{i}.{i % 100:02d}") for i in range(50_000)]
    first, second = batch(spec, rows), batch(spec, [r | {SYNC_VERSION_COLUMN: 2} for r in rows])
    warehouse.ensure_table(spec)
    started = time.perf_counter()
    assert warehouse.merge(spec, first) == 50_000  # inserts
    assert warehouse.merge(spec, second) == 50_000  # updates of every key
    rate = 100_000 / (time.perf_counter() - started)
    assert rate >= 25_000, f"{rate:.0f} rows/s"
    assert query(f"SELECT count(*), sum(total_amt) FROM {schema}.invoices WHERE _sdc_sync_version = 2") == [
        (50_000, sum(Decimal(f"{i}.{i % 100:02d}") for i in range(50_000)))
    ]


def test_nul_characters_become_replacement_characters(
    warehouse: PostgresWarehouse, schema: str, query: Any
) -> None:
    """PostgreSQL text/jsonb cannot store U+0000; the row still loads, with U+FFFD in its place."""
    escaped_backslash = json.dumps([{"Description": "C:\\u0000dir"}])  # a backslash, then the text u0000
    load(
        warehouse,
        spec_of(schema),
        [
            invoice("1", 1, "a\x00b", line=json.dumps([{"Description": "x\x00y"}])),
            invoice("2", 1, line=escaped_backslash),
        ],
    )
    assert query(f"SELECT doc_number, line->0->>'Description' FROM {schema}.invoices ORDER BY id") == [
        ("a\ufffdb", "x\ufffdy"),
        ("", "C:\\u0000dir"),
    ]


def test_a_session_the_server_dropped_is_replaced_before_the_next_batch(
    warehouse: PostgresWarehouse, schema: str, query: Any, postgres_server: PostgresServer
) -> None:
    warehouse.ping_after_idle_s = 0  # as if the tap had paged for a long time between two batches
    spec = spec_of(schema)
    load(warehouse, spec, [invoice("1", 1)])
    with psycopg.connect(postgres_server.admin_conninfo, autocommit=True) as admin:
        dropped = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
            ("target-looker-stage",),
        ).fetchone()
    assert dropped is not None
    assert dropped[0] == 1
    load(warehouse, spec, [invoice("2", 1)])
    assert query(f"SELECT id FROM {schema}.invoices ORDER BY id") == [("1",), ("2",)]


def test_a_changed_primary_key_is_a_schema_change(warehouse: PostgresWarehouse, schema: str) -> None:
    load(warehouse, spec_of(schema), [invoice("1", 1)])
    with pytest.raises(
        SchemaChangeError, match=r"has primary key \(id\) but the stream now declares \(id, doc_number\)"
    ):
        warehouse.ensure_table(spec_of(schema, key_properties=("id", "doc_number")))


def test_an_upsert_into_a_table_without_primary_key_adds_it(
    warehouse: PostgresWarehouse, schema: str, query: Any
) -> None:
    load(warehouse, spec_of(schema, load_method="append"), [invoice("1", 1, "first")])
    load(warehouse, spec_of(schema), [invoice("1", 2, "second")])
    assert query(f"SELECT id, doc_number FROM {schema}.invoices") == [("1", "second")]
