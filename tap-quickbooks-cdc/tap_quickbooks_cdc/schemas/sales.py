"""Entity-specific fields of QBO sales-side transactions (customer money in or owed)."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_quickbooks_cdc.schemas.common import (
    ADDRESS,
    CHECK_PAYMENT,
    CREDIT_CARD_PAYMENT,
    DELIVERY_INFO,
    EMAIL_ADDRESS,
    MEMO_REF,
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

# Deposit.CashBack: {"AccountRef": {...}, "Amount": 20.0, "Memo": "..."}
CASH_BACK = th.ObjectType(*refs("AccountRef"), prop("Amount", NUMBER), prop("Memo", STRING))


def _sales_form() -> list[Prop]:
    """Fields shared by Invoice, Estimate, CreditMemo, SalesReceipt and RefundReceipt."""
    return [
        *txn_basics(),
        lines(),
        prop("TxnTaxDetail", TXN_TAX_DETAIL),
        *refs("CustomerRef", "ClassRef", "ProjectRef", "TaxExemptionRef"),
        prop("CustomerMemo", MEMO_REF),
        prop("BillEmail", EMAIL_ADDRESS),
        *[prop(name, ADDRESS) for name in ("BillAddr", "ShipAddr")],
        *strings("PrintStatus", "EmailStatus", "GlobalTaxCalculation", "TxnSource"),
        *booleans("ApplyTaxAfterDiscount", "FreeFormAddress"),
        *numbers("TotalAmt", "HomeTotalAmt"),
    ]


def invoice_fields() -> list[Prop]:
    return [
        *_sales_form(),
        *dates("DueDate", "ShipDate"),
        *strings("TrackingNum", "InvoiceLink"),
        *refs("SalesTermRef", "ShipMethodRef", "DepositToAccountRef"),
        prop("ShipFromAddr", ADDRESS),
        *[prop(name, EMAIL_ADDRESS) for name in ("BillEmailCc", "BillEmailBcc")],
        prop("DeliveryInfo", DELIVERY_INFO),
        *numbers("Balance", "HomeBalance", "Deposit"),
        *booleans(
            "AllowIPNPayment",
            "AllowOnlinePayment",
            "AllowOnlineCreditCardPayment",
            "AllowOnlineACHPayment",
        ),
    ]


def estimate_fields() -> list[Prop]:
    return [
        *_sales_form(),
        *dates("DueDate", "ShipDate", "ExpirationDate", "AcceptedDate"),
        *strings("AcceptedBy"),
        *refs("SalesTermRef", "ShipMethodRef"),
        prop("ShipFromAddr", ADDRESS),
        prop("DeliveryInfo", DELIVERY_INFO),
    ]


def credit_memo_fields() -> list[Prop]:
    return [
        *_sales_form(),
        *refs("SalesTermRef", "PaymentMethodRef", "InvoiceRef"),
        *numbers("Balance", "HomeBalance", "RemainingCredit"),
    ]


def sales_receipt_fields() -> list[Prop]:
    return [
        *_sales_form(),
        *dates("ShipDate"),
        *strings("TrackingNum", "PaymentRefNum", "PaymentType"),
        *refs("ShipMethodRef", "DepositToAccountRef", "PaymentMethodRef"),
        prop("ShipFromAddr", ADDRESS),
        prop("DeliveryInfo", DELIVERY_INFO),
        prop("CreditCardPayment", CREDIT_CARD_PAYMENT),
        prop("CheckPayment", CHECK_PAYMENT),
        *numbers("Balance", "HomeBalance"),
    ]


def refund_receipt_fields() -> list[Prop]:
    return [
        *_sales_form(),
        *strings("PaymentRefNum", "PaymentType"),
        *refs("DepositToAccountRef", "PaymentMethodRef"),
        prop("CreditCardPayment", CREDIT_CARD_PAYMENT),
        prop("CheckPayment", CHECK_PAYMENT),
        *numbers("Balance", "HomeBalance"),
    ]


def payment_fields() -> list[Prop]:
    return [
        *txn_basics(),
        lines(),
        *refs(
            "CustomerRef",
            "PaymentMethodRef",
            "DepositToAccountRef",
            "ARAccountRef",
            "ProjectRef",
            "TaxExemptionRef",
        ),
        *strings("PaymentRefNum", "TxnSource"),
        *numbers("TotalAmt", "UnappliedAmt"),
        *booleans("ProcessPayment"),
        prop("CreditCardPayment", CREDIT_CARD_PAYMENT),
    ]


def deposit_fields() -> list[Prop]:
    return [
        *txn_basics(),
        lines(),
        *refs("DepositToAccountRef"),
        prop("CashBack", CASH_BACK),
        prop("TxnTaxDetail", TXN_TAX_DETAIL),
        *strings("GlobalTaxCalculation", "TxnSource"),
        *numbers("TotalAmt", "HomeTotalAmt"),
    ]
