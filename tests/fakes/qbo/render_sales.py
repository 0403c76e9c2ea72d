"""Bodies of the sales-side transactions: Invoice, Payment, CreditMemo, SalesReceipt, RefundReceipt,
Estimate and Deposit. Amounts are exact ``Decimal`` values with two places.

Invariants (pinned by tests): SubTotal line == sum of sales item lines (group lines included);
TotalAmt == SubTotal - discount + TxnTaxDetail.TotalTax; base payment ``j`` pays base invoice ``j``
and the invoice's Balance is TotalAmt minus that payment's applied amount.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tests.fakes.qbo.basics import (
    ACC_CHECKING,
    ACC_PRODUCT_INCOME,
    ACC_SERVICE_INCOME,
    ACC_UNDEPOSITED,
    TAX_CODES,
    USD,
    ZERO,
    Company,
    address,
    item_is_service,
    item_price,
    money,
    q2,
    ref,
    rint,
)

TxnRenderer = Callable[[Company, int, int], dict[str, Any]]
DAY = 86_400


def _sales_item_line(company: Company, rng: random.Random, line_id: int) -> tuple[dict[str, Any], bool]:
    item = company.pick(rng, "Item")
    price = item_price(company, item)
    qty = rint(rng, 1, 10)
    taxable = not item_is_service(item) and rng.random() < 0.8
    detail: dict[str, Any] = {
        "ItemRef": ref("Item", item),
        "UnitPrice": price,
        "Qty": qty,
        "ItemAccountRef": ref("Account", ACC_SERVICE_INCOME if item_is_service(item) else ACC_PRODUCT_INCOME),
        "TaxCodeRef": {"value": "TAX" if taxable else "NON"},
    }
    if rng.random() < 0.3:
        detail["ClassRef"] = ref("Class", company.pick(rng, "Class"))
    line = {
        "Id": str(line_id),
        "LineNum": line_id,
        "Description": f"{ref('Item', item)['name']} x{qty}",
        "Amount": q2(price * qty),
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": detail,
    }
    return line, taxable


def sales_lines(
    company: Company, rng: random.Random, extras: bool = True
) -> tuple[list[dict[str, Any]], Decimal, Decimal, Decimal, Decimal]:
    """Line array plus (subtotal, discount, tax, total) of a sales document."""
    lines: list[dict[str, Any]] = []
    subtotal = ZERO
    taxable_total = ZERO
    line_id = 1
    for _ in range(rint(rng, 1, 5)):
        line, taxable = _sales_item_line(company, rng, line_id)
        lines.append(line)
        subtotal += line["Amount"]
        taxable_total += line["Amount"] if taxable else ZERO
        line_id += 1
    if extras and rng.random() < 0.1:
        inner: list[dict[str, Any]] = []
        group_total = ZERO
        for _ in range(2):
            line, taxable = _sales_item_line(company, rng, line_id)
            inner.append(line)
            group_total += line["Amount"]
            taxable_total += line["Amount"] if taxable else ZERO
            line_id += 1
        lines.append(
            {
                "Id": str(line_id),
                "LineNum": line_id,
                "Description": "Installation bundle",
                "Amount": group_total,
                "DetailType": "GroupLineDetail",
                "GroupLineDetail": {
                    "GroupItemRef": ref("Item", company.pick(rng, "Item")),
                    "Quantity": 1,
                    "Line": inner,
                },
            }
        )
        subtotal += group_total
        line_id += 1
    if extras and rng.random() < 0.15:
        lines.append({"Id": str(line_id), "LineNum": line_id, "Description": "Thank you for your business.",
                      "DetailType": "DescriptionOnly", "DescriptionOnly": {}})  # fmt: skip
        line_id += 1
    lines.append({"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
    discount = ZERO
    if extras and rng.random() < 0.15:
        percent = Decimal(rng.choice((5, 10, 15)))
        discount = q2(subtotal * percent / 100)
        lines.append(
            {
                "Amount": discount,
                "DetailType": "DiscountLineDetail",
                "DiscountLineDetail": {
                    "PercentBased": True,
                    "DiscountPercent": percent,
                    "DiscountAccountRef": ref("Account", 16),
                },
            }
        )
        taxable_total = q2(taxable_total * (100 - percent) / 100)
    rate = TAX_CODES[0][1]
    tax = q2(taxable_total * rate / 100)
    return lines, subtotal, discount, tax, subtotal - discount + tax


def tax_detail(tax: Decimal, taxable: Decimal) -> dict[str, Any]:
    """TxnTaxDetail for a document taxed at the first tax code's rate."""
    detail: dict[str, Any] = {"TotalTax": tax}
    if tax:
        detail["TxnTaxCodeRef"] = {"value": "1"}
        detail["TaxLine"] = [
            {
                "Amount": tax,
                "DetailType": "TaxLineDetail",
                "TaxLineDetail": {
                    "TaxRateRef": {"value": "1"},
                    "PercentBased": True,
                    "TaxPercent": TAX_CODES[0][1],
                    "NetAmountTaxable": taxable,
                },
            }
        ]
    return detail


