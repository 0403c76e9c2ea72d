"""How each QBO document posts to the general ledger: one document body in, its debit/credit lines out.

The simulator's live balances (``books.py``) and the ground truth (``ground_truth.py``) both read documents
through these rules, so they say once what a document means to the books (amounts in integer cents,
``amount`` > 0 a debit, < 0 a credit):

- Invoice: debit A/R TotalAmt and DiscountAccountRef per discount line; credit each sales item line (bundles
  unpacked) to its Item's IncomeAccountRef and TotalTax to sales tax payable.
- SalesReceipt: as Invoice, with DepositToAccountRef instead of A/R.
- CreditMemo / RefundReceipt: the mirror image of Invoice / SalesReceipt.
- Payment: debit DepositToAccountRef (default Undeposited Funds), credit ARAccountRef (default A/R), TotalAmt.
- Deposit: debit DepositToAccountRef TotalAmt and CashBack.AccountRef; credit linked lines (LinkedTxn) to
  Undeposited Funds and other lines to their DepositLineDetail.AccountRef.
- Bill: debit AccountBasedExpenseLineDetail.AccountRef or the ItemBasedExpenseLineDetail Item's
  ExpenseAccountRef; credit APAccountRef (default A/P) TotalAmt. VendorCredit: the mirror image.
- BillPayment: debit APAccountRef (default A/P); credit CheckPayment.BankAccountRef or
  CreditCardPayment.CCAccountRef; TotalAmt.
- Purchase: debit expense lines as Bill, credit AccountRef TotalAmt (``Credit: true`` mirrors it).
- Transfer: debit ToAccountRef, credit FromAccountRef, Amount. JournalEntry: its Debit and Credit lines.

Default accounts are found by type in the chart: A/R and A/P the lowest-Id account of type Accounts
Receivable / Accounts Payable, Undeposited Funds and sales tax payable by AccountSubType. Estimates and
purchase orders do not post. A/R and A/P lines carry the customer or vendor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import orjson

POSTING_ENTITIES: Final = (
    "Bill",
    "BillPayment",
    "CreditMemo",
    "Deposit",
    "Invoice",
    "JournalEntry",
    "Payment",
    "Purchase",
    "RefundReceipt",
    "SalesReceipt",
    "Transfer",
    "VendorCredit",
)


@dataclass(frozen=True)
class Posting:
    """One general-ledger line of a document: ``amount`` cents, debit positive."""

    line_id: str
    account_id: str
    amount: int
    customer_id: str | None = None
    vendor_id: str | None = None


@dataclass(frozen=True)
class Chart:
    """What the rules need to know about a company's chart and items."""

    ar: str
    ap: str
    undeposited: str
    sales_tax: str
    item_income: Callable[[str], str]
    item_expense: Callable[[str], str]

    @staticmethod
    def from_records(accounts: Sequence[Mapping[str, Any]], items: Sequence[Mapping[str, Any]]) -> Chart:
        """The chart as the Account and Item records describe it."""

        def lowest(test: Callable[[Mapping[str, Any]], bool]) -> str:
            ids = sorted((int(a["Id"]) for a in accounts if test(a)), key=int)
            if not ids:
                raise ValueError("the chart lacks a default account; add one of the expected type")
            return str(ids[0])

        income = {str(i["Id"]): str(i["IncomeAccountRef"]["value"]) for i in items if "IncomeAccountRef" in i}
        expense = {
            str(i["Id"]): str(i["ExpenseAccountRef"]["value"]) for i in items if "ExpenseAccountRef" in i
        }
        return Chart(
            ar=lowest(lambda a: a["AccountType"] == "Accounts Receivable"),
            ap=lowest(lambda a: a["AccountType"] == "Accounts Payable"),
            undeposited=lowest(lambda a: a.get("AccountSubType") == "UndepositedFunds"),
            sales_tax=lowest(lambda a: a.get("AccountSubType") == "SalesTaxPayable"),
            item_income=income.__getitem__,
            item_expense=expense.__getitem__,
        )


def cents(value: Any) -> int:
    """Integer cents of a JSON amount (Decimal, orjson fragment, int or text); no float arithmetic."""
    if isinstance(value, orjson.Fragment):
        return _fragment_cents(orjson.dumps(value))
    if isinstance(value, float):
        value = repr(value)  # a caller's float, read as the shortest text that round-trips
    scaled = Decimal(str(value)).scaleb(2)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"amount {value} has more than two decimals")
    return int(scaled)


def _fragment_cents(text: bytes) -> int:
    """Cents of the simulator's own ``money`` text (``-12.30``): integer parsing, several times faster."""
    whole, _, frac = text.partition(b".")
    if len(frac) > 2:
        raise ValueError(f"amount {text.decode()} has more than two decimals")
    sign = -1 if whole.startswith(b"-") else 1
    return sign * (abs(int(whole)) * 100 + int(frac.ljust(2, b"0") or b"0"))


def _ref(body: Mapping[str, Any], name: str) -> str | None:
    found = body.get(name)
    return str(found["value"]) if isinstance(found, Mapping) and "value" in found else None


