"""The finance marts tie out to the cent with the simulator's ground truth, on DuckDB and on PostgreSQL.

Two simulated companies of several thousand documents go through the main job's path (tap -> target ->
warehouse -> `dbt build`, every dbt data test included); the general ledger, P&L by month, the balance sheet
at every month end, A/R and A/P aging at two dates and the bank balances are compared with
``tests.fakes.qbo.ground_truth.Books`` (Python, written apart from the models). Then a bookkeeper changes
things (a new invoice, a payment applied to an old invoice, a deleted bill, a voided payment), the CDC run
loads them, dbt builds again, and everything must still tie out. The same Singer messages load both
adapters, so both answer for the same books.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.qbo import QboSimulator, SimConfig
from tests.fakes.qbo.ground_truth import Books
from tests.transform.pipeline import Warehouse, fresh_database, sync
from tests.transform.tie_out import (
    Marts,
    aging_differences,
    balance_sheet_differences,
    cash_days,
    cash_differences,
    ledger_differences,
    profit_and_loss_differences,
    read_marts,
)

RECORDS_PER_COMPANY = 4_000
TODAY = date.today()
#: The second aging date: a past day, so payments made after it must not count.
PAST = TODAY - timedelta(days=200)
PHASES = ("backfill", "after_changes")


@dataclass
class Companies:
    """The simulated books before and after the bookkeeper's changes, and the two syncs that carry them."""

    realm_ids: list[str]
    messages: dict[str, str]  # phase -> Singer messages of that sync
    books: dict[str, dict[str, Books]]  # phase -> realm -> ground truth
    changes: dict[str, list[str]] = field(default_factory=dict)  # realm -> what was changed


def change_the_books(sim: QboSimulator, realm: str, books: Books) -> list[str]:
    """A new invoice, a payment applied to an old open invoice, a deleted bill, a voided payment."""
    done = [f"Invoice {sim.create(realm, 'Invoice')['Id']} created"]
    open_invoices = [
        item
        for item in books.ar_aging(TODAY)
        if item.transaction_type == "Invoice" and item.bucket == "91 and over"
    ]
    old = open_invoices[0]
    amount = (old.open_balance / 2).quantize(Decimal("0.01"))
    payment = sim.create(
        realm,
        "Payment",
        {
            "CustomerRef": {"value": old.party_id},
            "TotalAmt": amount,
            "UnappliedAmt": Decimal("0.00"),
            "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": old.transaction_id, "TxnType": "Invoice"}]}],
        },
    )
    done.append(f"Payment {payment['Id']} applies {amount} to Invoice {old.transaction_id}")
    open_bills = [item for item in books.ap_aging(TODAY) if item.transaction_type == "Bill"]
    sim.delete(realm, "Bill", open_bills[0].transaction_id)
    done.append(f"Bill {open_bills[0].transaction_id} deleted")
    applied = next(
        p for p in sim.iter_records(realm, "Payment") if p.get("Line") and p["Id"] != payment["Id"]
    )
    sim.void(realm, "Payment", applied["Id"])
    done.append(f"Payment {applied['Id']} voided")
    return done


@pytest.fixture(scope="module")
def companies(tmp_path_factory: pytest.TempPathFactory) -> Companies:
    workdir = tmp_path_factory.mktemp("finance-tap")
    config = SimConfig(companies=2, seed=23, records_per_company=RECORDS_PER_COMPANY)
    with QboSimulator(config) as sim:
        first = sync(sim, workdir / "backfill")
        before = {realm: Books(sim, realm) for realm in sim.realm_ids}
        changes = {realm: change_the_books(sim, realm, before[realm]) for realm in sim.realm_ids}
        second = sync(sim, workdir / "cdc", first.state)
        after = {realm: Books(sim, realm) for realm in sim.realm_ids}
        return Companies(
            list(sim.realm_ids),
            {"backfill": first.messages, "after_changes": second.messages},
            {"backfill": before, "after_changes": after},
            changes,
        )


@dataclass
class Built:
    """One adapter's marts after each phase's `dbt build` (aging at TODAY and at PAST in the same run)."""

    warehouse: Warehouse
    marts: dict[str, dict[str, Marts]]  # phase -> realm -> marts
    results: dict[str, dict[str, Any]]  # phase -> run_results.json of its build


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def built(
    request: pytest.FixtureRequest, companies: Companies, tmp_path_factory: pytest.TempPathFactory
) -> Built:
    adapter: str = request.param
    workdir: Path = tmp_path_factory.mktemp(f"finance-{adapter}")
    if adapter == "duckdb":
        warehouse = Warehouse(adapter, workdir, duckdb_path=workdir / "warehouse.duckdb")
    else:
        server = request.getfixturevalue("postgres_server")
        warehouse = Warehouse(
            adapter, workdir, postgres=server, dbname=fresh_database(server, f"finance_{os.getpid()}")
        )
    marts: dict[str, dict[str, Marts]] = {}
    results: dict[str, dict[str, Any]] = {}
    for phase in PHASES:
        warehouse.load(companies.messages[phase])
        results[phase] = warehouse.dbt("build", as_of=[TODAY, PAST])
        marts[phase] = read_marts(warehouse.query)
    return Built(warehouse, marts, results)