def _custom_fields(rng: random.Random) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = [{"DefinitionId": "1", "Name": "Crew #", "Type": "StringType"}]
    if rng.random() < 0.5:
        fields[0]["StringValue"] = str(rint(rng, 100, 999))
    return fields


def _header(company: Company, rng: random.Random, entity: str, idx: int, create_ts: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "domain": "QBO",
        "sparse": False,
        "CustomField": _custom_fields(rng),
        "DocNumber": f"{1000 + idx + 1}",
        "TxnDate": company.clock.date(create_ts),
        "CurrencyRef": USD,
        "LinkedTxn": [],
    }
    if rng.random() < 0.25:
        body["PrivateNote"] = f"{entity} note {idx + 1}"
    if rng.random() < 0.2:
        body["DepartmentRef"] = ref("Department", company.pick(rng, "Department"))
    return body


def _customer_block(company: Company, rng: random.Random) -> dict[str, Any]:
    customer = company.pick(rng, "Customer")
    bill = address(rng, 30_000_000 + customer)
    return {
        "CustomerRef": ref("Customer", customer),
        "BillAddr": bill,
        "ShipAddr": bill if rng.random() < 0.6 else address(rng, 40_000_000 + customer),
        "BillEmail": {"Address": f"billing{customer + 1}@example.com"},
    }


def payment_applied(company: Company, idx: int, total: Decimal) -> Decimal:
    """Amount base payment ``idx`` applies to base invoice ``idx``: mostly in full, sometimes in part."""
    h = company.key("Payment", idx)
    if h % 10 < 7:
        return total
    return q2(total * (30 + h % 50) / 100)


def render_invoice(company: Company, idx: int, create_ts: int) -> dict[str, Any]:
    rng = company.rng("Invoice", idx)
    body = _header(company, rng, "Invoice", idx, create_ts)
    body.update(_customer_block(company, rng))
    lines, subtotal, discount, tax, total = sales_lines(company, rng)
    term_days = (0, 15, 30, 60)[rint(rng, 4)]
    body.update(
        {
            "Line": lines,
            "TxnTaxDetail": tax_detail(tax, subtotal - discount),
            "SalesTermRef": ref("Term", (0, 15, 30, 60).index(term_days) % company.counts["Term"]),
            "DueDate": company.clock.date(create_ts + term_days * DAY),
            "TotalAmt": total,
            "ApplyTaxAfterDiscount": False,
            "PrintStatus": "NotSet",
            "EmailStatus": "EmailSent" if rng.random() < 0.6 else "NotSet",
            "Balance": total,
            "Deposit": ZERO,
            "AllowOnlineCreditCardPayment": False,
            "AllowOnlineACHPayment": False,
        }
    )
    paid_by_base_payment = idx < company.counts["Payment"]
    if paid_by_base_payment:
        body["Balance"] = total - payment_applied(company, idx, total)
        body["LinkedTxn"] = [{"TxnId": str(idx + 1), "TxnType": "Payment"}]
    return body


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
        "UnappliedAmt": ZERO,
    }
    if idx < min(company.counts["Payment"], company.counts["Invoice"]):
        invoice = render_invoice(company, idx, create_ts)
        applied = payment_applied(company, idx, invoice["TotalAmt"])
        body["CustomerRef"] = invoice["CustomerRef"]
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
        body["CustomerRef"] = ref("Customer", company.pick(rng, "Customer"))
        body["TotalAmt"] = amount
        body["UnappliedAmt"] = amount
        body["Line"] = []
    return body


