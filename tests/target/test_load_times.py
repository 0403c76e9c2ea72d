"""`_sdc_loads`: when each stream was last loaded, written after a successful run's data and STATE, on
DuckDB and PostgreSQL alike (dbt's source freshness reads it: tests/transform)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from tests.target.singer_streams import encode, record_message, run_target, schema_message, state_message
from tests.target.warehouses import Warehouse

SCHEMA = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": ["null", "string"]}}}


def run(stream_records: dict[str, list[dict[str, Any]]]) -> list[str]:
    """A tap's run: SCHEMA for every stream (also those without records), their records, one STATE."""
    lines = [encode(schema_message(stream, SCHEMA, ["id"])) for stream in stream_records]
    lines += [encode(record_message(s, r)) for s, records in stream_records.items() for r in records]
    return [*lines, encode(state_message({"runs": 1}))]


def loads(warehouse: Warehouse) -> dict[str, tuple[str, dt.datetime, int]]:
    rows = warehouse.query(
        f'SELECT stream_name, table_name, loaded_at, rows_loaded FROM "{warehouse.schema}"._sdc_loads'
    )
    return {str(stream): (str(table), loaded_at, int(count)) for stream, table, loaded_at, count in rows}


def test_a_run_records_each_streams_load_also_without_records(warehouse: Warehouse, tmp_path: Path) -> None:
    before = dt.datetime.now(dt.UTC)
    done = run_target(
        warehouse.config, run({"invoices": [{"id": 1}, {"id": 2}], "a/b": [], "terms": []}), workdir=tmp_path
    )
    assert done.returncode == 0, done.stderr
    found = loads(warehouse)
    assert {s: (table, rows) for s, (table, _, rows) in found.items()} == {
        "invoices": ("invoices", 2),
        "a/b": ("a_b_82badf67", 0),
        "terms": ("terms", 0),
    }
    assert all(before <= loaded_at <= dt.datetime.now(dt.UTC) for _, loaded_at, _ in found.values())


def test_an_idle_run_advances_the_load_time(warehouse: Warehouse, tmp_path: Path) -> None:
    assert run_target(warehouse.config, run({"invoices": [{"id": 1}]}), workdir=tmp_path).returncode == 0
    first = loads(warehouse)["invoices"]
    assert run_target(warehouse.config, run({"invoices": []}), workdir=tmp_path).returncode == 0
    second = loads(warehouse)["invoices"]
    assert second[1] > first[1]
    assert (first[2], second[2]) == (1, 0)


def test_a_failed_run_records_no_load(warehouse: Warehouse, tmp_path: Path) -> None:
    assert run_target(warehouse.config, run({"invoices": [{"id": 1}]}), workdir=tmp_path).returncode == 0
    first = loads(warehouse)
    bad = run({"invoices": [{"id": 2}], "terms": [{"id": 1}]})
    bad.insert(-1, encode(record_message("terms", {"id": 2, "name": 5})))  # violates the schema
    failed = run_target(warehouse.config, bad, workdir=tmp_path)
    assert failed.returncode == 1, failed.stderr
    assert loads(warehouse) == first


def test_a_run_whose_warehouse_write_fails_records_no_load(warehouse: Warehouse, tmp_path: Path) -> None:
    """The records pass the target's checks but the warehouse refuses their transaction (a NOT NULL put on
    the table behind the target's back), so nothing of the run is committed: neither the failed stream nor
    the idle one in the same run gets a newer load time."""
    assert (
        run_target(
            warehouse.config, run({"invoices": [{"id": 1, "name": "a"}], "terms": []}), workdir=tmp_path
        ).returncode
        == 0
    )
    first = loads(warehouse)
    warehouse.query(f'ALTER TABLE "{warehouse.schema}".invoices ALTER COLUMN name SET NOT NULL')
    failed = run_target(warehouse.config, run({"invoices": [{"id": 2}], "terms": []}), workdir=tmp_path)
    assert failed.returncode == 1, failed.stderr
    assert "Traceback" not in failed.stderr
    assert "null" in failed.stderr.lower(), failed.stderr
    assert warehouse.rows("invoices", "id") == [(1,)]
    assert loads(warehouse) == first


def test_a_stream_named_like_the_load_table_is_refused(warehouse: Warehouse, tmp_path: Path) -> None:
    done = run_target(warehouse.config, run({"_SDC_loads": [{"id": 1}]}), workdir=tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "the table where this target records load times; rename the stream" in done.stderr
