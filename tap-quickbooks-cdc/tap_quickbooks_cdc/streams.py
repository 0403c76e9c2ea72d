"""One small class per QBO entity. Names are snake-case plurals; the entity comes from the schemas."""

from __future__ import annotations

import typing as t

from tap_quickbooks_cdc.stream_base import QboStream


class AccountsStream(QboStream):
    """QBO Account records."""

    name = "accounts"


class BillsStream(QboStream):
    """QBO Bill records."""

    name = "bills"


class BillPaymentsStream(QboStream):
    """QBO BillPayment records."""

    name = "bill_payments"


class ClassesStream(QboStream):
    """QBO Class records."""

    name = "classes"


class CreditMemosStream(QboStream):
    """QBO CreditMemo records."""

    name = "credit_memos"


class CustomersStream(QboStream):
    """QBO Customer records."""

    name = "customers"


class DepartmentsStream(QboStream):
    """QBO Department records."""

    name = "departments"


class DepositsStream(QboStream):
    """QBO Deposit records."""

    name = "deposits"


class EmployeesStream(QboStream):
    """QBO Employee records."""

    name = "employees"


class EstimatesStream(QboStream):
    """QBO Estimate records."""

    name = "estimates"


class InvoicesStream(QboStream):
    """QBO Invoice records."""

    name = "invoices"


class ItemsStream(QboStream):
    """QBO Item records."""

    name = "items"


class JournalEntriesStream(QboStream):
    """QBO JournalEntry records."""

    name = "journal_entries"


class PaymentMethodsStream(QboStream):
    """QBO PaymentMethod records."""

    name = "payment_methods"


class PaymentsStream(QboStream):
    """QBO Payment records."""

    name = "payments"


class PurchaseOrdersStream(QboStream):
    """QBO PurchaseOrder records."""

    name = "purchase_orders"


class PurchasesStream(QboStream):
    """QBO Purchase records."""

    name = "purchases"


class RefundReceiptsStream(QboStream):
    """QBO RefundReceipt records."""

    name = "refund_receipts"


class SalesReceiptsStream(QboStream):
    """QBO SalesReceipt records."""

    name = "sales_receipts"


class TaxCodesStream(QboStream):
    """QBO TaxCode records."""

    name = "tax_codes"
    cdc_capable: t.ClassVar[bool] = False  # TaxCode is not served by CDC: always the query endpoint


class TermsStream(QboStream):
    """QBO Term records."""

    name = "terms"


class TransfersStream(QboStream):
    """QBO Transfer records."""

    name = "transfers"


class VendorCreditsStream(QboStream):
    """QBO VendorCredit records."""

    name = "vendor_credits"


class VendorsStream(QboStream):
    """QBO Vendor records."""

    name = "vendors"


STREAM_TYPES: tuple[type[QboStream], ...] = tuple(QboStream.__subclasses__())
