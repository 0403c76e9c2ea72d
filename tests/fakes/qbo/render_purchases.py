"""Bodies of the purchase-side and general-ledger transactions: Bill, BillPayment, Purchase, PurchaseOrder,
VendorCredit, JournalEntry and Transfer.

Invariants (pinned by tests): TotalAmt == sum of Line amounts; a base bill payment pays the bills of its group
(``links.py``) and a bill's Balance is TotalAmt minus what it was paid; a bill's vendor is its group's and its
DueDate follows the vendor's terms; journal entry debits == credits.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.qbo.basics import (
    ACC_AP,
    ACC_CARD,
    ACC_CHECKING,
    ACC_EQUITY,
    ACC_SAVINGS,
    ACCOUNTS,
    EXPENSE_ACCOUNTS,
    TERMS,
    USD,
    Company,
    Stream,
    item_price,
    money,
    ref,
    rint,
    share,
)
from tests.fakes.qbo.links import BILL_PAYMENTS, group_paid_by, party_of_group, party_of_target, term_of
from tests.fakes.qbo.render_payments import payment_lines, unapplied_amount
from tests.fakes.qbo.render_sales import DAY, TxnRenderer, application


def _expense_account(company: Company, rng: Stream) -> int:
    choices = len(EXPENSE_ACCOUNTS) + company.extra_expense_accounts
    pick = rint(rng, choices)
    return (
        EXPENSE_ACCOUNTS[pick]
        if pick < len(EXPENSE_ACCOUNTS)
        else len(ACCOUNTS) + pick - len(EXPENSE_ACCOUNTS)
    )


ExpenseSpec = tuple[bool, int, int, int, int]  # item based, item or account, qty or cents, customer, class


def expense_plan(company: Company, rng: Stream, items_allowed: bool = True) -> list[ExpenseSpec]:
    """1-3 expense lines: item-based (about one in three) or account-based, drawn before any is built."""
    plan: list[ExpenseSpec] = []
    for _ in range(1, rint(rng, 2, 5)):
        if items_allowed and rng.random() < 0.35:
            item = company.pick(rng, "Item")
            plan.append((True, item, rint(rng, 1, 20), -1, -1))
        else:
            amount = rint(rng, 1000, 250_000)
            account = _expense_account(company, rng)
            customer = company.pick(rng, "Customer") if rng.random() < 0.2 else -1
            class_idx = company.pick(rng, "Class") if rng.random() < 0.3 else -1
            plan.append((False, account, amount, customer, class_idx))
    return plan


def item_cost(company: Company, item: int) -> int:
    """What the company pays for one unit of ``item`` (60 % of its price)."""
    return share(item_price(company, item), 6, 10)


def expense_amount(company: Company, spec: ExpenseSpec) -> int:
    item_based, what, amount, _, _ = spec
    return item_cost(company, what) * amount if item_based else amount


def expense_lines(
    company: Company, rng: Stream, items_allowed: bool = True
) -> tuple[list[dict[str, Any]], int]:
    """The lines of ``expense_plan`` and their sum in cents."""
    lines: list[dict[str, Any]] = []
    total = 0
    for n, spec in enumerate(expense_plan(company, rng, items_allowed), start=1):
        item_based, what, qty_or_amount, customer, class_idx = spec
        amount = expense_amount(company, spec)
        if item_based:
            line: dict[str, Any] = {
                "Id": str(n),
                "LineNum": n,
                "Description": f"Restock {ref('Item', what)['name']}",
                "Amount": money(amount),
                "DetailType": "ItemBasedExpenseLineDetail",
                "ItemBasedExpenseLineDetail": {
                    "BillableStatus": "NotBillable",
                    "ItemRef": ref("Item", what),
                    "UnitPrice": money(item_cost(company, what)),
                    "Qty": qty_or_amount,
                    "TaxCodeRef": {"value": "NON"},
                },
            }
        else:
            detail: dict[str, Any] = {
                "AccountRef": ref("Account", what),
                "BillableStatus": "NotBillable",
                "TaxCodeRef": {"value": "NON"},
            }
            if customer >= 0:
                detail["CustomerRef"] = ref("Customer", customer)
                detail["BillableStatus"] = "Billable"
            if class_idx >= 0:
                detail["ClassRef"] = ref("Class", class_idx)
            line = {
                "Id": str(n),
                "LineNum": n,
                "Amount": money(amount),
                "DetailType": "AccountBasedExpenseLineDetail",
                "AccountBasedExpenseLineDetail": detail,
            }
        lines.append(line)
        total += amount
    return lines, total


def _header(company: Company, rng: Stream, entity: str, idx: int, create_ts: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "domain": "QBO",
        "sparse": False,
        "DocNumber": f"{entity[:2].upper()}-{idx + 1}",
        "TxnDate": company.clock.date(create_ts),
        "CurrencyRef": USD,
        "LinkedTxn": [],
    }
    if rng.random() < 0.25:
        body["PrivateNote"] = f"{entity} memo {idx + 1}"
    department = company.department(entity, idx)
    if department is not None:
        body["DepartmentRef"] = department
    return body


def bill_total(company: Company, idx: int) -> int:
    """TotalAmt in cents of base bill ``idx`` without rendering it (remembered)."""
    known = company.totals.get(("Bill", idx))
    if known is None:
        total = expense_lines(company, company.lines_rng("Bill", idx))[1]
        company.remember_total("Bill", idx, total, {})
        return total
    return known[0]


def bill_core(company: Company, idx: int) -> tuple[dict[str, Any], int, int]:
    """(posting fields, total cents, vendor index) of bill ``idx``, from its index alone."""
    vendor = party_of_target(company, BILL_PAYMENTS, idx)
    lines, total = expense_lines(company, company.lines_rng("Bill", idx))
    if idx < company.counts["Bill"]:
        company.remember_total("Bill", idx, total, {})
    fields = {
        "VendorRef": ref("Vendor", vendor),
        "APAccountRef": ref("Account", ACC_AP),
        "Line": lines,
        "TotalAmt": money(total),
    }
    return fields, total, vendor


def _bill(company: Company, idx: int, create_ts: int) -> tuple[dict[str, Any], int]:
    rng = company.rng("Bill", idx)
    body = _header(company, rng, "Bill", idx, create_ts)
    fields, total, vendor = bill_core(company, idx)
    term = term_of(company, "Vendor", vendor)
    body.update(fields)
    body.update(
        {
            "SalesTermRef": ref("Term", term),
            "DueDate": company.clock.date(create_ts + TERMS[term][1] * DAY),
            "Balance": money(total),
        }
    )
    paid = application(company, BILL_PAYMENTS, idx, total)
    if paid is not None:
        body["Balance"] = money(total - paid[1])
        kind = "BillPaymentCreditCard" if bill_paid_by_card(company, paid[0]) else "BillPaymentCheck"
        body["LinkedTxn"] = [{"TxnId": str(paid[0] + 1), "TxnType": kind}]
    company.remember_total("Bill", idx, total, {})
    return body, total


def bill_paid_by_card(company: Company, idx: int) -> bool:
    """Whether bill payment ``idx`` is a credit-card payment (one in four) rather than a check."""
    return (company.key("BillPayment", idx) >> 7) % 4 == 0


def render_bill(company: Company, idx: int, create_ts: int) -> dict[str, Any]:
    return _bill(company, idx, create_ts)[0]


def bill_payment_core(company: Company, idx: int) -> dict[str, Any]:
    """The posting fields of bill payment ``idx`` (vendor, lines, total, accounts), from its index alone."""
    group = group_paid_by(company, BILL_PAYMENTS, idx)
    paid = payment_lines(company, BILL_PAYMENTS, idx, lambda i: bill_total(company, i))
    if group is not None and paid:
        amount = money(sum(cents for _, cents in paid))
        vendor_ref = ref("Vendor", party_of_group(company, BILL_PAYMENTS, group))
        lines = [
            {"Amount": money(cents), "LinkedTxn": [{"TxnId": str(bill + 1), "TxnType": "Bill"}]}
            for bill, cents in paid
        ]
    else:
        amount = money(unapplied_amount(company, "BillPayment", idx))
        vendor_ref = ref("Vendor", company.hash_pick("BillPayment", idx, "Vendor"))
        lines = []
    by_card = bill_paid_by_card(company, idx)
    fields: dict[str, Any] = {
        "VendorRef": vendor_ref,
        "APAccountRef": ref("Account", ACC_AP),
        "PayType": "CreditCard" if by_card else "Check",
        "Line": lines,
        "TotalAmt": amount,
    }
    if by_card:
        fields["CreditCardPayment"] = {"CCAccountRef": ref("Account", ACC_CARD)}
    else:
        fields["CheckPayment"] = {"BankAccountRef": ref("Account", ACC_CHECKING), "PrintStatus": "NotSet"}
    return fields


def render_bill_payment(company: Company, idx: int, create_ts: int) -> dict[str, Any]:
    body = _header(company, company.rng("BillPayment", idx), "BillPayment", idx, create_ts)
    body.update(bill_payment_core(company, idx))
    return body


def purchase_core(company: Company, idx: int) -> dict[str, Any]:
    """The posting fields of purchase ``idx`` (payment type, paying account, lines, total)."""
    rng = company.lines_rng("Purchase", idx)
    kind = rng.choice(("Cash", "Check", "CreditCard"))
    lines, total = expense_lines(company, rng)
    return {
        "PaymentType": kind,
        "AccountRef": ref("Account", ACC_CARD if kind == "CreditCard" else ACC_CHECKING),
        "EntityRef": {**ref("Vendor", company.hash_pick("Purchase", idx, "Vendor")), "type": "Vendor"},
        "Credit": False,
        "Line": lines,
        "TotalAmt": money(total),
    }


def render_purchase(company: Company, idx: int, create_ts: int) -> dict[str, Any]:
    body = _header(company, company.rng("Purchase", idx), "Purchase", idx, create_ts)
    body.update(purchase_core(company, idx))
    body["PurchaseEx"] = {"any": []}
    if body["PaymentType"] != "Check":
        del body["DocNumber"]
    return body


def render_purchase_order(company: Company, idx: int, create_ts: int) -> dict[str, Any]:
    rng = company.rng("PurchaseOrder", idx)
    body = _header(company, rng, "PurchaseOrder", idx, create_ts)
    lines, total = expense_lines(company, rng)
    body.update(
        {
            "VendorRef": ref("Vendor", company.pick(rng, "Vendor")),
            "APAccountRef": ref("Account", ACC_AP),
            "POStatus": "Closed" if rng.random() < 0.5 else "Open",
            "EmailStatus": "NotSet",
            "Line": lines,
            "TotalAmt": money(total),
        }
    )
    return body


def vendor_credit_core(company: Company, idx: int) -> dict[str, Any]:
    """The posting fields of vendor credit ``idx`` (vendor, lines, total)."""
    lines, total = expense_lines(company, company.lines_rng("VendorCredit", idx), items_allowed=False)
    return {
        "VendorRef": ref("Vendor", company.hash_pick("VendorCredit", idx, "Vendor")),
        "APAccountRef": ref("Account", ACC_AP),
        "Line": lines,
        "TotalAmt": money(total),
    }


def render_vendor_credit(company: Company, idx: int, create_ts: int) -> dict[str, Any]:
    body = _header(company, company.rng("VendorCredit", idx), "VendorCredit", idx, create_ts)
    body.update(vendor_credit_core(company, idx))
    body["Balance"] = body["TotalAmt"]
    return body


def journal_core(company: Company, idx: int) -> dict[str, Any]:
    """The lines of journal entry ``idx`` (debits to expenses, credits to the bank or equity) and total."""
    rng = company.lines_rng("JournalEntry", idx)
    debits = [rint(rng, 1000, 500_000) for _ in range(rint(rng, 1, 4))]
    total = sum(debits)
    half = share(total, 1, 2)
    credit_split = [half, total - half] if rng.random() < 0.3 else [total]
    lines: list[dict[str, Any]] = []
    postings = [("Debit", amount) for amount in debits] + [("Credit", amount) for amount in credit_split]
    for n, (posting, amount) in enumerate(postings):
        account = (
            _expense_account(company, rng) if posting == "Debit" else rng.choice((ACC_CHECKING, ACC_EQUITY))
        )
        detail: dict[str, Any] = {"PostingType": posting, "AccountRef": ref("Account", account)}
        if rng.random() < 0.2:
            detail["ClassRef"] = ref("Class", company.pick(rng, "Class"))
        department = company.department("JournalEntry", idx)
        if department is not None:
            detail["DepartmentRef"] = department
        lines.append(
            {
                "Id": str(n),
                "Description": f"{posting} {account + 1}",
                "Amount": money(amount),
                "DetailType": "JournalEntryLineDetail",
                "JournalEntryLineDetail": detail,
            }
        )
    return {"Line": lines, "TotalAmt": money(total)}


def render_journal_entry(company: Company, idx: int, create_ts: int) -> dict[str, Any]:
    rng = company.rng("JournalEntry", idx)
    body = _header(company, rng, "JournalEntry", idx, create_ts)
    body.update(journal_core(company, idx))
    body["Adjustment"] = rng.random() < 0.1
    return body


def transfer_core(company: Company, idx: int) -> dict[str, Any]:
    """The accounts and amount of transfer ``idx`` (between checking and savings)."""
    rng = company.lines_rng("Transfer", idx)
    forward = rng.random() < 0.5
    return {
        "FromAccountRef": ref("Account", ACC_CHECKING if forward else ACC_SAVINGS),
        "ToAccountRef": ref("Account", ACC_SAVINGS if forward else ACC_CHECKING),
        "Amount": money(rint(rng, 10_000, 1_000_000)),
    }


def render_transfer(company: Company, idx: int, create_ts: int) -> dict[str, Any]:
    body = _header(company, company.rng("Transfer", idx), "Transfer", idx, create_ts)
    del body["DocNumber"]
    body.update(transfer_core(company, idx))
    return body


PURCHASE_RENDERERS: dict[str, TxnRenderer] = {
    "Bill": render_bill,
    "BillPayment": render_bill_payment,
    "Purchase": render_purchase,
    "PurchaseOrder": render_purchase_order,
    "VendorCredit": render_vendor_credit,
    "JournalEntry": render_journal_entry,
    "Transfer": render_transfer,
}
