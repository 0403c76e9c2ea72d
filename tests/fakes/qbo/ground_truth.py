"""The books of a simulated company as QuickBooks' own reports would show them: the tie-out reference.

Written in Python from the documents the simulator serves (never from a dbt model, never from the
Balance/CurrentBalance fields it checks), so finance models can be compared with it to the cent::

    books = Books(sim, sim.realm_ids[0])  # a snapshot: build a new one after mutations
    books.trial_balance(date(2026, 5, 31))
    books.profit_and_loss_by_month()       # {account_id: {date(2026, 5, 1): Decimal, ...}}
    books.balance_sheet(date(2026, 5, 31)) # rows incl. Retained Earnings and Net Income
    books.ar_aging(date.today()); books.ap_aging(date.today())
    books.cash_by_bank_account(date(2026, 5, 31))
    books.general_ledger()

Rules (``postings.py`` has the per-document table): only current documents count (deleted ones are gone,
voided ones post zero); a document's date is its ``TxnDate``; amounts are exact ``Decimal`` with two places.
Fiscal years are calendar years. Aging follows QuickBooks' A/R and A/P aging detail: every document dated on
or before the as-of date with an open balance, where payments count only if dated on or before it too;
credit memos, vendor credits and the unapplied part of payments are negative open items due on their own
date; days past due = as-of date - due date (0 when not yet due); buckets ``Current``, ``1 - 30``,
``31 - 60``, ``61 - 90``, ``91 and over``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from tests.fakes.qbo.postings import POSTING_ENTITIES, Chart, postings

if TYPE_CHECKING:
    from tests.fakes.qbo.simulator import QboSimulator

BUCKETS: Final = ("Current", "1 - 30", "31 - 60", "61 - 90", "91 and over")
BALANCE_SHEET_CLASSES: Final = frozenset({"Asset", "Liability", "Equity"})
NET_INCOME: Final = "Net Income"
_CENT: Final = Decimal("0.01")


def _money(cents: int) -> Decimal:
    return (Decimal(cents) * _CENT).quantize(_CENT)


def bucket_of(days_past_due: int) -> str:
    """QuickBooks' aging bucket of a document ``days_past_due`` days past its due date."""
    if days_past_due <= 0:
        return BUCKETS[0]
    if days_past_due <= 30:
        return BUCKETS[1]
    if days_past_due <= 60:
        return BUCKETS[2]
    if days_past_due <= 90:
        return BUCKETS[3]
    return BUCKETS[4]


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    account_type: str
    classification: str  # Asset, Liability, Equity, Revenue, Expense


@dataclass(frozen=True)
class GlLine:
    """One general-ledger line: debit or credit is zero."""

    transaction_id: str
    transaction_type: str  # the QBO entity name, e.g. "Invoice"
    transaction_line_id: str  # the Line Id, or "header" / "ar" / "ap" / "tax" / "to" / "from" / "cashback"
    transaction_date: date
    account_id: str
    debit: Decimal
    credit: Decimal
    customer_id: str | None
    vendor_id: str | None


@dataclass(frozen=True)
class TrialBalanceRow:
    account: Account
    debit: Decimal  # the net balance on its side; the other side is zero
    credit: Decimal


@dataclass(frozen=True)
class BalanceSheetRow:
    """An account's balance in its natural sign; ``account`` is None for the Net Income row."""

    account_id: str | None
    name: str
    classification: str
    balance: Decimal


@dataclass(frozen=True)
class OpenItem:
    """One line of an A/R or A/P aging detail."""

    party_id: str  # customer (A/R) or vendor (A/P) Id
    party_name: str
    transaction_id: str
    transaction_type: str
    transaction_date: date
    due_date: date
    open_balance: Decimal  # negative for credits
    days_past_due: int
    bucket: str


@dataclass(frozen=True)
class _Doc:
    entity: str
    body: dict[str, Any]
    day: date


