"""Upsert by primary key, ordered by SyncToken, on DuckDB and PostgreSQL alike: the newest version wins
whatever order batches arrive in; soft and hard deletes; append keeps every record."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from target_looker_stage.table_spec import DELETE_VERSION
from tests.target.singer_streams import (
    INVOICE_KEYS,
    INVOICE_SCHEMA,
    delete_stub,
    encode,
    invoice,
    record_message,
    run_in_process,
    schema_message,
    staged_rows,
    state_message,
)
from tests.target.warehouses import Warehouse


def load(config: dict[str, Any], *records: dict[str, Any]) -> None:
    lines = [encode(schema_message("invoices", INVOICE_SCHEMA, INVOICE_KEYS))]
    lines += [encode(record_message("invoices", r)) for r in records]
    lines.append(encode(state_message({"position": 1})))
    assert run_in_process(config, lines)[-1] == {"position": 1}  # the run's STATE, once its rows are in


def by_id(warehouse: Warehouse) -> dict[str, dict[str, Any]]:
    return {row["Id"]: row for row in warehouse.records("invoices", '"realm_id", "Id"')}


def test_the_newest_sync_token_wins_in_any_arrival_order(warehouse: Warehouse) -> None:
    load(warehouse.config, invoice(1, 5, total="50.00"))
    load(warehouse.config, invoice(1, 3, total="30.00"))  # late, older version
    assert (by_id(warehouse)["1"]["TotalAmt"], by_id(warehouse)["1"]["_sdc_sync_version"]) == (
        Decimal("50.00"),
        5,
    )
    load(warehouse.config, invoice(1, 6, total="60.00"))
    assert by_id(warehouse)["1"]["TotalAmt"] == Decimal("60.00")
    load(
        warehouse.config, invoice(1, 8, total="80.00"), invoice(1, 7, total="70.00")
    )  # one batch, newest first
    row = by_id(warehouse)["1"]
    assert (row["TotalAmt"], row["_sdc_sync_version"], row["SyncToken"]) == (Decimal("80.00"), 8, "8")


def test_batch_duplicates_collapse_to_newest(warehouse: Warehouse, stage: Path) -> None:
    load(
        warehouse.config,
        invoice(1, 2, total="20.00"),
        invoice(1, 4, total="40.00"),
        invoice(1, 3, total="30.00"),  # older than 4, arrives later: ignored
        invoice(2, 1, total="1.00"),
        invoice(2, 1, total="1.50"),  # tie: the later record wins
    )
    rows = by_id(warehouse)
    assert (rows["1"]["TotalAmt"], rows["2"]["TotalAmt"]) == (Decimal("40.00"), Decimal("1.50"))
    assert len(staged_rows(stage, "invoices")) == 2


def test_duplicates_across_batches_keep_one_row_per_key(warehouse: Warehouse) -> None:
    config = {**warehouse.config, "batch_size_rows": 2}
    load(config, invoice(1, 1), invoice(2, 1), invoice(1, 2, total="9.99"), invoice(2, 0), invoice(3, 0))
    rows = warehouse.records("invoices", '"realm_id", "Id"')
    assert [(r["Id"], r["_sdc_sync_version"]) for r in rows] == [("1", 2), ("2", 1), ("3", 0)]
    assert by_id(warehouse)["1"]["TotalAmt"] == Decimal("9.99")


def test_a_soft_delete_keeps_the_last_values_and_nothing_resurrects(warehouse: Warehouse) -> None:
    load(warehouse.config, invoice(1, 3, total="30.00"), invoice(2, 0))
    load(warehouse.config, delete_stub(1))
    row = by_id(warehouse)["1"]
    assert row["_sdc_deleted_at"] is not None
    assert row["_sdc_sync_version"] == DELETE_VERSION
    assert (row["TotalAmt"], row["DocNumber"], row["SyncToken"]) == (Decimal("30.00"), "INV-1", "3")
    assert row["Line"][0]["Amount"] == Decimal("30.00")  # JSON kept too, with its exact number
    load(warehouse.config, invoice(1, 9, total="90.00"))  # a late update never brings a deleted Id back
    assert by_id(warehouse)["1"]["_sdc_deleted_at"] is not None
    assert by_id(warehouse)["1"]["TotalAmt"] == Decimal("30.00")
    assert by_id(warehouse)["2"]["_sdc_deleted_at"] is None


def test_a_delete_in_the_insert_batch_keeps_the_values(warehouse: Warehouse) -> None:
    load(warehouse.config, invoice(7, 2, total="7.00"), delete_stub(7))
    row = by_id(warehouse)["7"]
    assert row["_sdc_deleted_at"] is not None
    assert row["TotalAmt"] == Decimal("7.00")


def test_a_delete_of_an_unknown_id_is_kept_as_a_deleted_row(warehouse: Warehouse) -> None:
    load(warehouse.config, delete_stub(99))
    row = by_id(warehouse)["99"]
    assert row["_sdc_deleted_at"] is not None
    assert row["TotalAmt"] is None


def test_a_hard_delete_removes_the_row(warehouse: Warehouse, stage: Path) -> None:
    config = {**warehouse.config, "hard_delete": True}
    load(config, invoice(1, 0), invoice(2, 0))
    load(config, delete_stub(1), delete_stub(99))  # 99 was never loaded: nothing to remove, nothing kept
    assert list(by_id(warehouse)) == ["2"]
    staged = staged_rows(stage, "invoices")
    assert any(r["Id"] == "1" and r["_sdc_deleted_at"] is not None for r in staged)


def test_append_keeps_every_record(warehouse: Warehouse) -> None:
    config = {**warehouse.config, "load_method": "append"}
    load(config, invoice(1, 0), invoice(1, 1), invoice(1, 0))
    load(config, invoice(1, 0))  # and across runs
    rows = warehouse.records("invoices", '"_sdc_sync_version"')
    assert [r["_sdc_sync_version"] for r in rows] == [0, 0, 0, 1]


def test_deleted_at_is_kept_without_record_metadata(warehouse: Warehouse) -> None:
    load({**warehouse.config, "add_record_metadata": False}, delete_stub(5))
    row = by_id(warehouse)["5"]
    assert row["_sdc_deleted_at"] is not None
    assert not {c for c in row if c.startswith("_sdc_")} - {"_sdc_deleted_at", "_sdc_sync_version"}


def test_record_metadata_columns_when_enabled(warehouse: Warehouse) -> None:
    load({**warehouse.config, "add_record_metadata": True}, invoice(1, 0))
    row = by_id(warehouse)["1"]
    assert {"_sdc_extracted_at", "_sdc_received_at", "_sdc_batched_at", "_sdc_sequence"} <= set(row)
    assert row["_sdc_received_at"] is not None
