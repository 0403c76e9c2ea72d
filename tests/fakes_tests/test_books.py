"""The simulated companies keep real books: postings balance, balances follow the documents and mutations,
aging ties to the ledger, and the ground truth (``ground_truth.Books``) is deterministic."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.fakes.qbo import QboSimulator, SimConfig
from tests.fakes.qbo.fixtures import SimFactory
from tests.fakes.qbo.ground_truth import BUCKETS, Books

ANCHOR = datetime(2026, 6, 1, 12, tzinfo=UTC)
ZERO = Decimal("0.00")


@pytest.fixture(scope="module")
def sim() -> Any:
    with QboSimulator(SimConfig(companies=1, records_per_company=3000, anchor=ANCHOR)) as started:
        yield started


@pytest.fixture
def fresh(qbo_sim_factory: SimFactory) -> QboSimulator:
    return qbo_sim_factory(companies=1, records_per_company=1200, anchor=ANCHOR)


def _realm(sim: QboSimulator) -> str:
    return sim.realm_ids[0]


def _month_ends(start: date, end: date) -> list[date]:
    found: list[date] = []
    year, month = start.year, start.month
    while True:
        last = date(year, month, calendar.monthrange(year, month)[1])
        if last > end:
            return found
        found.append(last)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def test_every_document_and_the_trial_balance_have_equal_debits_and_credits(sim: QboSimulator) -> None:
    books = Books(sim, _realm(sim))
    rows = books.trial_balance(ANCHOR.date())

    assert books.unbalanced_documents() == []
    assert sum(r.debit for r in rows) == sum(r.credit for r in rows) > 0
    kinds = {line.transaction_type for line in books.general_ledger()}
    assert kinds == {
        "Bill", "BillPayment", "CreditMemo", "Deposit", "Invoice", "JournalEntry", "Payment", "Purchase",
        "RefundReceipt", "SalesReceipt", "Transfer", "VendorCredit",
    }  # fmt: skip


def test_documents_post_through_accounts_of_the_right_type(sim: QboSimulator) -> None:
    books = Books(sim, _realm(sim))
    by_type: dict[str, set[str]] = {}
    for line in books.general_ledger():
        account = books.accounts[line.account_id]
        by_type.setdefault(line.transaction_type, set()).add(account.account_type)
        if line.customer_id and line.transaction_type in {"Invoice", "Payment", "CreditMemo"}:
            assert account.account_type == "Accounts Receivable"

    assert by_type["Invoice"] >= {"Accounts Receivable", "Income", "Other Current Liability"}
    assert by_type["Payment"] == {"Accounts Receivable", "Other Current Asset", "Bank"}
    assert by_type["Deposit"] >= {"Bank", "Other Current Asset", "Income"}
    assert by_type["Bill"] >= {"Accounts Payable", "Expense", "Cost of Goods Sold"}
    assert by_type["BillPayment"] == {"Accounts Payable", "Bank", "Credit Card"}
    assert by_type["Purchase"] >= {"Bank", "Credit Card", "Expense"}
    assert by_type["Transfer"] == {"Bank"}


def test_the_balance_sheet_balances_at_every_month_end(sim: QboSimulator) -> None:
    books = Books(sim, _realm(sim))
    first = books.docs[0].day

    for month_end in _month_ends(first, ANCHOR.date()):
        rows = books.balance_sheet(month_end)
        assets = sum(r.balance for r in rows if r.classification == "Asset")
        others = sum(r.balance for r in rows if r.classification != "Asset")
        assert assets == others, month_end
        assert any(r.name == "Retained Earnings" for r in rows)


def test_invoice_and_bill_balances_are_their_total_minus_what_was_applied(sim: QboSimulator) -> None:
    books = Books(sim, _realm(sim))
    for target, payer in (("Invoice", "Payment"), ("Bill", "BillPayment")):
        applied: dict[str, Decimal] = {}
        for doc in books.docs:
            if doc.entity == payer:
                for line in doc.body["Line"]:
                    key = line["LinkedTxn"][0]["TxnId"]
                    applied[key] = applied.get(key, ZERO) + line["Amount"]
        documents = [d.body for d in books.docs if d.entity == target]
        for body in documents:
            assert body["Balance"] == body["TotalAmt"] - applied.get(body["Id"], ZERO)
        assert any(0 < b["Balance"] < b["TotalAmt"] for b in documents)  # partial payments
        assert any(b["Balance"] == 0 for b in documents)


def test_customer_vendor_and_account_balances_agree_with_the_ground_truth(sim: QboSimulator) -> None:
    books = Books(sim, _realm(sim))
    realm = _realm(sim)
    for party in ("Customer", "Vendor"):
        expected = books.party_balances(party)
        for record in sim.iter_records(realm, party):
            assert record["Balance"] == expected.get(record["Id"], ZERO), (party, record["Id"])
    balances = books.account_balances()
    for account in sim.iter_records(realm, "Account"):
        assert account["CurrentBalance"] == balances[account["Id"]], account["Name"]
    assert any(a["CurrentBalance"] != 0 for a in sim.iter_records(realm, "Account"))


def test_aging_totals_equal_the_receivable_and_payable_accounts(sim: QboSimulator) -> None:
    books = Books(sim, _realm(sim))
    for as_of in (ANCHOR.date(), ANCHOR.date() - timedelta(days=75)):
        balances = books.account_balances(as_of)
        ar = sum(v for k, v in balances.items() if books.accounts[k].account_type == "Accounts Receivable")
        ap = sum(v for k, v in balances.items() if books.accounts[k].account_type == "Accounts Payable")
        ar_items, ap_items = books.ar_aging(as_of), books.ap_aging(as_of)
        assert sum(i.open_balance for i in ar_items) == ar
        assert sum(i.open_balance for i in ap_items) == ap
        kinds = {i.transaction_type for i in ar_items if i.open_balance < 0}
        assert kinds == {"CreditMemo", "Payment"}
        assert {i.transaction_type for i in ap_items if i.open_balance < 0} >= {"VendorCredit"}


def test_every_aging_bucket_has_documents_at_todays_date(qbo_sim_factory: SimFactory) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=5000)  # about 4,300 documents
    books = Books(sim, _realm(sim))
    today = datetime.now(UTC).date()

    for items in (books.ar_aging(today), books.ap_aging(today)):
        positive = {i.bucket for i in items if i.open_balance > 0}
        assert positive == set(BUCKETS)


def test_due_dates_follow_the_counterpartys_terms(sim: QboSimulator) -> None:
    realm = _realm(sim)
    days = {t["Id"]: t["DueDays"] for t in sim.iter_records(realm, "Term")}
    customers = {c["Id"]: c for c in sim.iter_records(realm, "Customer")}
    vendors = {v["Id"]: v for v in sim.iter_records(realm, "Vendor")}
    for invoice in sim.iter_records(realm, "Invoice"):
        term = customers[invoice["CustomerRef"]["value"]]["SalesTermRef"]["value"]
        assert invoice["SalesTermRef"]["value"] == term
        due = date.fromisoformat(invoice["TxnDate"]) + timedelta(days=days[term])
        assert invoice["DueDate"] == due.isoformat()
    for bill in sim.iter_records(realm, "Bill"):
        term = vendors[bill["VendorRef"]["value"]]["TermRef"]["value"]
        due = date.fromisoformat(bill["TxnDate"]) + timedelta(days=days[term])
        assert bill["DueDate"] == due.isoformat()


def test_deposits_take_undeposited_payments_once_and_after_they_were_received(sim: QboSimulator) -> None:
    realm = _realm(sim)
    payments = {p["Id"]: p for p in sim.iter_records(realm, "Payment")}
    seen: set[str] = set()
    for deposit in sim.iter_records(realm, "Deposit"):
        for line in deposit["Line"]:
            for link in line.get("LinkedTxn", []):
                if link["TxnType"] == "Payment":
                    payment = payments[link["TxnId"]]
                    assert payment["DepositToAccountRef"]["name"] == "Undeposited Funds"
                    assert payment["TotalAmt"] == line["Amount"]
                    assert payment["TxnDate"] <= deposit["TxnDate"]
                    assert link["TxnId"] not in seen
                    seen.add(link["TxnId"])
    assert len(seen) > len(payments) // 2


def _invoice(sim: QboSimulator, invoice_id: str) -> dict[str, Any]:
    found = sim.get(_realm(sim), "Invoice", invoice_id)
    assert found is not None
    return found


def _open_invoice(sim: QboSimulator) -> dict[str, Any]:
    return next(i for i in sim.iter_records(_realm(sim), "Invoice") if i["Balance"] == i["TotalAmt"] > 10)


def _ties_out(sim: QboSimulator) -> None:
    books = Books(sim, _realm(sim))
    assert books.unbalanced_documents() == []
    realm = _realm(sim)
    expected = books.party_balances("Customer")
    for record in sim.iter_records(realm, "Customer"):
        assert record["Balance"] == expected.get(record["Id"], ZERO)
    balances = books.account_balances()
    for account in sim.iter_records(realm, "Account"):
        assert account["CurrentBalance"] == balances[account["Id"]], account["Name"]
    ar = sum(v for k, v in balances.items() if books.accounts[k].account_type == "Accounts Receivable")
    assert sum(i.open_balance for i in books.ar_aging(ANCHOR.date() + timedelta(days=400))) == ar


def test_a_payment_created_changed_voided_and_deleted_rebalances_its_invoice(fresh: QboSimulator) -> None:
    realm = _realm(fresh)
    invoice = _open_invoice(fresh)
    total, customer = invoice["TotalAmt"], invoice["CustomerRef"]
    part = (total / 3).quantize(Decimal("0.01"))

    def line(amount: Decimal) -> list[dict[str, Any]]:
        return [{"Amount": amount, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]

    payment = fresh.create(realm, "Payment", {"CustomerRef": customer, "Line": line(part)})
    after_create = _invoice(fresh, invoice["Id"])
    assert payment["TotalAmt"] == part
    assert payment["UnappliedAmt"] == 0
    assert after_create["Balance"] == total - part
    assert {"TxnId": payment["Id"], "TxnType": "Payment"} in after_create["LinkedTxn"]
    assert int(after_create["SyncToken"]) == int(invoice["SyncToken"]) + 1
    _ties_out(fresh)

    fresh.update(realm, "Payment", payment["Id"], {"Line": line(total), "TotalAmt": total})
    assert _invoice(fresh, invoice["Id"])["Balance"] == 0
    _ties_out(fresh)

    fresh.void(realm, "Payment", payment["Id"])
    assert _invoice(fresh, invoice["Id"])["Balance"] == total
    _ties_out(fresh)

    fresh.update(realm, "Payment", payment["Id"], {"Line": line(part), "TotalAmt": part})
    fresh.delete(realm, "Payment", payment["Id"])
    after_delete = _invoice(fresh, invoice["Id"])
    assert after_delete["Balance"] == total
    assert all(link["TxnId"] != payment["Id"] for link in after_delete["LinkedTxn"])
    _ties_out(fresh)


def test_deleting_a_base_payment_reopens_the_invoices_it_paid(fresh: QboSimulator) -> None:
    realm = _realm(fresh)
    payment = next(p for p in fresh.iter_records(realm, "Payment") if len(p["Line"]) >= 2)
    paid = [line["LinkedTxn"][0]["TxnId"] for line in payment["Line"]]

    fresh.delete(realm, "Payment", payment["Id"])

    for invoice_id in paid:
        invoice = _invoice(fresh, invoice_id)
        assert invoice["Balance"] == invoice["TotalAmt"]
        assert invoice["LinkedTxn"] == []
    _ties_out(fresh)


def test_a_bill_payment_changed_over_http_rebalances_its_bill_and_the_vendor(fresh: QboSimulator) -> None:
    realm = _realm(fresh)
    payment = next(p for p in fresh.iter_records(realm, "BillPayment") if p["Line"])
    bill_id = payment["Line"][0]["LinkedTxn"][0]["TxnId"]
    bill = fresh.get(realm, "Bill", bill_id)
    assert bill is not None
    changed = {**payment["Line"][0], "Amount": Decimal("1.00")}

    fresh.service.write(
        realm,
        "billpayment",
        {"Id": payment["Id"], "SyncToken": payment["SyncToken"], "Line": [changed, *payment["Line"][1:]]},
        None,
    )

    after = fresh.get(realm, "Bill", bill_id)
    assert after is not None
    assert after["Balance"] == bill["TotalAmt"] - Decimal("1.00")
    books = Books(fresh, realm)
    vendor = fresh.get(realm, "Vendor", payment["VendorRef"]["value"])
    assert vendor is not None
    assert vendor["Balance"] == books.party_balances("Vendor")[vendor["Id"]]
    assert books.unbalanced_documents() == []


def test_a_new_invoice_and_a_deleted_bill_keep_the_books_tied(fresh: QboSimulator) -> None:
    realm = _realm(fresh)
    open_bill = next(b for b in fresh.iter_records(realm, "Bill") if b["Balance"] == b["TotalAmt"])
    fresh.create(realm, "Invoice", {"CustomerRef": {"value": "2"}})
    fresh.delete(realm, "Bill", open_bill["Id"])

    _ties_out(fresh)
    books = Books(fresh, realm)
    balances = books.account_balances()
    ap = sum(v for k, v in balances.items() if books.accounts[k].account_type == "Accounts Payable")
    assert sum(i.open_balance for i in books.ap_aging(ANCHOR.date() + timedelta(days=400))) == ap


def test_same_seed_gives_the_same_books(qbo_sim_factory: SimFactory) -> None:
    first, twin, other = (
        qbo_sim_factory(companies=1, records_per_company=1000, anchor=ANCHOR, seed=seed) for seed in (1, 1, 5)
    )
    mine = Books(first, _realm(first))

    assert Books(twin, _realm(twin)).general_ledger() == mine.general_ledger()
    assert Books(twin, _realm(twin)).profit_and_loss_by_month() == mine.profit_and_loss_by_month()
    assert Books(other, _realm(other)).general_ledger() != mine.general_ledger()


def test_the_multi_ar_option_adds_a_second_receivable_account_and_departments(
    qbo_sim_factory: SimFactory,
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=800, anchor=ANCHOR, multi_ar_departments=True)
    realm = _realm(sim)
    books = Books(sim, realm)

    receivables = [a for a in books.accounts.values() if a.account_type == "Accounts Receivable"]
    assert len(receivables) == 2
    for entity in ("Invoice", "Payment", "Bill", "Purchase", "JournalEntry", "Deposit"):
        assert all("DepartmentRef" in r for r in sim.iter_records(realm, entity)), entity
    assert books.unbalanced_documents() == []
    balances = books.account_balances()
    ar = sum(balances[a.id] for a in receivables)
    assert sum(i.open_balance for i in books.ar_aging(ANCHOR.date())) == ar


def test_the_multi_ar_records_carry_no_field_outside_intuits_reference(qbo_sim_factory: SimFactory) -> None:
    from tap_quickbooks_cdc.registry import ENTITY_FOR_STREAM, STREAM_SCHEMAS
    from tests.tap.test_schemas import _strict, _validator, _with_sync_columns

    sim = qbo_sim_factory(companies=1, records_per_company=300, anchor=ANCHOR, multi_ar_departments=True)
    for stream, entity in ENTITY_FOR_STREAM.items():
        strict = _validator(_strict(STREAM_SCHEMAS[stream]))
        for record in list(sim.iter_records(_realm(sim), entity))[:40]:
            assert [e.message for e in strict.iter_errors(_with_sync_columns(record))] == [], stream


def test_a_payment_voided_over_http_keeps_its_lines_at_zero_and_reopens_its_invoices(
    fresh: QboSimulator,
) -> None:
    realm = _realm(fresh)
    payment = next(p for p in fresh.iter_records(realm, "Payment") if p["Line"])
    paid = [line["LinkedTxn"][0]["TxnId"] for line in payment["Line"]]

    fresh.service.write(realm, "payment", {"Id": payment["Id"], "SyncToken": payment["SyncToken"]}, "void")

    voided = fresh.get(realm, "Payment", payment["Id"])
    assert voided is not None
    assert voided["TotalAmt"] == 0
    assert [line["Amount"] for line in voided["Line"]] == [0] * len(paid)
    assert voided["PrivateNote"] == "Voided"
    for invoice_id in paid:
        invoice = _invoice(fresh, invoice_id)
        assert invoice["Balance"] == invoice["TotalAmt"]
    _ties_out(fresh)
