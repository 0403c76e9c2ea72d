"""Entity-specific fields of QBO purchase-side transactions, journal entries and transfers."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_quickbooks_cdc.schemas.common import (
    ADDRESS,
    EMAIL_ADDRESS,
    EXTENSION,
    NUMBER,
    STRING,
    TXN_TAX_DETAIL,
    Prop,
    booleans,
    dates,
    numbers,
    prop,
    refs,
    strings,
    txn_basics,
)
from tap_quickbooks_cdc.schemas.lines import lines

# BillPayment.CheckPayment: {"BankAccountRef": {...}, "PrintStatus": "NeedToPrint"}
BILL_PAYMENT_CHECK = th.ObjectType(*refs("BankAccountRef"), prop("PrintStatus", STRING))
# BillPayment.CreditCardPayment: {"CCAccountRef": {...}}
BILL_PAYMENT_CREDIT_CARD = th.ObjectType(*refs("CCAccountRef"))


def _expense_form() -> list[Prop]:
    """Fields shared by Bill, Purchase, PurchaseOrder and VendorCredit."""
    return [
        *txn_basics(),
        lines(),
        prop("TxnTaxDetail", TXN_TAX_DETAIL),
        prop("GlobalTaxCalculation", STRING),
        prop("TotalAmt", NUMBER),
    ]


def bill_fields() -> list[Prop]:
    return [
        *_expense_form(),
        *refs("VendorRef", "APAccountRef", "SalesTermRef"),
        *dates("DueDate"),
        *numbers("Balance", "HomeBalance"),
        *booleans("IncludeInAnnualTPAR"),
    ]


def vendor_credit_fields() -> list[Prop]:
    return [
        *_expense_form(),
        *refs("VendorRef", "APAccountRef"),
        *numbers("Balance"),
        *booleans("IncludeInAnnualTPAR"),
    ]


def purchase_fields() -> list[Prop]:
    return [
        *_expense_form(),
        *strings("PaymentType", "PrintStatus", "TxnSource"),
        *refs("AccountRef", "EntityRef", "PaymentMethodRef"),
        *booleans("Credit", "IncludeInAnnualTPAR"),
        prop("RemitToAddr", ADDRESS),
        prop("PurchaseEx", EXTENSION),
    ]


def purchase_order_fields() -> list[Prop]:
    return [
        *_expense_form(),
        *refs("VendorRef", "APAccountRef", "ClassRef", "SalesTermRef", "ShipMethodRef", "ShipTo"),
        *dates("DueDate"),
        *strings("POStatus", "Memo", "EmailStatus"),
        prop("POEmail", EMAIL_ADDRESS),
        *[prop(name, ADDRESS) for name in ("VendorAddr", "ShipAddr")],
    ]


def bill_payment_fields() -> list[Prop]:
    return [
        *txn_basics(),
        lines(),
        *refs("VendorRef", "APAccountRef"),
        prop("TotalAmt", NUMBER),
        prop("PayType", STRING),
        prop("CheckPayment", BILL_PAYMENT_CHECK),
        prop("CreditCardPayment", BILL_PAYMENT_CREDIT_CARD),
        *booleans("ProcessBillPayment"),
    ]


def journal_entry_fields() -> list[Prop]:
    return [
        *txn_basics(),
        lines(),
        prop("TxnTaxDetail", TXN_TAX_DETAIL),
        *refs("TaxRateRef"),
        prop("GlobalTaxCalculation", STRING),
        *booleans("Adjustment"),
        *numbers("TotalAmt", "HomeTotalAmt"),
    ]


def transfer_fields() -> list[Prop]:
    return [
        *txn_basics(),
        *refs("FromAccountRef", "ToAccountRef"),
        *numbers("Amount"),
    ]
