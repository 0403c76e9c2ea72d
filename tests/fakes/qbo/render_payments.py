"""Bodies of money received: Payment (a base payment settles the invoices of its group, ``links.py``) and
Deposit (undeposited payments and sales receipts of its window, plus direct lines)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fakes.qbo.basics import (
    ACC_AR,
    ACC_CHECKING,
    ACC_PRODUCT_INCOME,
    ACC_SERVICE_INCOME,
    ACC_UNDEPOSITED,
    USD,
    Company,
    mix64,
    money,
    ref,
    rint,
    share,
)
from tests.fakes.qbo.links import (
    CUSTOMER_PAYMENTS,
    Settlement,
    deposited,
    deposited_to_bank,
    group_paid_by,
    paid_members,
    partial_share,
    party_of_group,
)
from tests.fakes.qbo.render_sales import TxnRenderer, header, sales_total

TotalOf = Callable[[int], int]
ACC_INTEREST = 28


def _name_value(name: str, value: str) -> dict[str, Any]:
    return {
        "name": "{http://schema.intuit.com/finance/v3}NameValue",
        "declaredType": "com.intuit.schema.finance.v3.NameValue",
        "scope": "javax.xml.bind.JAXBElement$GlobalScope",
        "value": {"Name": name, "Value": value},
        "nil": False,
        "globalScope": True,
        "typeSubstituted": False,
    }


def payment_lines(company: Company, rule: Settlement, idx: int, total_of: TotalOf) -> list[tuple[int, int]]:
    """(target index, cents) base payer ``idx`` applies, in target order (empty: an unapplied payment)."""
    group = group_paid_by(company, rule, idx)
    if group is None:
        return []
    found = [(target, total_of(target)) for target in paid_members(company, rule, group)]
    percent = partial_share(company, rule, idx) if found else None
    if percent is not None:  # the last one in part, as ``render_sales.application`` says
        last, total = found[-1]
        found[-1] = (last, share(total, percent, 100))
    return found


def unapplied_amount(company: Company, entity: str, idx: int) -> int:
    """Amount of a base payment that pays no document (a prepayment left as a credit)."""
    return 1000 + mix64(company.key(entity, idx) ^ 0x0A) % 199_000


def _invoice_total(company: Company) -> TotalOf:
    return lambda i: sales_total(company, "Invoice", i)


def payment_total(company: Company, idx: int) -> int:
    """TotalAmt in cents of base payment ``idx`` without rendering it (remembered by the ledger)."""
    known = company.totals.get(("Payment", idx))
    if known is not None:
        return known[0]
    lines = payment_lines(company, CUSTOMER_PAYMENTS, idx, _invoice_total(company))
    return sum(c for _, c in lines) if lines else unapplied_amount(company, "Payment", idx)


def payment_core(company: Company, idx: int) -> dict[str, Any]:
    """The fields of payment ``idx`` that post (customer, lines, total, accounts), from its index alone."""
    to_bank = deposited_to_bank(company, "Payment", idx)
    fields: dict[str, Any] = {
        "DepositToAccountRef": ref("Account", ACC_CHECKING if to_bank else ACC_UNDEPOSITED),
        "UnappliedAmt": money(0),
    }
    if company.multi_ar_departments:
        fields["ARAccountRef"] = ref("Account", ACC_AR)
    group = group_paid_by(company, CUSTOMER_PAYMENTS, idx)
    lines = payment_lines(company, CUSTOMER_PAYMENTS, idx, _invoice_total(company))
    if group is not None and lines:
        fields["CustomerRef"] = ref("Customer", party_of_group(company, CUSTOMER_PAYMENTS, group))
        fields["TotalAmt"] = money(sum(cents for _, cents in lines))
        fields["Line"] = [
            {
                "Amount": money(cents),
                "LinkedTxn": [{"TxnId": str(target + 1), "TxnType": "Invoice"}],
                "LineEx": {"any": [_name_value("txnReferenceNumber", str(1001 + target))]},
            }
            for target, cents in lines
        ]
    else:
        amount = money(unapplied_amount(company, "Payment", idx))
        fields["CustomerRef"] = ref("Customer", company.hash_pick("Payment", idx, "Customer"))
        fields.update({"TotalAmt": amount, "UnappliedAmt": amount, "Line": []})
    return fields


def render_payment(company: Company, idx: int, create_ts: int) -> dict[str, Any]:
    rng = company.rng("Payment", idx)
    body: dict[str, Any] = {
        "domain": "QBO",
        "sparse": False,
        "TxnDate": company.clock.date(create_ts),
        "CurrencyRef": USD,
        "PaymentMethodRef": ref("PaymentMethod", company.pick(rng, "PaymentMethod")),
        "PaymentRefNum": str(5000 + idx),
        "ProcessPayment": False,
    }
    department = company.department("Payment", idx)
    if department is not None:
        body["DepartmentRef"] = department
    body.update(payment_core(company, idx))
    return body


def _linked_line(n: int, entity: str, idx: int, cents: int) -> dict[str, Any]:
    return {
        "Id": str(n),
        "LineNum": n,
        "Amount": money(cents),
        "LinkedTxn": [{"TxnId": str(idx + 1), "TxnType": entity, "TxnLineId": "0"}],
    }


def deposit_core(company: Company, idx: int) -> dict[str, Any]:
    """Undeposited payments and sales receipts of its window (``links.deposit_window``), then direct lines
    (other income, customer deposits) credited to their own accounts; from the index alone."""
    rng = company.lines_rng("Deposit", idx)
    lines: list[dict[str, Any]] = []
    total = 0
    for payment in deposited(company, "Payment", idx):
        cents = payment_total(company, payment)
        lines.append(_linked_line(len(lines) + 1, "Payment", payment, cents))
        total += cents
    for receipt in deposited(company, "SalesReceipt", idx):
        cents = sales_total(company, "SalesReceipt", receipt)
        lines.append(_linked_line(len(lines) + 1, "SalesReceipt", receipt, cents))
        total += cents
    direct = rint(rng, 1, 3) if not lines else (1 if rng.random() < 0.3 else 0)
    for _ in range(direct):
        n = len(lines) + 1
        amount = rint(rng, 500, 300_000)
        customer = company.pick(rng, "Customer")
        account = (ACC_SERVICE_INCOME, ACC_PRODUCT_INCOME, ACC_INTEREST)[int(rng.random() * 3)]
        lines.append(
            {
                "Id": str(n),
                "LineNum": n,
                "Amount": money(amount),
                "DetailType": "DepositLineDetail",
                "DepositLineDetail": {
                    "Entity": {**ref("Customer", customer), "type": "CUSTOMER"},
                    "AccountRef": ref("Account", account),
                    "PaymentMethodRef": ref("PaymentMethod", company.pick(rng, "PaymentMethod")),
                },
            }
        )
        total += amount
    return {"DepositToAccountRef": ref("Account", ACC_CHECKING), "Line": lines, "TotalAmt": money(total)}


def render_deposit(company: Company, idx: int, create_ts: int) -> dict[str, Any]:
    body = header(company, company.rng("Deposit", idx), "Deposit", idx, create_ts)
    del body["DocNumber"]
    body.update(deposit_core(company, idx))
    return body


PAYMENT_RENDERERS: dict[str, TxnRenderer] = {
    "Payment": render_payment,
    "Deposit": render_deposit,
}