def _simple_sales(
    company: Company, entity: str, idx: int, create_ts: int, extra: Callable[[random.Random], dict[str, Any]]
) -> dict[str, Any]:
    rng = company.rng(entity, idx)
    body = _header(company, rng, entity, idx, create_ts)
    body.update(_customer_block(company, rng))
    lines, subtotal, discount, tax, total = sales_lines(company, rng)
    body.update({"Line": lines, "TxnTaxDetail": tax_detail(tax, subtotal - discount), "TotalAmt": total})
    body.update(extra(rng))
    return body


def render_credit_memo(company: Company, idx: int, create_ts: int) -> dict[str, Any]:
    body = _simple_sales(company, "CreditMemo", idx, create_ts, lambda rng: {"PrintStatus": "NotSet"})
    body["RemainingCredit"] = body["TotalAmt"]
    body["Balance"] = body["TotalAmt"]
    return body


def render_sales_receipt(company: Company, idx: int, create_ts: int) -> dict[str, Any]:
    def extra(rng: random.Random) -> dict[str, Any]:
        return {
            "Balance": ZERO,
            "DepositToAccountRef": ref("Account", ACC_UNDEPOSITED),
            "PaymentMethodRef": ref("PaymentMethod", company.pick(rng, "PaymentMethod")),
            "PaymentRefNum": str(7000 + idx),
        }

    return _simple_sales(company, "SalesReceipt", idx, create_ts, extra)


def render_refund_receipt(company: Company, idx: int, create_ts: int) -> dict[str, Any]:
    def extra(rng: random.Random) -> dict[str, Any]:
        return {
            "Balance": ZERO,
            "DepositToAccountRef": ref("Account", ACC_CHECKING),
            "PaymentMethodRef": ref("PaymentMethod", company.pick(rng, "PaymentMethod")),
            "PaymentRefNum": "To Print",
        }

    return _simple_sales(company, "RefundReceipt", idx, create_ts, extra)


def render_estimate(company: Company, idx: int, create_ts: int) -> dict[str, Any]:
    def extra(rng: random.Random) -> dict[str, Any]:
        return {
            "TxnStatus": rng.choice(("Pending", "Accepted", "Closed", "Rejected")),
            "ExpirationDate": company.clock.date(create_ts + 30 * DAY),
            "PrintStatus": "NotSet",
            "EmailStatus": "NotSet",
        }

    return _simple_sales(company, "Estimate", idx, create_ts, extra)


def render_deposit(company: Company, idx: int, create_ts: int) -> dict[str, Any]:
    rng = company.rng("Deposit", idx)
    body = _header(company, rng, "Deposit", idx, create_ts)
    del body["DocNumber"]
    lines: list[dict[str, Any]] = []
    total = ZERO
    for n in range(1, rint(rng, 2, 4)):
        amount = money(rint(rng, 500, 300_000))
        customer = company.pick(rng, "Customer")
        lines.append(
            {
                "Id": str(n),
                "LineNum": n,
                "Amount": amount,
                "DetailType": "DepositLineDetail",
                "DepositLineDetail": {
                    "Entity": {**ref("Customer", customer), "type": "CUSTOMER"},
                    "AccountRef": ref("Account", rng.choice((ACC_SERVICE_INCOME, ACC_PRODUCT_INCOME, 28))),
                    "PaymentMethodRef": ref("PaymentMethod", company.pick(rng, "PaymentMethod")),
                },
            }
        )
        total += amount
    body.update({"DepositToAccountRef": ref("Account", ACC_CHECKING), "Line": lines, "TotalAmt": total})
    return body


SALES_RENDERERS: dict[str, TxnRenderer] = {
    "Invoice": render_invoice,
    "Payment": render_payment,
    "CreditMemo": render_credit_memo,
    "SalesReceipt": render_sales_receipt,
    "RefundReceipt": render_refund_receipt,
    "Estimate": render_estimate,
    "Deposit": render_deposit,
}
