"""Reusable JSON-schema building blocks for QuickBooks Online entities.

Field names and nesting follow Intuit's published Accounting API entity reference (minorversion 75)
and Intuit's XSD-generated SDK models. Conventions:

- ``Id``, ``SyncToken`` and every reference ``value`` are strings.
- Money, rates and quantities are JSON numbers (the tap parses them as ``decimal.Decimal``).
- ``TxnDate``-like fields are ``YYYY-MM-DD`` dates; ``MetaData`` times are ISO date-times with an offset.
"""

from __future__ import annotations

from typing import Any

from singer_sdk import typing as th

Prop = th.Property[Any]
ObjType = th.ObjectType

STRING = th.StringType
NUMBER = th.NumberType
INTEGER = th.IntegerType
BOOLEAN = th.BooleanType
DATE = th.DateType
DATETIME = th.DateTimeType


def prop(name: str, wrapped: Any) -> Prop:
    """Return an optional (nullable) property: QBO omits absent fields, so nothing is required."""
    return th.Property(name, wrapped)


def strings(*names: str) -> list[Prop]:
    """Optional string properties."""
    return [prop(name, STRING) for name in names]


def numbers(*names: str) -> list[Prop]:
    """Optional number properties (money, rates, quantities)."""
    return [prop(name, NUMBER) for name in names]


def integers(*names: str) -> list[Prop]:
    """Optional integer properties (ordinals, day counts, levels)."""
    return [prop(name, INTEGER) for name in names]


def booleans(*names: str) -> list[Prop]:
    """Optional boolean properties."""
    return [prop(name, BOOLEAN) for name in names]


def dates(*names: str) -> list[Prop]:
    """Optional ``YYYY-MM-DD`` date properties."""
    return [prop(name, DATE) for name in names]


def array_of(name: str, item: th.JSONTypeHelper[Any]) -> Prop:
    """Optional array property whose items have the given shape."""
    return th.Property(name, th.ArrayType(item))


# ReferenceType: {"value": "42", "name": "Acme", "type": "Vendor"}
REF = th.ObjectType(*strings("value", "name", "type"))


def refs(*names: str) -> list[Prop]:
    """Optional ReferenceType properties (CustomerRef, AccountRef, ...)."""
    return [prop(name, REF) for name in names]


# ModificationMetaData
METADATA = th.ObjectType(
    prop("CreateTime", DATETIME),
    prop("LastUpdatedTime", DATETIME),
    *refs("CreatedByRef", "LastModifiedByRef"),
)

# CurrencyRef: {"value": "USD", "name": "United States Dollar"}
CURRENCY_REF = th.ObjectType(*strings("value", "name"))


# PhysicalAddress (BillAddr, ShipAddr, PrimaryAddr, ...)
ADDRESS = th.ObjectType(
    *strings(
        "Id",
        "Line1",
        "Line2",
        "Line3",
        "Line4",
        "Line5",
        "City",
        "Country",
        "CountryCode",
        "CountrySubDivisionCode",
        "PostalCode",
        "PostalCodeSuffix",
        "Lat",
        "Long",
        "Tag",
        "Note",
    )
)

EMAIL_ADDRESS = th.ObjectType(*strings("Address"))
TELEPHONE_NUMBER = th.ObjectType(*strings("FreeFormNumber"))
WEBSITE_ADDRESS = th.ObjectType(*strings("URI"))
MEMO_REF = th.ObjectType(*strings("value"))

# CustomField: only StringType custom fields are returned by QBO.
CUSTOM_FIELD = th.ObjectType(*strings("DefinitionId", "Name", "Type", "StringValue"))

LINKED_TXN = th.ObjectType(*strings("TxnId", "TxnType", "TxnLineId"))

MARKUP_INFO = th.ObjectType(
    prop("PercentBased", BOOLEAN),
    *numbers("Value", "Percent"),
    *refs("PriceLevelRef", "MarkUpIncomeAccountRef"),
)

TAX_LINE_DETAIL = th.ObjectType(
    *refs("TaxRateRef"),
    prop("PercentBased", BOOLEAN),
    *numbers("TaxPercent", "NetAmountTaxable", "TaxInclusiveAmount", "OverrideDeltaAmount"),
)

TAX_LINE = th.ObjectType(
    *strings("Id", "DetailType"),
    prop("LineNum", INTEGER),
    prop("Amount", NUMBER),
    prop("TaxLineDetail", TAX_LINE_DETAIL),
)

TXN_TAX_DETAIL = th.ObjectType(
    *refs("TxnTaxCodeRef"),
    prop("TotalTax", NUMBER),
    array_of("TaxLine", TAX_LINE),
)

DELIVERY_INFO = th.ObjectType(prop("DeliveryType", STRING), prop("DeliveryTime", DATETIME))

CREDIT_CHARGE_INFO = th.ObjectType(
    *integers("CcExpiryMonth", "CcExpiryYear"),
    prop("ProcessPayment", BOOLEAN),
    prop("Amount", NUMBER),
    *strings("PostalCode", "NameOnAcct", "Type", "BillAddrStreet", "Number"),
)

CREDIT_CHARGE_RESPONSE = th.ObjectType(
    *strings("Status", "AuthCode", "CCTransId"),
    prop("TxnAuthorizationTime", DATETIME),
)

# Sales-side CreditCardPayment (Payment, SalesReceipt, RefundReceipt).
CREDIT_CARD_PAYMENT = th.ObjectType(
    prop("CreditChargeInfo", CREDIT_CHARGE_INFO),
    prop("CreditChargeResponse", CREDIT_CHARGE_RESPONSE),
)

# Sales-side CheckPayment (RefundReceipt, SalesReceipt).
CHECK_PAYMENT = th.ObjectType(*strings("CheckNum", "Status", "NameOnAcct", "AcctNum", "BankName"))

# QBO's "...Ex" extension blocks ({"any": [...]}): kept as open objects.
EXTENSION = th.ObjectType()


def entity_envelope() -> list[Prop]:
    """Fields every QBO entity carries, including CDC delete stubs (Id, MetaData, status, domain)."""
    return [
        *strings("Id", "SyncToken", "domain", "status"),
        prop("sparse", BOOLEAN),
        prop("MetaData", METADATA),
    ]


def sync_columns() -> list[Prop]:
    """Columns the tap adds to every record."""
    return [
        th.Property("realm_id", STRING, required=True, description="QBO company (realm) id."),
        th.Property(
            "last_updated_at",
            DATETIME,
            description="MetaData.LastUpdatedTime normalised to UTC; the replication key.",
        ),
        th.Property(
            "_sdc_deleted_at",
            DATETIME,
            nullable=True,
            description="Set when the record is a CDC delete stub; null otherwise.",
        ),
    ]


def txn_basics() -> list[Prop]:
    """Fields of QBO's base ``Transaction`` type, which every transaction entity extends.

    ``TotalAmt`` is left to the entities that have it (a Transfer carries ``Amount`` instead).
    """
    return [
        *dates("TxnDate"),
        *strings("DocNumber", "PrivateNote", "TransactionLocationType", "TxnStatus"),
        prop("CurrencyRef", CURRENCY_REF),
        prop("ExchangeRate", NUMBER),
        *refs("DepartmentRef", "RecurDataRef"),
        array_of("LinkedTxn", LINKED_TXN),
        array_of("CustomField", CUSTOM_FIELD),
    ]