class Books:
    """A snapshot of one company's books, read from the simulator's documents at construction."""

    def __init__(self, sim: QboSimulator, realm_id: str) -> None:
        self.realm_id = realm_id
        account_records = list(sim.iter_records(realm_id, "Account"))
        items = list(sim.iter_records(realm_id, "Item"))
        self.accounts: dict[str, Account] = {
            a["Id"]: Account(a["Id"], a["Name"], a["AccountType"], a["Classification"])
            for a in account_records
        }
        self.chart = Chart.from_records(account_records, items)
        self.names = {
            entity: {r["Id"]: r["DisplayName"] for r in sim.iter_records(realm_id, entity)}
            for entity in ("Customer", "Vendor")
        }
        self.docs: list[_Doc] = []
        for entity in POSTING_ENTITIES:
            for body in sim.iter_records(realm_id, entity):
                self.docs.append(_Doc(entity, body, date.fromisoformat(body["TxnDate"])))
        self.docs.sort(key=lambda d: (d.day, d.entity, int(d.body["Id"])))
        self._lines = [line for doc in self.docs for line in self._post(doc)]

    def _post(self, doc: _Doc) -> list[GlLine]:
        found = []
        for p in postings(doc.entity, doc.body, self.chart):
            debit, credit = (p.amount, 0) if p.amount >= 0 else (0, -p.amount)
            found.append(
                GlLine(
                    doc.body["Id"], doc.entity, p.line_id, doc.day, p.account_id,
                    _money(debit), _money(credit), p.customer_id, p.vendor_id,
                )
            )  # fmt: skip
        return found

    # ---- ledgers -----------------------------------------------------------------------------------
    def general_ledger(self) -> list[GlLine]:
        """Every posting of every current document, by date, entity and Id."""
        return list(self._lines)

    def unbalanced_documents(self) -> list[tuple[str, str, Decimal]]:
        """(entity, Id, debits - credits) of every document whose postings do not balance."""
        sums: dict[tuple[str, str], Decimal] = {}
        for line in self._lines:
            key = (line.transaction_type, line.transaction_id)
            sums[key] = sums.get(key, Decimal(0)) + line.debit - line.credit
        return [(entity, id_, diff) for (entity, id_), diff in sums.items() if diff]

    def _net(self, lines: Iterable[GlLine]) -> dict[str, Decimal]:
        net: dict[str, Decimal] = {}
        for line in lines:
            net[line.account_id] = net.get(line.account_id, Decimal(0)) + line.debit - line.credit
        return net

    def _until(self, day: date) -> list[GlLine]:
        return [line for line in self._lines if line.transaction_date <= day]

    def trial_balance(self, as_of: date) -> list[TrialBalanceRow]:
        """Net debit or credit per account of all postings up to ``as_of`` (no year-end close)."""
        rows = []
        for account_id, net in sorted(self._net(self._until(as_of)).items(), key=lambda kv: int(kv[0])):
            zero = Decimal("0.00")
            rows.append(TrialBalanceRow(self.accounts[account_id], max(net, zero), max(-net, zero)))
        return rows

    def account_balances(self, as_of: date | None = None) -> dict[str, Decimal]:
        """Balance-sheet accounts in their natural sign (assets debit, others credit); 0 for P&L accounts,
        as Account.CurrentBalance reports them."""
        net = self._net(self._lines if as_of is None else self._until(as_of))
        found = {}
        for account_id, account in self.accounts.items():
            value = net.get(account_id, Decimal("0.00"))
            if account.classification not in BALANCE_SHEET_CLASSES:
                value = Decimal("0.00")
            found[account_id] = value if account.classification == "Asset" else -value
        return found

    def profit_and_loss_by_month(self) -> dict[str, dict[date, Decimal]]:
        """account id -> first day of month -> amount (revenue positive as income, expenses as cost)."""
        found: dict[str, dict[date, Decimal]] = {}
        for line in self._lines:
            account = self.accounts[line.account_id]
            if account.classification not in {"Revenue", "Expense"}:
                continue
            amount = (
                line.credit - line.debit if account.classification == "Revenue" else line.debit - line.credit
            )
            month = line.transaction_date.replace(day=1)
            months = found.setdefault(line.account_id, {})
            months[month] = months.get(month, Decimal(0)) + amount
        return found

    def net_income(self, start: date, end: date) -> Decimal:
        """Revenue minus expenses of postings dated in [start, end]."""
        total = Decimal("0.00")
        for line in self._lines:
            if start <= line.transaction_date <= end:
                classification = self.accounts[line.account_id].classification
                if classification in {"Revenue", "Expense"}:
                    total += line.credit - line.debit
        return total

    def balance_sheet(self, at_date: date) -> list[BalanceSheetRow]:
        """Balance-sheet accounts with postings up to ``at_date`` in their natural sign; the Retained
        Earnings account also carries prior years' net income, and a Net Income row the current year's, so
        assets = liabilities + equity."""
        net = self._net(self._until(at_date))
        year_start = at_date.replace(month=1, day=1)
        prior = (
            self.net_income(date.min, date(year_start.year - 1, 12, 31))
            if year_start.year > 1
            else Decimal(0)
        )
        retained = next(
            (
                a.id
                for a in sorted(self.accounts.values(), key=lambda a: int(a.id))
                if a.name == "Retained Earnings"
            ),
            None,
        )
        rows = []
        for account_id, account in sorted(self.accounts.items(), key=lambda kv: int(kv[0])):
            if account.classification not in BALANCE_SHEET_CLASSES:
                continue
            if account_id not in net and account_id != retained:
                continue
            value = net.get(account_id, Decimal("0.00"))
            balance = value if account.classification == "Asset" else -value
            if account_id == retained:
                balance += prior
            rows.append(BalanceSheetRow(account_id, account.name, account.classification, balance))
        rows.append(BalanceSheetRow(None, NET_INCOME, "Equity", self.net_income(year_start, at_date)))
        return rows

    def cash_by_bank_account(self, day: date) -> dict[str, Decimal]:
        """Balance of every Bank account at the end of ``day``."""
        net = self._net(self._until(day))
        return {
            a.id: net.get(a.id, Decimal("0.00")) for a in self.accounts.values() if a.account_type == "Bank"
        }

    def party_balances(self, party: str) -> dict[str, Decimal]:
        """Open A/R per customer (``"Customer"``) or open A/P per vendor (``"Vendor"``) from the ledger."""
        kind = "Accounts Receivable" if party == "Customer" else "Accounts Payable"
        found: dict[str, Decimal] = {}
        for line in self._lines:
            who = line.customer_id if party == "Customer" else line.vendor_id
            if who is None or self.accounts[line.account_id].account_type != kind:
                continue
            signed = line.debit - line.credit if party == "Customer" else line.credit - line.debit
            found[who] = found.get(who, Decimal(0)) + signed
        return found

    # ---- aging -------------------------------------------------------------------------------------
    def ar_aging(self, as_of: date) -> list[OpenItem]:
        """Open receivables at ``as_of`` (invoices positive; credit memos, unapplied payments negative)."""
        return self._aging(as_of, "Customer", "CustomerRef", ("Invoice", "Payment", "CreditMemo"))

    def ap_aging(self, as_of: date) -> list[OpenItem]:
        """Open payables at ``as_of`` (bills positive; vendor credits, unapplied bill payments negative)."""
        return self._aging(as_of, "Vendor", "VendorRef", ("Bill", "BillPayment", "VendorCredit"))

    def _aging(self, as_of: date, party: str, party_ref: str, kinds: tuple[str, str, str]) -> list[OpenItem]:
        target, payer, credit = kinds
        docs = [d for d in self.docs if d.day <= as_of]
        open_by_id = {d.body["Id"]: _cents(d.body["TotalAmt"]) for d in docs if d.entity == target}
        items: list[tuple[_Doc, int]] = []
        for doc in docs:
            if doc.entity != payer:
                continue
            unapplied = _cents(doc.body["TotalAmt"])
            for line in doc.body.get("Line") or []:
                for link in line.get("LinkedTxn") or []:
                    if link.get("TxnType") == target and link.get("TxnId") in open_by_id:
                        open_by_id[link["TxnId"]] -= _cents(line["Amount"])
                        unapplied -= _cents(line["Amount"])
                        break
            if unapplied:
                items.append((doc, -unapplied))
        for doc in docs:
            if doc.entity == target and open_by_id[doc.body["Id"]]:
                items.append((doc, open_by_id[doc.body["Id"]]))
            elif doc.entity == credit and _cents(doc.body.get("Balance", doc.body["TotalAmt"])):
                items.append((doc, -_cents(doc.body.get("Balance", doc.body["TotalAmt"]))))
        found = []
        for doc, amount in items:
            due = date.fromisoformat(doc.body["DueDate"]) if doc.body.get("DueDate") else doc.day
            days = max((as_of - due).days, 0)
            who = str(doc.body[party_ref]["value"])
            found.append(
                OpenItem(
                    who, self.names[party].get(who, ""), doc.body["Id"], doc.entity, doc.day, due,
                    _money(amount), days, bucket_of(days),
                )
            )  # fmt: skip
        found.sort(key=lambda i: (i.party_id, i.transaction_date, i.transaction_type, int(i.transaction_id)))
        return found


def _cents(value: Any) -> int:
    return int((Decimal(str(value)) * 100).to_integral_value())
