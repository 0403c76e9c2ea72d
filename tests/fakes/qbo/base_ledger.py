"""The postings of a base (never written) document straight from its line plan, without building its body.

Summing a company's ledger on the first balance read must stay cheap at a million records. The renderers
draw a document's lines as a plan first (``sales_plan``, ``expense_plan``) and build the JSON from it; this
module posts from the same plans and the same counterparties, following the rules of ``postings.py``.
Documents that are few or cheap (deposits, journal entries, transfers) go through their posting fields and
``postings`` itself. ``tests/fakes_tests/test_books.py`` checks the sums against the ground truth, which reads
the rendered documents.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable

from tests.fakes.qbo.basics import (
    ACC_AP,
    ACC_AR,
    ACC_CARD,
    ACC_CHECKING,
    ACC_DISCOUNTS,
    ACC_UNDEPOSITED,
    Company,
)
from tests.fakes.qbo.links import (
    BILL_PAYMENTS,
    CUSTOMER_PAYMENTS,
    Settlement,
    deposited_to_bank,
    group_paid_by,
    party_of_group,
    party_of_target,
)
from tests.fakes.qbo.postings import Chart, Posting, postings
from tests.fakes.qbo.render import posting_fields
from tests.fakes.qbo.render_payments import payment_lines, unapplied_amount
from tests.fakes.qbo.render_purchases import bill_paid_by_card, expense_amount, expense_plan
from tests.fakes.qbo.render_sales import customer_of, plan_totals, sales_plan, sales_total

#: Build order: documents whose totals later ones need come first.
ORDER = (
    "Invoice", "SalesReceipt", "Bill", "Payment", "Deposit", "BillPayment", "CreditMemo", "RefundReceipt",
    "VendorCredit", "Purchase", "JournalEntry", "Transfer",
)  # fmt: skip
_MIRRORED = frozenset({"CreditMemo", "RefundReceipt", "VendorCredit"})


class BaseLedger:
    """Posts base documents of one company; remembers invoice and bill totals (8 bytes each) on the way,
    and payment and sales receipt totals in the company's bounded total cache for the deposits."""

    def __init__(self, company: Company, chart: Chart) -> None:
        self.company = company
        self.chart = chart
        kinds = ("Invoice", "Bill", "SalesReceipt")
        self.totals = {entity: array("q", [-1]) * company.counts[entity] for entity in kinds}
        self._accounts = {i: str(i + 1) for i in range(company.counts["Account"])}

    def _total_of(self, entity: str) -> Callable[[int], int]:
        known = self.totals[entity]

        def total(idx: int) -> int:
            value = known[idx]
            if value < 0:
                value = known[idx] = (
                    sales_total(self.company, entity, idx) if entity != "Bill" else self._bill(idx)[1]
                )
            return value

        return total

    def postings(self, entity: str, idx: int) -> list[Posting]:
        """The general-ledger lines of base document ``idx``, as ``postings.postings`` would post it."""
        if entity in {"Invoice", "CreditMemo", "SalesReceipt", "RefundReceipt"}:
            found = self._sales(entity, idx)
        elif entity in {"Bill", "VendorCredit", "Purchase"}:
            found = self._expenses(entity, idx)
        elif entity == "Payment":
            found = self._payment(idx)
        elif entity == "BillPayment":
            found = self._bill_payment(idx)
        else:
            return postings(entity, posting_fields(self.company, entity, idx), self.chart)
        if entity in _MIRRORED:
            return [Posting(p.line_id, p.account_id, -p.amount, p.customer_id, p.vendor_id) for p in found]
        return found

    def _sales(self, entity: str, idx: int) -> list[Posting]:
        company, chart = self.company, self.chart
        plan = sales_plan(company, company.lines_rng(entity, idx))
        subtotal, discount, _, tax = plan_totals(company, plan)
        total = subtotal - discount + tax
        if entity in self.totals:
            self.totals[entity][idx] = total
        if entity == "SalesReceipt":  # for the deposits that take it
            company.remember_total(entity, idx, total, {})
        if entity in {"Invoice", "CreditMemo"}:
            customer = str(customer_of(company, entity, idx) + 1)
            header = Posting("header", chart.ar, total, customer_id=customer)
        elif entity == "SalesReceipt":
            to_bank = deposited_to_bank(company, entity, idx)
            header = Posting("header", self._accounts[ACC_CHECKING if to_bank else ACC_UNDEPOSITED], total)
        else:
            header = Posting("header", self._accounts[ACC_CHECKING], total)
        found = [header]
        for item, qty, _, _ in plan.items + plan.group:
            amount = company.prices[item] * qty  # plan_totals priced every item
            found.append(Posting("", chart.item_income(str(item + 1)), -amount))
        if discount:
            found.append(Posting("discount", self._accounts[ACC_DISCOUNTS], discount))
        if tax:
            found.append(Posting("tax", chart.sales_tax, -tax))
        return found

    def _bill(self, idx: int) -> tuple[list[Posting], int]:
        company = self.company
        plan = expense_plan(company, company.lines_rng("Bill", idx))
        return self._expense_lines(plan), sum(expense_amount(company, spec) for spec in plan)

    def _expense_lines(self, plan: list[tuple[bool, int, int, int, int]]) -> list[Posting]:
        found = []
        for spec in plan:
            item_based, what = spec[0], spec[1]
            account = self.chart.item_expense(str(what + 1)) if item_based else self._accounts[what]
            found.append(Posting("", account, expense_amount(self.company, spec)))
        return found

    def _expenses(self, entity: str, idx: int) -> list[Posting]:
        company = self.company
        if entity == "Bill":
            lines, total = self._bill(idx)
            self.totals["Bill"][idx] = total
            vendor = party_of_target(company, BILL_PAYMENTS, idx)
            return [Posting("header", self._accounts[ACC_AP], -total, vendor_id=str(vendor + 1)), *lines]
        rng = company.lines_rng(entity, idx)
        if entity == "Purchase":
            kind = rng.choice(("Cash", "Check", "CreditCard"))
            plan = expense_plan(company, rng)
            paid_from = self._accounts[ACC_CARD if kind == "CreditCard" else ACC_CHECKING]
            total = sum(expense_amount(company, spec) for spec in plan)
            return [Posting("header", paid_from, -total), *self._expense_lines(plan)]
        plan = expense_plan(company, rng, items_allowed=False)
        total = sum(expense_amount(company, spec) for spec in plan)
        vendor = company.hash_pick(entity, idx, "Vendor") + 1
        payable = Posting("header", self._accounts[ACC_AP], -total, vendor_id=str(vendor))
        return [payable, *self._expense_lines(plan)]

    def _settled(self, rule: Settlement, idx: int) -> tuple[int, int]:
        """(TotalAmt cents, customer or vendor index) of base payer ``idx``, as its renderer decides."""
        company = self.company
        lines = payment_lines(company, rule, idx, self._total_of(rule.target))
        group = group_paid_by(company, rule, idx)
        if group is not None and lines:
            return sum(cents for _, cents in lines), party_of_group(company, rule, group)
        return unapplied_amount(company, rule.payer, idx), company.hash_pick(rule.payer, idx, rule.party)

    def _payment(self, idx: int) -> list[Posting]:
        company = self.company
        total, customer = self._settled(CUSTOMER_PAYMENTS, idx)
        company.remember_total("Payment", idx, total, {})  # for the deposit that takes it
        to_bank = deposited_to_bank(company, "Payment", idx)
        return [
            Posting("header", self._accounts[ACC_CHECKING if to_bank else ACC_UNDEPOSITED], total),
            Posting("ar", self._accounts[ACC_AR], -total, customer_id=str(customer + 1)),
        ]

    def _bill_payment(self, idx: int) -> list[Posting]:
        total, vendor = self._settled(BILL_PAYMENTS, idx)
        paid_from = ACC_CARD if bill_paid_by_card(self.company, idx) else ACC_CHECKING
        return [
            Posting("ap", self._accounts[ACC_AP], total, vendor_id=str(vendor + 1)),
            Posting("header", self._accounts[paid_from], -total),
        ]
