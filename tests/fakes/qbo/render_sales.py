"""Bodies of the sales documents: Invoice, CreditMemo, SalesReceipt, RefundReceipt and Estimate.
Arithmetic is in integer cents; amounts are emitted with exactly two decimals.

Invariants (pinned by tests): SubTotal line == sum of sales item lines (group lines included);
TotalAmt == SubTotal - discount + TxnTaxDetail.TotalTax; an invoice's Balance is TotalAmt minus what its base
payment applies to it (``links.py`` says which payment), its customer is its group's and its DueDate follows
the customer's terms. A document's lines come from their own random stream (``Company.lines_rng``), so its
total is known without rendering it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.fakes.qbo.basics import (
    ACC_CHECKING,
    ACC_DISCOUNTS,
    ACC_PRODUCT_INCOME,
    ACC_SERVICE_INCOME,
    ACC_UNDEPOSITED,
    TAX_CODES,
    TERMS,
    USD,
    Company,
    Stream,
    customer_address,
    item_is_service,
    item_price,
    money,
    ref,
    rint,
    share,
)
from tests.fakes.qbo.links import (
    CUSTOMER_PAYMENTS,
    Settlement,
    deposited_to_bank,
    group_of,
    paid_members,
    partial_share,
    party_of_target,
    payer_of_group,
    term_of,
)

TxnRenderer = Callable[[Company, int, int], dict[str, Any]]
DAY = 86_400
EMPTY: dict[str, Any] = {}
LINE_IDS = tuple(str(n) for n in range(64))
_TAX_RATE = TAX_CODES[0][1]
_TAX_PERCENT = money(_TAX_RATE)
_CUSTOM_FIELD_DEF = {"DefinitionId": "1", "Name": "Crew #", "Type": "StringType"}
_TAX = {"value": "TAX"}
_NON = {"value": "NON"}


@dataclass
class SalesLines:
    """A sales document's Line array and its totals in cents."""

    lines: list[dict[str, Any]]
    subtotal: int
    discount: int
    taxable: int
    tax: int

    @property
    def total(self) -> int:
        return self.subtotal - self.discount + self.tax


ItemSpec = tuple[int, int, bool, int]  # item, quantity, taxable, class (-1: none)


@dataclass(frozen=True)
class SalesPlan:
    """A sales document's line choices, drawn before any line is built (the ledger needs only these)."""

    items: list[ItemSpec]
    group: list[ItemSpec]  # the two lines of a bundle, or empty
    group_item: int
    description: bool
    percent: int  # discount percent, 0: no discount


def _item_spec(company: Company, rng: Stream) -> ItemSpec:
    draw = rng.random
    counts = company.counts
    item = int(draw() * counts["Item"])
    qty = 1 + int(draw() * 9)
    taxable = not item_is_service(item) and draw() < 0.8
    class_idx = int(draw() * counts["Class"]) if draw() < 0.3 else -1
    return item, qty, taxable, class_idx


def sales_plan(company: Company, rng: Stream) -> SalesPlan:
    """1-4 item lines, a bundle one time in ten, a description line, a percent discount."""
    items = [_item_spec(company, rng) for _ in range(rint(rng, 1, 5))]
    group: list[ItemSpec] = []
    group_item = -1
    if rng.random() < 0.1:
        group = [_item_spec(company, rng), _item_spec(company, rng)]
        group_item = company.pick(rng, "Item")
    description = rng.random() < 0.15
    percent = (5, 10, 15)[int(rng.random() * 3)] if rng.random() < 0.15 else 0
    return SalesPlan(items, group, group_item, description, percent)


def plan_totals(company: Company, plan: SalesPlan) -> tuple[int, int, int, int]:
    """(subtotal, discount, taxable after discount, tax) in cents."""
    subtotal = taxable = 0
    for item, qty, is_taxable, _ in plan.items + plan.group:
        amount = item_price(company, item) * qty
        subtotal += amount
        taxable += amount if is_taxable else 0
    discount = 0
    if plan.percent:
        discount = share(subtotal, plan.percent, 100)
        taxable = share(taxable, 100 - plan.percent, 100)
    return subtotal, discount, taxable, share(taxable, _TAX_RATE, 10_000)


def _sales_item_line(company: Company, spec: ItemSpec, line_id: int) -> tuple[dict[str, Any], int, bool]:
    item, qty, taxable, class_idx = spec
    cached = company.line_parts.get(spec)
    if cached is None:
        price = item_price(company, item)
        service = item_is_service(item)
        detail: dict[str, Any] = {
            "ItemRef": ref("Item", item),
            "UnitPrice": money(price),
            "Qty": qty,
            "ItemAccountRef": ref("Account", ACC_SERVICE_INCOME if service else ACC_PRODUCT_INCOME),
            "TaxCodeRef": _TAX if taxable else _NON,
        }
        if class_idx >= 0:
            detail["ClassRef"] = ref("Class", class_idx)
        if len(company.line_parts) > 50_000:
            company.line_parts.clear()
        cached = company.line_parts[spec] = (f"{ref('Item', item)['name']} x{qty}", price * qty, detail)
    description, amount, detail = cached
    line = {
        "Id": LINE_IDS[line_id],
        "LineNum": line_id,
        "Description": description,
        "Amount": money(amount),
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": detail,
    }
    return line, amount, taxable


