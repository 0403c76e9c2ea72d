"""The 24 QBO entities the simulator serves, their kinds, and how a company's records are split among them."""

from __future__ import annotations

from typing import Final

# Name-list entities: carry ``Active`` and hide inactive rows from queries unless asked.
NAME_LISTS: Final[tuple[str, ...]] = (
    "Account",
    "Class",
    "Customer",
    "Department",
    "Employee",
    "Item",
    "PaymentMethod",
    "TaxCode",
    "Term",
    "Vendor",
)
TRANSACTIONS: Final[tuple[str, ...]] = (
    "Bill",
    "BillPayment",
    "CreditMemo",
    "Deposit",
    "Estimate",
    "Invoice",
    "JournalEntry",
    "Payment",
    "Purchase",
    "PurchaseOrder",
    "RefundReceipt",
    "SalesReceipt",
    "Transfer",
    "VendorCredit",
)
ENTITIES: Final[tuple[str, ...]] = tuple(sorted(NAME_LISTS + TRANSACTIONS))
ENTITY_INDEX: Final[dict[str, int]] = {name: i for i, name in enumerate(ENTITIES)}
BY_LOWER: Final[dict[str, str]] = {name.lower(): name for name in ENTITIES}
# Intuit: not available through change data capture (query them instead).
NOT_IN_CDC: Final[frozenset[str]] = frozenset(
    {"TaxCode", "JournalCode", "TaxAgency", "TimeActivity", "TaxRate"}
)
# Lists that may contain inactive rows (the fixed reference lists stay active).
MAY_BE_INACTIVE: Final[frozenset[str]] = frozenset(
    {"Account", "Customer", "Vendor", "Item", "Employee", "Class"}
)

# Share of a company's records per entity (weights) and the floor every entity gets.
_WEIGHTS: Final[dict[str, float]] = {
    "Invoice": 24,
    "Payment": 12,
    "Bill": 11,
    "BillPayment": 6,
    "Purchase": 10,
    "JournalEntry": 4,
    "SalesReceipt": 5,
    "Deposit": 3,
    "CreditMemo": 2,
    "RefundReceipt": 1,
    "Transfer": 1,
    "VendorCredit": 1,
    "Estimate": 3,
    "PurchaseOrder": 2,
    "Customer": 6,
    "Vendor": 3,
    "Item": 2,
    "Employee": 1,
    "Account": 0.5,
}
_FLOORS: Final[dict[str, int]] = {
    "Account": 30,
    "Customer": 12,
    "Vendor": 8,
    "Item": 10,
    "Employee": 4,
    "Class": 5,
    "Department": 4,
    "Term": 4,
    "PaymentMethod": 5,
    "TaxCode": 3,
}
# Fixed-size reference lists (their rows are named, not generated).
_FIXED: Final[frozenset[str]] = frozenset({"Class", "Department", "Term", "PaymentMethod", "TaxCode"})
_TXN_FLOOR: Final[int] = 3


def entity_counts(records: int) -> dict[str, int]:
    """How many base records each entity gets for a company of about ``records`` records.

    Payments never outnumber invoices and bill payments never outnumber bills (each pays its namesake).
    """
    total_weight = sum(_WEIGHTS.values())
    counts: dict[str, int] = {}
    for name in ENTITIES:
        floor = _FLOORS.get(name, _TXN_FLOOR)
        if name in _FIXED:
            counts[name] = floor
            continue
        counts[name] = max(floor, round(records * _WEIGHTS[name] / total_weight))
    counts["Payment"] = min(counts["Payment"], counts["Invoice"])
    counts["BillPayment"] = min(counts["BillPayment"], counts["Bill"])
    return counts
