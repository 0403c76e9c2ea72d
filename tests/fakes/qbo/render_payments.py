"""Bodies of money received: Payment (base payment ``j`` settles base invoice ``j``) and Deposit."""

from __future__ import annotations

from typing import Any

from tests.fakes.qbo.basics import (
    ACC_CHECKING,
    ACC_PRODUCT_INCOME,
    ACC_SERVICE_INCOME,
    ACC_UNDEPOSITED,
    USD,
    Company,
    money,
    ref,
    rint,
)
from tests.fakes.qbo.render_sales import TxnRenderer, header, invoice_with_lines, payment_applied


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


def render_payment(company: Company, idx: int, create_ts: int) -> dict[str, Any]:
    rng = company.rng("Payment", idx)
    body: dict[str, Any] = {
        "domain": "QBO",
        "sparse": False,
        "TxnDate": company.clock.date(create_ts),
        "CurrencyRef": USD,
        "DepositToAccountRef": ref("Account", ACC_UNDEPOSITED),
        "PaymentMethodRef": ref("PaymentMethod", company.pick(rng, "PaymentMethod")),
        "PaymentRefNum": str(5000 + idx),
        "ProcessPayment": False,
        "UnappliedAmt": money(0),
    }
    if idx < min(company.counts["Payment"], company.counts["Invoice"]):
        known = company.totals.get(("Invoice", idx))
        if known is None:
            invoice, sales = invoice_with_lines(company, idx, create_ts)
            known = (sales.total, invoice["CustomerRef"])
        total, customer_ref = known
        applied = money(payment_applied(company, idx, total))
        body["CustomerRef"] = customer_ref
        body["TotalAmt"] = applied
        body["Line"] = [
            {
                "Amount": applied,
                "LinkedTxn": [{"TxnId": str(idx + 1), "TxnType": "Invoice"}],
                "LineEx": {"any": [_name_value("txnReferenceNumber", str(1001 + idx))]},
            }
        ]
    else:
        amount = money(rint(rng, 1000, 200_000))
        body.update(
            {
                "CustomerRef": ref("Customer", company.pick(rng, "Customer")),
                "TotalAmt": amount,
                "UnappliedAmt": amount,
                "Line": [],
            }
        )
    return body


def render_deposit(company: Company, idx: int, create_ts: int) -> dict[str, Any]:
    rng = company.rng("Deposit", idx)
    body = header(company, rng, "Deposit", idx, create_ts)
    del body["DocNumber"]
    lines: list[dict[str, Any]] = []
    total = 0
    for n in range(1, rint(rng, 2, 4)):
        amount = rint(rng, 500, 300_000)
        customer = company.pick(rng, "Customer")
        account = (ACC_SERVICE_INCOME, ACC_PRODUCT_INCOME, 28)[int(rng.random() * 3)]
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
    body.update(
        {"DepositToAccountRef": ref("Account", ACC_CHECKING), "Line": lines, "TotalAmt": money(total)}
    )
    return body


PAYMENT_RENDERERS: dict[str, TxnRenderer] = {
    "Payment": render_payment,
    "Deposit": render_deposit,
}