def _group_line(company: Company, plan: SalesPlan, line_id: int) -> tuple[dict[str, Any], int]:
    inner: list[dict[str, Any]] = []
    total = 0
    for offset, spec in enumerate(plan.group):
        line, amount, _ = _sales_item_line(company, spec, line_id + offset)
        inner.append(line)
        total += amount
    group = {
        "Id": str(line_id + 2),
        "LineNum": line_id + 2,
        "Description": "Installation bundle",
        "Amount": money(total),
        "DetailType": "GroupLineDetail",
        "GroupLineDetail": {"GroupItemRef": ref("Item", plan.group_item), "Quantity": 1, "Line": inner},
    }
    return group, total


def sales_lines(company: Company, rng: Stream) -> SalesLines:
    """The Line array of ``sales_plan``: item lines, the bundle, description, subtotal and discount lines."""
    plan = sales_plan(company, rng)
    subtotal, discount, taxable, tax = plan_totals(company, plan)
    lines: list[dict[str, Any]] = []
    line_id = 1
    for spec in plan.items:
        lines.append(_sales_item_line(company, spec, line_id)[0])
        line_id += 1
    if plan.group:
        lines.append(_group_line(company, plan, line_id)[0])
        line_id += 3
    if plan.description:
        lines.append(
            {
                "Id": str(line_id),
                "LineNum": line_id,
                "Description": "Thank you for your business.",
                "DetailType": "DescriptionOnly",
                "DescriptionLineDetail": EMPTY,
            }
        )
    lines.append({"Amount": money(subtotal), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": EMPTY})
    if plan.percent:
        lines.append(
            {
                "Amount": money(discount),
                "DetailType": "DiscountLineDetail",
                "DiscountLineDetail": {
                    "PercentBased": True,
                    "DiscountPercent": plan.percent,
                    "DiscountAccountRef": ref("Account", ACC_DISCOUNTS),
                },
            }
        )
    return SalesLines(lines, subtotal, discount, taxable, tax)


def tax_detail(sales: SalesLines) -> dict[str, Any]:
    """TxnTaxDetail for a document taxed at the first tax code's rate."""
    detail: dict[str, Any] = {"TotalTax": money(sales.tax)}
    if sales.tax:
        detail["TxnTaxCodeRef"] = {"value": "1"}
        detail["TaxLine"] = [
            {
                "Amount": money(sales.tax),
                "DetailType": "TaxLineDetail",
                "TaxLineDetail": {
                    "TaxRateRef": {"value": "1"},
                    "PercentBased": True,
                    "TaxPercent": _TAX_PERCENT,
                    "NetAmountTaxable": money(sales.taxable),
                },
            }
        ]
    return detail


def header(company: Company, rng: Stream, entity: str, idx: int, create_ts: int) -> dict[str, Any]:
    custom = dict(_CUSTOM_FIELD_DEF)
    if rng.random() < 0.5:
        custom["StringValue"] = str(100 + idx % 900)
    body: dict[str, Any] = {
        "domain": "QBO",
        "sparse": False,
        "CustomField": [custom],
        "DocNumber": str(1001 + idx),
        "TxnDate": company.clock.date(create_ts),
        "CurrencyRef": USD,
        "LinkedTxn": [],
    }
    if rng.random() < 0.25:
        body["PrivateNote"] = f"{entity} note {idx + 1}"
    if rng.random() < 0.2:
        body["DepartmentRef"] = ref("Department", company.pick(rng, "Department"))
    department = company.department(entity, idx)
    if department is not None:
        body["DepartmentRef"] = department
    return body


def _customer_block(company: Company, customer: int) -> dict[str, Any]:
    bill = customer_address(company, customer)
    return {
        "CustomerRef": ref("Customer", customer),
        "BillAddr": bill,
        "ShipAddr": bill,
        "BillEmail": {"Address": f"billing{customer + 1}@example.com"},
    }


def application(company: Company, rule: Settlement, target_idx: int, total: int) -> tuple[int, int] | None:
    """(payer index, cents) of the base payment that pays base target ``target_idx`` of ``total`` cents:
    in full, or in part when it is its payer's last target and the payer pays part (None: unpaid)."""
    if target_idx >= company.counts[rule.target]:
        return None
    group = group_of(company, rule, target_idx)
    payer = payer_of_group(company, rule, group)
    if payer is None:
        return None
    members = paid_members(company, rule, group)
    if target_idx not in members:
        return None
    percent = partial_share(company, rule, payer) if target_idx == members[-1] else None
    return payer, total if percent is None else share(total, percent, 100)


def sales_total(company: Company, entity: str, idx: int) -> int:
    """TotalAmt in cents of base sales document ``idx`` without rendering it (remembered)."""
    known = company.totals.get((entity, idx))
    if known is None:
        total = sales_lines(company, company.lines_rng(entity, idx)).total
        company.remember_total(entity, idx, total, EMPTY)
        return total
    return known[0]


def customer_of(company: Company, entity: str, idx: int) -> int:
    """The customer of a sales document: an invoice's group's, otherwise a hash of the document."""
    if entity == "Invoice":
        return party_of_target(company, CUSTOMER_PAYMENTS, idx)
    return company.hash_pick(entity, idx, "Customer")


def sales_core(company: Company, entity: str, idx: int) -> tuple[dict[str, Any], SalesLines]:
    """The fields of a sales document that post (customer, lines, tax, total, deposit account), from
    (company, entity, idx) alone; the renderer and the ledger (``books.py``) share them."""
    sales = sales_lines(company, company.lines_rng(entity, idx))
    if idx < company.counts[entity]:
        company.remember_total(entity, idx, sales.total, EMPTY)
    fields: dict[str, Any] = {
        "CustomerRef": ref("Customer", customer_of(company, entity, idx)),
        "Line": sales.lines,
        "TxnTaxDetail": tax_detail(sales),
        "TotalAmt": money(sales.total),
    }
    if entity == "SalesReceipt":
        to_bank = deposited_to_bank(company, entity, idx)
        fields["DepositToAccountRef"] = ref("Account", ACC_CHECKING if to_bank else ACC_UNDEPOSITED)
    elif entity == "RefundReceipt":
        fields["DepositToAccountRef"] = ref("Account", ACC_CHECKING)
    return fields, sales


def invoice_with_lines(company: Company, idx: int, create_ts: int) -> tuple[dict[str, Any], SalesLines]:
    """An invoice body and its line totals."""
    rng = company.rng("Invoice", idx)
    body = header(company, rng, "Invoice", idx, create_ts)
    customer = customer_of(company, "Invoice", idx)
    body.update(_customer_block(company, customer))
    fields, sales = sales_core(company, "Invoice", idx)
    body.update(fields)
    term = term_of(company, "Customer", customer)
    balance = sales.total
    paid = application(company, CUSTOMER_PAYMENTS, idx, sales.total)
    if paid is not None:
        balance -= paid[1]
        body["LinkedTxn"] = [{"TxnId": str(paid[0] + 1), "TxnType": "Payment"}]
    body.update(
        {
            "SalesTermRef": ref("Term", term),
            "DueDate": company.clock.date(create_ts + TERMS[term][1] * DAY),
            "ApplyTaxAfterDiscount": False,
            "PrintStatus": "NotSet",
            "EmailStatus": "EmailSent" if rng.random() < 0.6 else "NotSet",
            "Balance": money(balance),
            "Deposit": money(0),
            "AllowOnlineCreditCardPayment": False,
            "AllowOnlineACHPayment": False,
        }
    )
    company.remember_total("Invoice", idx, sales.total, EMPTY)
    return body, sales


def render_invoice(company: Company, idx: int, create_ts: int) -> dict[str, Any]:
    return invoice_with_lines(company, idx, create_ts)[0]


def _simple_sales(company: Company, entity: str, idx: int, create_ts: int) -> tuple[dict[str, Any], Stream]:
    rng = company.rng(entity, idx)
    body = header(company, rng, entity, idx, create_ts)
    body.update(_customer_block(company, customer_of(company, entity, idx)))
    body.update(sales_core(company, entity, idx)[0])
    return body, rng


def render_credit_memo(company: Company, idx: int, create_ts: int) -> dict[str, Any]:
    body, _ = _simple_sales(company, "CreditMemo", idx, create_ts)
    body.update({"PrintStatus": "NotSet", "RemainingCredit": body["TotalAmt"], "Balance": body["TotalAmt"]})
    return body


def _receipt(company: Company, entity: str, idx: int, create_ts: int) -> dict[str, Any]:
    body, rng = _simple_sales(company, entity, idx, create_ts)
    body.update(
        {
            "Balance": money(0),
            "PaymentMethodRef": ref("PaymentMethod", company.pick(rng, "PaymentMethod")),
            "PaymentRefNum": str(7000 + idx) if entity == "SalesReceipt" else "To Print",
        }
    )
    return body


def render_sales_receipt(company: Company, idx: int, create_ts: int) -> dict[str, Any]:
    return _receipt(company, "SalesReceipt", idx, create_ts)


def render_refund_receipt(company: Company, idx: int, create_ts: int) -> dict[str, Any]:
    return _receipt(company, "RefundReceipt", idx, create_ts)


def render_estimate(company: Company, idx: int, create_ts: int) -> dict[str, Any]:
    body, rng = _simple_sales(company, "Estimate", idx, create_ts)
    body.update(
        {
            "TxnStatus": ("Pending", "Accepted", "Closed", "Rejected")[int(rng.random() * 4)],
            "ExpirationDate": company.clock.date(create_ts + 30 * DAY),
            "PrintStatus": "NotSet",
            "EmailStatus": "NotSet",
        }
    )
    return body


SALES_RENDERERS: dict[str, TxnRenderer] = {
    "Invoice": render_invoice,
    "CreditMemo": render_credit_memo,
    "SalesReceipt": render_sales_receipt,
    "RefundReceipt": render_refund_receipt,
    "Estimate": render_estimate,
}
