"""Money is exact: JSON number -> Decimal -> decimal128(38, 9) in Parquet, DECIMAL(38, 9) in DuckDB."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.target.singer_streams import (
    INVOICE_KEYS,
    INVOICE_SCHEMA,
    encode,
    invoice,
    record_message,
    run_in_process,
    run_target,
    schema_message,
    staged_rows,
    state_message,
    warehouse_rows,
)

AMOUNTS = ["0.1", "0.2", "0.3", "12345678901.23", "-0.01", "99999999999999999999.999999999", "0.000000001"]


def messages(*records: dict[str, Any]) -> list[str]:
    lines = [encode(schema_message("invoices", INVOICE_SCHEMA, INVOICE_KEYS))]
    lines += [encode(record_message("invoices", r)) for r in records]
    return [*lines, encode(state_message({"position": len(records)}))]


def test_amounts_round_trip_exactly_to_duckdb_and_parquet(
    config: dict[str, Any], database: Path, stage: Path
) -> None:
    records = [invoice(i, 0, total=amount) for i, amount in enumerate(AMOUNTS)]
    run_in_process(config, messages(*records))

    stored = {r["Id"]: r["TotalAmt"] for r in warehouse_rows(database, "quickbooks.invoices")}
    assert [stored[str(i)] for i in range(len(AMOUNTS))] == [Decimal(a) for a in AMOUNTS]
    staged = {r["Id"]: r["TotalAmt"] for r in staged_rows(stage, "invoices")}
    assert [staged[str(i)] for i in range(len(AMOUNTS))] == [Decimal(a) for a in AMOUNTS]


def test_sums_are_exact_in_the_warehouse(config: dict[str, Any], database: Path) -> None:
    run_in_process(config, messages(invoice(1, 0, total="0.1"), invoice(2, 0, total="0.2")))
    import duckdb

    with duckdb.connect(str(database), read_only=True) as connection:
        total = connection.execute(
            'SELECT sum("TotalAmt") = 0.3, sum("TotalAmt") FROM quickbooks.invoices'
        ).fetchone()
    assert total == (True, Decimal("0.300000000"))


def test_parquet_column_types(config: dict[str, Any], stage: Path) -> None:
    import pyarrow.parquet as pq

    run_in_process(config, messages(invoice(1, 0, total="12345678901.23")))
    (path,) = (stage / "stream=invoices").rglob("*.parquet")
    schema = pq.read_schema(path)
    assert schema.field("TotalAmt").type == pa.decimal128(38, 9)
    assert schema.field("last_updated_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("TxnDate").type == pa.date32()
    assert schema.field("_sdc_sync_version").type == pa.int64()


def test_nested_amounts_stay_exact_in_json_columns(
    config: dict[str, Any], database: Path, stage: Path
) -> None:
    run_in_process(config, messages(invoice(1, 0, total="0.30")))
    (row,) = warehouse_rows(database, "quickbooks.invoices")
    assert json.loads(row["Line"], parse_float=Decimal)[0]["Amount"] == Decimal("0.30")
    assert '"Amount":0.30' in staged_rows(stage, "invoices")[0]["Line"]


@pytest.mark.parametrize("amount", ["0.1234567891", "1e40"])
def test_values_that_would_need_rounding_are_refused(
    config: dict[str, Any], tmp_path: Path, database: Path, stage: Path, amount: str
) -> None:
    lines = messages(invoice(1, 0, total="1.00"), invoice(2, 0, total=Decimal(amount)))
    run = run_target(config, lines, workdir=tmp_path)
    assert run.returncode == 1
    (error,) = run.stderr.strip().splitlines()[-1:]
    assert "column 'TotalAmt'" in error
    assert "refusing to round" in error
    assert run.states == []
    assert not list(stage.rglob("*.parquet"))
