"""Every stream the tap offers, one row each: its facts live here and nowhere else.

A row names the stream (snake-case plural: the warehouse table), the QBO entity it carries, the fields of its
schema (``schemas``), whether Intuit's CDC endpoint serves the entity (TaxCode is not: always the query
endpoint) and whether it is a name list (Account, Customer, ...: queries hide inactive rows unless the WHERE
clause says ``Active IN (true, false)``). The stream class, the query and webhook code and the schemas all
read these rows; adding an entity is adding a row (and its fields).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tap_quickbooks_cdc.schemas import build_schema, lists, purchases, sales
from tap_quickbooks_cdc.schemas.common import Prop


@dataclass(frozen=True)
class StreamFacts:
    name: str
    entity: str
    fields: Callable[[], list[Prop]]
    cdc: bool = True
    name_list: bool = False


STREAMS: tuple[StreamFacts, ...] = (
    StreamFacts("accounts", "Account", lists.account_fields, name_list=True),
    StreamFacts("bills", "Bill", purchases.bill_fields),
    StreamFacts("bill_payments", "BillPayment", purchases.bill_payment_fields),
    StreamFacts("classes", "Class", lists.class_fields, name_list=True),
    StreamFacts("credit_memos", "CreditMemo", sales.credit_memo_fields),
    StreamFacts("customers", "Customer", lists.customer_fields, name_list=True),
    StreamFacts("departments", "Department", lists.department_fields, name_list=True),
    StreamFacts("deposits", "Deposit", sales.deposit_fields),
    StreamFacts("employees", "Employee", lists.employee_fields, name_list=True),
    StreamFacts("estimates", "Estimate", sales.estimate_fields),
    StreamFacts("invoices", "Invoice", sales.invoice_fields),
    StreamFacts("items", "Item", lists.item_fields, name_list=True),
    StreamFacts("journal_entries", "JournalEntry", purchases.journal_entry_fields),
    StreamFacts("payment_methods", "PaymentMethod", lists.payment_method_fields, name_list=True),
    StreamFacts("payments", "Payment", sales.payment_fields),
    StreamFacts("purchase_orders", "PurchaseOrder", purchases.purchase_order_fields),
    StreamFacts("purchases", "Purchase", purchases.purchase_fields),
    StreamFacts("refund_receipts", "RefundReceipt", sales.refund_receipt_fields),
    StreamFacts("sales_receipts", "SalesReceipt", sales.sales_receipt_fields),
    StreamFacts("tax_codes", "TaxCode", lists.tax_code_fields, cdc=False, name_list=True),
    StreamFacts("terms", "Term", lists.term_fields, name_list=True),
    StreamFacts("transfers", "Transfer", purchases.transfer_fields),
    StreamFacts("vendor_credits", "VendorCredit", purchases.vendor_credit_fields),
    StreamFacts("vendors", "Vendor", lists.vendor_fields, name_list=True),
)

STREAM_FACTS: dict[str, StreamFacts] = {facts.name: facts for facts in STREAMS}
ENTITY_FOR_STREAM: dict[str, str] = {facts.name: facts.entity for facts in STREAMS}
STREAM_FOR_ENTITY: dict[str, str] = {facts.entity: facts.name for facts in STREAMS}
STREAM_SCHEMAS: dict[str, dict[str, Any]] = {facts.name: build_schema(facts.fields()) for facts in STREAMS}
LIST_ENTITIES: frozenset[str] = frozenset(facts.entity for facts in STREAMS if facts.name_list)
