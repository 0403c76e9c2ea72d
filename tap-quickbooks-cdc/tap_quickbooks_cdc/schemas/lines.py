"""The transaction ``Line`` shape: one object holding every detail type as an optional property.

QBO names the detail object after ``DetailType`` (``SalesItemLineDetail``, ``GroupLineDetail``,
``DescriptionOnly`` -> ``DescriptionLineDetail``, ``DiscountLineDetail``, ``SubTotalLineDetail``,
``AccountBasedExpenseLineDetail``, ``ItemBasedExpenseLineDetail``, ``JournalEntryLineDetail``,
``DepositLineDetail``, ``TDSLineDetail``). Payment and bill-payment lines carry only ``Amount`` and
``LinkedTxn``. A single union-of-details shape keeps one ``Line`` column type across all streams.
"""

from __future__ import annotations

from singer_sdk import typing as th

from tap_quickbooks_cdc.schemas.common import (
    BOOLEAN,
    CUSTOM_FIELD,
    DATE,
    EXTENSION,
    INTEGER,
    LINKED_TXN,
    MARKUP_INFO,
    NUMBER,
    STRING,
    Prop,
    array_of,
    numbers,
    prop,
    refs,
    strings,
)

SALES_ITEM_LINE_DETAIL = th.ObjectType(
    *refs(
        "ItemRef",
        "ClassRef",
        "TaxCodeRef",
        "PriceLevelRef",
        "ItemAccountRef",
        "TaxClassificationRef",
    ),
    prop("MarkupInfo", MARKUP_INFO),
    prop("ServiceDate", DATE),
    *numbers("UnitPrice", "Qty", "DiscountRate", "DiscountAmt", "TaxInclusiveAmt"),
)

DESCRIPTION_LINE_DETAIL = th.ObjectType(*refs("TaxCodeRef", "ClassRef"), prop("ServiceDate", DATE))

DISCOUNT_OVERRIDE = th.ObjectType(
    prop("PercentBased", BOOLEAN),
    prop("DiscountPercent", NUMBER),
    *refs("DiscountRef", "DiscountAccountRef"),
)

DISCOUNT_LINE_DETAIL = th.ObjectType(
    prop("PercentBased", BOOLEAN),
    prop("DiscountPercent", NUMBER),
    *refs("DiscountAccountRef", "ClassRef", "TaxCodeRef"),
    prop("Discount", DISCOUNT_OVERRIDE),
)

SUB_TOTAL_LINE_DETAIL = th.ObjectType(*refs("ItemRef"), prop("ServiceDate", DATE))

ACCOUNT_BASED_EXPENSE_LINE_DETAIL = th.ObjectType(
    *refs("AccountRef", "CustomerRef", "ClassRef", "TaxCodeRef"),
    prop("BillableStatus", STRING),
    prop("MarkupInfo", MARKUP_INFO),
    *numbers("TaxAmount", "TaxInclusiveAmt"),
)

ITEM_BASED_EXPENSE_LINE_DETAIL = th.ObjectType(
    *refs("ItemRef", "CustomerRef", "ClassRef", "PriceLevelRef", "TaxCodeRef"),
    prop("BillableStatus", STRING),
    prop("MarkupInfo", MARKUP_INFO),
    *numbers("UnitPrice", "Qty", "TaxInclusiveAmt"),
)

# JournalEntry line entity: {"Type": "Customer", "EntityRef": {"value": "1", "name": "..."}}
JOURNAL_ENTRY_ENTITY = th.ObjectType(prop("Type", STRING), *refs("EntityRef"))

JOURNAL_ENTRY_LINE_DETAIL = th.ObjectType(
    prop("PostingType", STRING),
    prop("Entity", JOURNAL_ENTRY_ENTITY),
    *refs("AccountRef", "ClassRef", "DepartmentRef", "TaxCodeRef", "JournalCodeRef"),
    *strings("TaxApplicableOn", "BillableStatus"),
    *numbers("TaxAmount", "TaxInclusiveAmt"),
)

# Deposit line entity is a plain ReferenceType: {"value": "3", "name": "...", "type": "CUSTOMER"}
DEPOSIT_LINE_DETAIL = th.ObjectType(
    *refs("Entity", "AccountRef", "ClassRef", "PaymentMethodRef", "TaxCodeRef"),
    *strings("CheckNum", "TxnType", "TaxApplicableOn"),
)

TDS_LINE_DETAIL = th.ObjectType(*strings("TDSSectionTypeId"))


def _line_base() -> list[Prop]:
    return [
        *strings("Id", "DetailType", "Description"),
        prop("LineNum", INTEGER),
        prop("Amount", NUMBER),
        array_of("LinkedTxn", LINKED_TXN),
        array_of("CustomField", CUSTOM_FIELD),
        *refs("ProjectRef"),
        prop("LineEx", EXTENSION),
    ]


# Lines nested in a bundle (GroupLineDetail.Line[]): sales item and description lines.
GROUP_MEMBER_LINE = th.ObjectType(
    *_line_base(),
    prop("SalesItemLineDetail", SALES_ITEM_LINE_DETAIL),
    prop("DescriptionLineDetail", DESCRIPTION_LINE_DETAIL),
)

GROUP_LINE_DETAIL = th.ObjectType(
    *refs("GroupItemRef"),
    prop("Quantity", NUMBER),
    array_of("Line", GROUP_MEMBER_LINE),
)

LINE = th.ObjectType(
    *_line_base(),
    prop("SalesItemLineDetail", SALES_ITEM_LINE_DETAIL),
    prop("GroupLineDetail", GROUP_LINE_DETAIL),
    prop("DescriptionLineDetail", DESCRIPTION_LINE_DETAIL),
    prop("DiscountLineDetail", DISCOUNT_LINE_DETAIL),
    prop("SubTotalLineDetail", SUB_TOTAL_LINE_DETAIL),
    prop("AccountBasedExpenseLineDetail", ACCOUNT_BASED_EXPENSE_LINE_DETAIL),
    prop("ItemBasedExpenseLineDetail", ITEM_BASED_EXPENSE_LINE_DETAIL),
    prop("JournalEntryLineDetail", JOURNAL_ENTRY_LINE_DETAIL),
    prop("DepositLineDetail", DEPOSIT_LINE_DETAIL),
    prop("TDSLineDetail", TDS_LINE_DETAIL),
)


def lines() -> Prop:
    """The ``Line`` array property of a transaction."""
    return array_of("Line", LINE)
