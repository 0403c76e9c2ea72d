"""Generated data: QBO field shapes, double-entry consistency, linked balances and determinism."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tests.fakes.qbo import QboSimulator, SimConfig, iter_entity_records
from tests.fakes.qbo.catalog import ENTITIES, NAME_LISTS
from tests.fakes.qbo.fixtures import SimFactory

ANCHOR = datetime(2026, 6, 1, 12, tzinfo=UTC)
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


@pytest.fixture(scope="module")
def sim() -> Any:
    with QboSimulator(SimConfig(records_per_company=1500, anchor=ANCHOR)) as started:
        yield started


def _records(sim: QboSimulator, entity: str) -> list[dict[str, Any]]:
    return list(sim.iter_records(sim.realm_ids[0], entity))


def _sales_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for line in lines:
        if line["DetailType"] == "SalesItemLineDetail":
            found.append(line)
        elif line["DetailType"] == "GroupLineDetail":
            found.extend(_sales_lines(line["GroupLineDetail"]["Line"]))
    return found


def _cents(value: Decimal) -> bool:
    return value == value.quantize(Decimal("0.01"))


@pytest.mark.parametrize("entity", ENTITIES)
def test_every_entity_has_records_with_qbo_identity_fields(sim: QboSimulator, entity: str) -> None:
    records = _records(sim, entity)

    assert records
    for record in records:
        assert isinstance(record["Id"], str)
        assert record["Id"].isdigit()
        assert isinstance(record["SyncToken"], str)
        assert record["SyncToken"].isdigit()
        assert STAMP.match(record["MetaData"]["CreateTime"])
        assert record["MetaData"]["LastUpdatedTime"].endswith("-07:00")
        assert record["MetaData"]["CreateTime"] <= record["MetaData"]["LastUpdatedTime"]
        assert ("Active" in record) == (entity in NAME_LISTS)


def test_companies_have_their_own_offsets(sim: QboSimulator) -> None:
    second = next(sim.iter_records(sim.realm_ids[1], "Invoice"))

    assert second["MetaData"]["LastUpdatedTime"].endswith("-05:00")


def test_some_list_records_are_inactive_and_some_records_were_edited(sim: QboSimulator) -> None:
    customers = _records(sim, "Customer")

    assert any(not c["Active"] for c in customers)
    assert any(c["Active"] for c in customers)
    assert any(r["SyncToken"] != "0" for r in _records(sim, "Invoice"))


def test_invoice_totals_add_up(sim: QboSimulator) -> None:
    kinds: set[str] = set()
    for invoice in _records(sim, "Invoice"):
        lines = invoice["Line"]
        kinds.update(line["DetailType"] for line in lines)
        items = sum((line["Amount"] for line in _sales_lines(lines)), Decimal(0))
        discount = sum((ln["Amount"] for ln in lines if ln["DetailType"] == "DiscountLineDetail"), Decimal(0))
        [subtotal] = [ln["Amount"] for ln in lines if ln["DetailType"] == "SubTotalLineDetail"]
        tax = invoice["TxnTaxDetail"]["TotalTax"]
        assert subtotal == items
        assert invoice["TotalAmt"] == items - discount + tax
        for line in _sales_lines(lines):
            detail = line["SalesItemLineDetail"]
            assert line["Amount"] == (detail["UnitPrice"] * detail["Qty"]).quantize(Decimal("0.01"))
        assert _cents(invoice["TotalAmt"])
        assert _cents(invoice["Balance"])
        assert Decimal(0) <= invoice["Balance"] <= invoice["TotalAmt"]
    assert kinds == {
        "SalesItemLineDetail",
        "SubTotalLineDetail",
        "DiscountLineDetail",
        "DescriptionOnly",
        "GroupLineDetail",
    }


def test_payments_reduce_their_invoices_balance_by_the_applied_amount(sim: QboSimulator) -> None:
    invoices = {inv["Id"]: inv for inv in _records(sim, "Invoice")}
    payments = _records(sim, "Payment")
    applied: dict[str, Decimal] = {}
    for payment in payments:
        applied_here = sum((line["Amount"] for line in payment["Line"]), Decimal(0))
        assert payment["TotalAmt"] == applied_here + payment["UnappliedAmt"]
        for line in payment["Line"]:
            [link] = line["LinkedTxn"]
            assert link["TxnType"] == "Invoice"
            assert payment["CustomerRef"] == invoices[link["TxnId"]]["CustomerRef"]
            assert {"TxnId": payment["Id"], "TxnType": "Payment"} in invoices[link["TxnId"]]["LinkedTxn"]
            applied[link["TxnId"]] = applied.get(link["TxnId"], Decimal(0)) + line["Amount"]

    assert applied
    for invoice_id, invoice in invoices.items():
        assert invoice["Balance"] == invoice["TotalAmt"] - applied.get(invoice_id, Decimal(0))
    assert any(inv["Balance"] == 0 for inv in invoices.values())
    assert any(0 < inv["Balance"] < inv["TotalAmt"] for inv in invoices.values())


def test_bill_payments_reduce_their_bills_balance(sim: QboSimulator) -> None:
    bills = {bill["Id"]: bill for bill in _records(sim, "Bill")}
    paid: dict[str, Decimal] = {}
    for payment in _records(sim, "BillPayment"):
        for line in payment["Line"]:
            bill_id = line["LinkedTxn"][0]["TxnId"]
            paid[bill_id] = paid.get(bill_id, Decimal(0)) + line["Amount"]
            expected = "BillPaymentCreditCard" if payment["PayType"] == "CreditCard" else "BillPaymentCheck"
            assert bills[bill_id]["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": expected}]
        if payment["Line"]:
            assert payment["TotalAmt"] == sum((line["Amount"] for line in payment["Line"]), Decimal(0))

    for bill_id, bill in bills.items():
        assert bill["TotalAmt"] == sum((line["Amount"] for line in bill["Line"]), Decimal(0))
        assert bill["Balance"] == bill["TotalAmt"] - paid.get(bill_id, Decimal(0))
    kinds = {line["DetailType"] for bill in bills.values() for line in bill["Line"]}
    assert kinds == {"AccountBasedExpenseLineDetail", "ItemBasedExpenseLineDetail"}


def test_journal_entries_balance(sim: QboSimulator) -> None:
    for entry in _records(sim, "JournalEntry"):
        postings: dict[str, Decimal] = {"Debit": Decimal(0), "Credit": Decimal(0)}
        for line in entry["Line"]:
            postings[line["JournalEntryLineDetail"]["PostingType"]] += line["Amount"]
        assert postings["Debit"] == postings["Credit"] == entry["TotalAmt"]


@pytest.mark.parametrize("entity", ["Deposit", "Purchase", "VendorCredit", "PurchaseOrder", "SalesReceipt"])
def test_documents_total_their_lines(sim: QboSimulator, entity: str) -> None:
    for record in _records(sim, entity):
        lines = [
            ln
            for ln in record["Line"]
            if ln.get("DetailType") not in {"SubTotalLineDetail", "DescriptionOnly"}
        ]
        amounts = sum(
            (ln["Amount"] for ln in lines if ln.get("DetailType") != "DiscountLineDetail"), Decimal(0)
        )
        discounts = sum(
            (ln["Amount"] for ln in lines if ln.get("DetailType") == "DiscountLineDetail"), Decimal(0)
        )
        tax = record.get("TxnTaxDetail", {}).get("TotalTax", Decimal(0))
        if entity == "SalesReceipt":
            amounts = sum((ln["Amount"] for ln in _sales_lines(record["Line"])), Decimal(0))
        assert record["TotalAmt"] == amounts - discounts + tax


def test_references_point_at_existing_records(sim: QboSimulator) -> None:
    realm = sim.realm_ids[0]
    for invoice in _records(sim, "Invoice")[:50]:
        customer = sim.get(realm, "Customer", invoice["CustomerRef"]["value"])
        assert customer is not None
        assert customer["DisplayName"] == invoice["CustomerRef"]["name"]
        for line in _sales_lines(invoice["Line"]):
            item = sim.get(realm, "Item", line["SalesItemLineDetail"]["ItemRef"]["value"])
            assert item is not None
            assert item["UnitPrice"] == line["SalesItemLineDetail"]["UnitPrice"]


def test_addresses_use_iso_alpha3_countries(sim: QboSimulator) -> None:
    countries = {c["BillAddr"]["Country"] for c in _records(sim, "Customer")}

    assert countries <= {"USA", "CAN", "GBR"}
    assert "USA" in countries


def test_same_seed_and_anchor_give_identical_data(qbo_sim_factory: SimFactory, sim: QboSimulator) -> None:
    twin = qbo_sim_factory(records_per_company=1500, anchor=ANCHOR)
    other_seed = qbo_sim_factory(records_per_company=1500, anchor=ANCHOR, seed=2)
    realm = sim.realm_ids[0]

    for entity in ("Invoice", "Customer", "JournalEntry"):
        assert list(twin.iter_records(realm, entity)) == list(sim.iter_records(realm, entity))
    assert list(other_seed.iter_records(realm, "Invoice")) != list(sim.iter_records(realm, "Invoice"))


def test_iter_entity_records_is_deterministic_and_ordered() -> None:
    records = list(iter_entity_records("Invoice", 50, seed=3))
    again = list(iter_entity_records("Invoice", 50, seed=3))

    assert [r["Id"] for r in records] == [str(i) for i in range(1, 51)]
    assert records == again
    assert all(isinstance(r["TotalAmt"], Decimal) for r in records)
    stamps = [r["MetaData"]["LastUpdatedTime"] for r in records]
    assert stamps == sorted(stamps)
