"""Through the target into PostgreSQL: upsert by key ordered by SyncToken, soft and hard deletes, append."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg.types.json import set_json_loads

from target_looker_stage.table_spec import DELETE_VERSION
from tests.services import PostgresServer
from tests.target.singer_streams import (
    INVOICE_KEYS,
    INVOICE_SCHEMA,
    delete_stub,
    encode,
    invoice,
    record_message,
    run_in_process,
    schema_message,
    state_message,
)


@pytest.fixture
def pg_config(postgres_server: PostgresServer) -> dict[str, Any]:
    schema = f"ups_{uuid.uuid4().hex[:8]}"
    return {"stage_uri": "", "warehouse_uri": postgres_server.uri, "default_target_schema": schema}


def load(config: dict[str, Any], *records: dict[str, Any]) -> None:
    lines = [encode(schema_message("invoices", INVOICE_SCHEMA, INVOICE_KEYS))]
    lines += [encode(record_message("invoices", r)) for r in records]
    lines.append(encode(state_message({"position": 1})))
    assert run_in_process(config, lines) == [{"position": 1}]


def rows(server: PostgresServer, config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    table = f'"{config["default_target_schema"]}".invoices'
    with psycopg.connect(server.uri) as conn:
        set_json_loads(lambda text: json.loads(text, parse_float=Decimal), conn)  # exact JSON numbers
        cursor = conn.execute(f'SELECT * FROM {table} ORDER BY "Id"'.encode())
        names = [d.name for d in cursor.description or ()]
        return {row[names.index("Id")]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def test_the_newest_sync_token_wins_in_any_arrival_order(
    postgres_server: PostgresServer, pg_config: dict[str, Any]
) -> None:
    load(pg_config, invoice(1, 5, total="50.00"))
    load(pg_config, invoice(1, 3, total="30.00"))  # late, older
    assert rows(postgres_server, pg_config)["1"]["TotalAmt"] == Decimal("50.00")
    load(pg_config, invoice(1, 6, total="60.00"), invoice(1, 4, total="40.00"))  # one batch, newest first
    row = rows(postgres_server, pg_config)["1"]
    assert (row["TotalAmt"], row["_sdc_sync_version"], row["SyncToken"]) == (Decimal("60.00"), 6, "6")


def test_a_soft_delete_keeps_the_last_values(
    postgres_server: PostgresServer, pg_config: dict[str, Any]
) -> None:
    load(pg_config, invoice(1, 3, total="30.00"), invoice(2, 0))
    load(pg_config, delete_stub(1), delete_stub(99))
    load(pg_config, invoice(1, 9, total="90.00"))  # never resurrects
    stored = rows(postgres_server, pg_config)
    assert (stored["1"]["TotalAmt"], stored["1"]["DocNumber"], stored["1"]["Line"][0]["Amount"]) == (
        Decimal("30.00"),
        "INV-1",
        Decimal("30.00"),
    )
    assert stored["1"]["_sdc_deleted_at"] is not None
    assert stored["1"]["_sdc_sync_version"] == DELETE_VERSION
    assert stored["2"]["_sdc_deleted_at"] is None
    assert stored["99"]["TotalAmt"] is None  # a delete of an unknown Id is kept as a deleted row
    assert stored["99"]["_sdc_deleted_at"] is not None


def test_a_hard_delete_removes_the_row(postgres_server: PostgresServer, pg_config: dict[str, Any]) -> None:
    config = pg_config | {"hard_delete": True}
    load(config, invoice(1, 0), invoice(2, 0))
    load(config, delete_stub(1), delete_stub(99))
    assert list(rows(postgres_server, config)) == ["2"]


def test_append_keeps_every_record(postgres_server: PostgresServer, pg_config: dict[str, Any]) -> None:
    config = pg_config | {"load_method": "append"}
    load(config, invoice(1, 0), invoice(1, 1))
    load(config, invoice(1, 0))
    table = f'"{config["default_target_schema"]}".invoices'
    with psycopg.connect(postgres_server.uri) as conn:
        versions = conn.execute(f"SELECT _sdc_sync_version FROM {table} ORDER BY 1".encode()).fetchall()
    assert versions == [(0,), (0,), (1,)]
