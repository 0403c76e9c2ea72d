"""JSON schemas of the tap's streams, shaped exactly like the QBO entities they carry.

Public API (imported by the tap)::

    STREAM_SCHEMAS: dict[str, dict[str, Any]]  # stream name -> JSON schema
    ENTITY_FOR_STREAM: dict[str, str]          # stream name -> QBO entity name

Every schema holds the entity's QBO fields plus ``realm_id`` (required), ``last_updated_at`` (the
replication key, UTC) and ``_sdc_deleted_at`` (set on CDC delete stubs). Nothing else is required,
because delete stubs carry only ``Id``, ``MetaData``, ``status`` and ``domain``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from singer_sdk import typing as th

from tap_quickbooks_cdc.schemas import lists, purchases, sales
from tap_quickbooks_cdc.schemas.common import Prop, entity_envelope, sync_columns

__all__ = ["ENTITY_FOR_STREAM", "STREAM_SCHEMAS", "build_schema"]

_FIELDS: dict[str, tuple[str, Callable[[], list[Prop]]]] = {
    "accounts": ("Account", lists.account_fields),
    "bills": ("Bill", purchases.bill_fields),
    "bill_payments": ("BillPayment", purchases.bill_payment_fields),
    "classes": ("Class", lists.class_fields),
    "credit_memos": ("CreditMemo", sales.credit_memo_fields),
    "customers": ("Customer", lists.customer_fields),
    "departments": ("Department", lists.department_fields),
    "deposits": ("Deposit", sales.deposit_fields),
    "employees": ("Employee", lists.employee_fields),
    "estimates": ("Estimate", sales.estimate_fields),
    "invoices": ("Invoice", sales.invoice_fields),
    "items": ("Item", lists.item_fields),
    "journal_entries": ("JournalEntry", purchases.journal_entry_fields),
    "payment_methods": ("PaymentMethod", lists.payment_method_fields),
    "payments": ("Payment", sales.payment_fields),
    "purchase_orders": ("PurchaseOrder", purchases.purchase_order_fields),
    "purchases": ("Purchase", purchases.purchase_fields),
    "refund_receipts": ("RefundReceipt", sales.refund_receipt_fields),
    "sales_receipts": ("SalesReceipt", sales.sales_receipt_fields),
    "tax_codes": ("TaxCode", lists.tax_code_fields),
    "terms": ("Term", lists.term_fields),
    "transfers": ("Transfer", purchases.transfer_fields),
    "vendor_credits": ("VendorCredit", purchases.vendor_credit_fields),
    "vendors": ("Vendor", lists.vendor_fields),
}


def build_schema(entity_fields: list[Prop]) -> dict[str, Any]:
    """Combine the sync columns, the entity envelope and entity fields into one JSON schema.

    Raises:
        ValueError: if a property name is defined twice (it would silently override the first).
    """
    properties = [*sync_columns(), *entity_envelope(), *entity_fields]
    seen: set[str] = set()
    for item in properties:
        if item.name in seen:
            msg = f"property {item.name!r} is defined twice"
            raise ValueError(msg)
        seen.add(item.name)
    schema: dict[str, Any] = th.PropertiesList(*properties).to_dict()
    return schema


ENTITY_FOR_STREAM: dict[str, str] = {stream: entity for stream, (entity, _) in _FIELDS.items()}

STREAM_SCHEMAS: dict[str, dict[str, Any]] = {
    stream: build_schema(fields()) for stream, (_, fields) in _FIELDS.items()
}