@pytest.mark.parametrize("phase", PHASES)
def test_dbt_build_runs_every_model_and_data_test(built: Built, phase: str) -> None:
    statuses = {r["unique_id"]: r["status"] for r in built.results[phase]["results"]}
    tests = [uid for uid in statuses if uid.startswith("test.")]
    assert {"success", "pass"} >= set(statuses.values()), statuses
    for name in (
        "debits_equal_credits",
        "running_balance_ends",
        "balance_sheet_balances",
        "aging_total_equals",
        "net_income_equals",
    ):
        assert any(name in uid for uid in tests), f"data test {name} did not run"


@pytest.mark.parametrize("phase", PHASES)
def test_the_general_ledger_has_every_posting_exactly_once(
    built: Built, companies: Companies, phase: str
) -> None:
    for realm in companies.realm_ids:
        assert ledger_differences(built.marts[phase][realm], companies.books[phase][realm]) == []


@pytest.mark.parametrize("phase", PHASES)
def test_profit_and_loss_by_month_ties_out_to_the_cent(
    built: Built, companies: Companies, phase: str
) -> None:
    for realm in companies.realm_ids:
        marts = built.marts[phase][realm]
        assert len(marts.profit_and_loss) > 100
        assert profit_and_loss_differences(marts, companies.books[phase][realm]) == []


@pytest.mark.parametrize("phase", PHASES)
def test_the_balance_sheet_ties_out_at_every_month_end(
    built: Built, companies: Companies, phase: str
) -> None:
    for realm in companies.realm_ids:
        marts = built.marts[phase][realm]
        assert len(marts.balance_sheet) >= 24
        assert balance_sheet_differences(marts, companies.books[phase][realm]) == []


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("side", ["ar", "ap"])
def test_aging_ties_out_item_by_item_at_two_dates(
    built: Built, companies: Companies, phase: str, side: str
) -> None:
    for realm in companies.realm_ids:
        marts = built.marts[phase][realm]
        aging = getattr(marts, f"{side}_aging")
        assert set(aging) == {TODAY, PAST}
        buckets = {bucket for item in aging[TODAY].values() for _, bucket, _, _ in [item]}
        assert buckets == {"Current", "1 - 30", "31 - 60", "61 - 90", "91 and over"}, buckets
        assert aging_differences(marts, companies.books[phase][realm], side) == []


@pytest.mark.parametrize("phase", PHASES)
def test_cash_by_bank_account_ties_out(built: Built, companies: Companies, phase: str) -> None:
    for realm in companies.realm_ids:
        marts = built.marts[phase][realm]
        days = cash_days(marts)
        assert len(days) > 24
        assert cash_differences(marts, companies.books[phase][realm], days) == []


def test_the_changes_moved_the_books(built: Built, companies: Companies) -> None:
    """The incremental run changed what the marts say (a check that the second phase tested something)."""
    for realm in companies.realm_ids:
        before, after = built.marts["backfill"][realm], built.marts["after_changes"][realm]
        assert before.ar_aging[TODAY] != after.ar_aging[TODAY], companies.changes[realm]
        assert before.ap_aging[TODAY] != after.ap_aging[TODAY], companies.changes[realm]
        assert before.ledger != after.ledger


def test_source_freshness_is_the_load_time_the_target_recorded(built: Built) -> None:
    """Every source table was loaded by the last run (its `_sdc_loads` row), so freshness passes whatever
    QuickBooks' LastUpdatedTime says; a load 5 hours old (several missed hourly runs) warns and one 30 hours
    old is an error, each for that table alone."""
    warehouse = built.warehouse
    statuses = freshness(warehouse)
    assert set(statuses.values()) == {"pass"}, statuses
    assert "invoices" in statuses
    loads = dict(warehouse.query("SELECT table_name, rows_loaded FROM quickbooks._sdc_loads"))
    assert set(statuses) <= set(loads)
    ages = {"invoices": 30, "bills": 5}  # hours
    for table, hours in ages.items():
        warehouse.execute(
            f"UPDATE quickbooks._sdc_loads SET loaded_at = loaded_at - INTERVAL '{hours} hours' "
            f"WHERE table_name = '{table}'"
        )
    try:
        statuses = freshness(warehouse)
    finally:
        for table, hours in ages.items():
            warehouse.execute(
                f"UPDATE quickbooks._sdc_loads SET loaded_at = loaded_at + INTERVAL '{hours} hours' "
                f"WHERE table_name = '{table}'"
            )
    assert (statuses.pop("invoices"), statuses.pop("bills")) == ("error", "warn")
    assert set(statuses.values()) == {"pass"}, statuses


def freshness(warehouse: Warehouse) -> dict[str, str]:
    """`dbt source freshness`: source table -> pass / warn / error."""
    found = warehouse.dbt("source", "freshness", results="sources.json", check=False)
    return {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in found["results"]}