def sales_item_lines(lines: list[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    """Sales item lines, those inside bundles (GroupLineDetail) included."""
    for line in lines:
        if line.get("DetailType") == "SalesItemLineDetail":
            yield line
        elif line.get("DetailType") == "GroupLineDetail":
            yield from sales_item_lines(line["GroupLineDetail"].get("Line", []))


def _sales(body: Mapping[str, Any], chart: Chart, debit_account: str, customer: str | None) -> list[Posting]:
    lines = body.get("Line", [])
    found = [Posting("header", debit_account, cents(body.get("TotalAmt", 0)), customer_id=customer)]
    for line in sales_item_lines(lines):
        item = _ref(line["SalesItemLineDetail"], "ItemRef")
        account = chart.item_income(item) if item else _ref(line["SalesItemLineDetail"], "ItemAccountRef")
        found.append(Posting(str(line.get("Id", "")), str(account), -cents(line.get("Amount", 0))))
    for line in lines:
        if line.get("DetailType") == "DiscountLineDetail":
            account = _ref(line["DiscountLineDetail"], "DiscountAccountRef")
            found.append(Posting(str(line.get("Id", "discount")), str(account), cents(line.get("Amount", 0))))
    tax = cents(body.get("TxnTaxDetail", {}).get("TotalTax", 0))
    if tax:
        found.append(Posting("tax", chart.sales_tax, -tax))
    return found


def _expenses(body: Mapping[str, Any], chart: Chart, vendor: str | None) -> list[Posting]:
    found: list[Posting] = []
    for line in body.get("Line", []):
        kind = line.get("DetailType")
        if kind == "AccountBasedExpenseLineDetail":
            account = _ref(line[kind], "AccountRef")
        elif kind == "ItemBasedExpenseLineDetail":
            account = chart.item_expense(str(_ref(line[kind], "ItemRef")))
        else:
            continue
        found.append(
            Posting(str(line.get("Id", "")), str(account), cents(line.get("Amount", 0)), vendor_id=vendor)
        )
    return found


def _mirror(postings: list[Posting]) -> list[Posting]:
    return [Posting(p.line_id, p.account_id, -p.amount, p.customer_id, p.vendor_id) for p in postings]


def postings(entity: str, body: Mapping[str, Any], chart: Chart) -> list[Posting]:
    """The general-ledger lines of one document (empty for documents that do not post)."""
    total = cents(body.get("TotalAmt", 0)) if "TotalAmt" in body else 0
    customer, vendor = _ref(body, "CustomerRef"), _ref(body, "VendorRef")
    if entity == "Invoice":
        return _sales(body, chart, chart.ar, customer)
    if entity == "CreditMemo":
        return _mirror(_sales(body, chart, chart.ar, customer))
    if entity == "SalesReceipt":
        return _sales(body, chart, _ref(body, "DepositToAccountRef") or chart.undeposited, None)
    if entity == "RefundReceipt":
        return _mirror(_sales(body, chart, _ref(body, "DepositToAccountRef") or chart.undeposited, None))
    if entity == "Payment":
        return [
            Posting("header", _ref(body, "DepositToAccountRef") or chart.undeposited, total),
            Posting("ar", _ref(body, "ARAccountRef") or chart.ar, -total, customer_id=customer),
        ]
    if entity == "Deposit":
        return _deposit(body, chart, total)
    if entity in {"Bill", "VendorCredit"}:
        payable = Posting("header", _ref(body, "APAccountRef") or chart.ap, -total, vendor_id=vendor)
        found = [payable, *_expenses(body, chart, None)]
        return found if entity == "Bill" else _mirror(found)
    if entity == "BillPayment":
        paid_from = _ref(body.get("CheckPayment", {}), "BankAccountRef") or _ref(
            body.get("CreditCardPayment", {}), "CCAccountRef"
        )
        return [
            Posting("ap", _ref(body, "APAccountRef") or chart.ap, total, vendor_id=vendor),
            Posting("header", str(paid_from), -total),
        ]
    if entity == "Purchase":
        found = [Posting("header", str(_ref(body, "AccountRef")), -total), *_expenses(body, chart, None)]
        return _mirror(found) if body.get("Credit") else found
    if entity == "Transfer":
        amount = cents(body.get("Amount", 0))
        return [
            Posting("to", str(_ref(body, "ToAccountRef")), amount),
            Posting("from", str(_ref(body, "FromAccountRef")), -amount),
        ]
    if entity == "JournalEntry":
        return _journal(body)
    return []


def _deposit(body: Mapping[str, Any], chart: Chart, total: int) -> list[Posting]:
    found = [Posting("header", str(_ref(body, "DepositToAccountRef")), total)]
    for line in body.get("Line", []):
        amount = cents(line.get("Amount", 0))
        if line.get("LinkedTxn"):
            found.append(Posting(str(line.get("Id", "")), chart.undeposited, -amount))
        else:
            detail = line.get("DepositLineDetail", {})
            entity = detail.get("Entity") or {}
            customer = str(entity["value"]) if str(entity.get("type", "")).upper() == "CUSTOMER" else None
            account = str(_ref(detail, "AccountRef"))
            found.append(Posting(str(line.get("Id", "")), account, -amount, customer_id=customer))
    cash_back = body.get("CashBack")
    if cash_back:
        found.append(
            Posting("cashback", str(_ref(cash_back, "AccountRef")), cents(cash_back.get("Amount", 0)))
        )
    return found


def _journal(body: Mapping[str, Any]) -> list[Posting]:
    found: list[Posting] = []
    for line in body.get("Line", []):
        detail = line.get("JournalEntryLineDetail", {})
        amount = cents(line.get("Amount", 0))
        entity = detail.get("Entity") or {}
        party_ref = entity.get("EntityRef") or {}
        party = str(party_ref["value"]) if "value" in party_ref else None
        kind = str(entity.get("Type", ""))
        found.append(
            Posting(
                str(line.get("Id", "")),
                str(_ref(detail, "AccountRef")),
                amount if detail.get("PostingType") == "Debit" else -amount,
                customer_id=party if kind == "Customer" else None,
                vendor_id=party if kind == "Vendor" else None,
            )
        )
    return found
