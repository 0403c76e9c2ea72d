"""Bodies of the name-list entities (Account, Customer, Vendor, Item, Employee and the small reference lists).

Each renderer returns the record without ``Id``, ``SyncToken``, ``MetaData`` and ``Active`` (the store adds
those).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fakes.qbo.basics import (
    ACC_COGS,
    ACC_PRODUCT_INCOME,
    ACC_SERVICE_INCOME,
    CLASS_NAMES,
    DEPARTMENT_NAMES,
    FIRST,
    LAST,
    PAYMENT_METHODS,
    TAX_CODES,
    TERMS,
    USD,
    Company,
    account_row,
    address,
    customer_address,
    item_is_service,
    item_price,
    money,
    name_of,
    ref,
    rint,
    share,
)
from tests.fakes.qbo.links import term_of

ListRenderer = Callable[[Company, int], dict[str, Any]]


def _phone(key: int) -> dict[str, str]:
    return {"FreeFormNumber": f"({key % 900 + 100}) 555-{key % 10000:04d}"}


def _email(name: str) -> dict[str, str]:
    local = "".join(ch for ch in name.lower() if ch.isalnum())[:20]
    return {"Address": f"{local}@example.com"}


def render_account(company: Company, idx: int) -> dict[str, Any]:
    """CurrentBalance is 0 here; a served account carries the balance of its postings (``books.py``)."""
    name, acc_type, sub_type, classification = account_row(company, idx)
    body: dict[str, Any] = {
        "Name": name,
        "SubAccount": False,
        "FullyQualifiedName": name,
        "Classification": classification,
        "AccountType": acc_type,
        "AccountSubType": sub_type,
        "CurrentBalance": money(0),
        "CurrentBalanceWithSubAccounts": money(0),
        "CurrencyRef": USD,
        "domain": "QBO",
        "sparse": False,
    }
    if idx % 4 == 1:
        body["AcctNum"] = str(1000 + idx)
    return body


def _person_names(idx: int, salt: int) -> tuple[str, str]:
    return FIRST[(idx + salt) % len(FIRST)], LAST[(idx // 3 + salt) % len(LAST)]


def render_customer(company: Company, idx: int) -> dict[str, Any]:
    rng = company.rng("Customer", idx)
    display = name_of("Customer", idx)
    given, family = _person_names(idx, 0)
    bill = customer_address(company, idx)
    body: dict[str, Any] = {
        "Taxable": rng.random() < 0.6,
        "BillAddr": bill,
        "ShipAddr": bill if rng.random() < 0.7 else address(rng, 2 * idx + 2),
        "Job": False,
        "BillWithParent": False,
        "Balance": money(0),
        "BalanceWithJobs": money(0),
        "CurrencyRef": USD,
        "PreferredDeliveryMethod": "Email" if rng.random() < 0.8 else "Print",
        "IsProject": False,
        "domain": "QBO",
        "sparse": False,
        "GivenName": given,
        "FamilyName": family,
        "FullyQualifiedName": display,
        "CompanyName": display if idx % 3 == 0 else None,
        "DisplayName": display,
        "PrintOnCheckName": display,
        "PrimaryPhone": _phone(company.key("Customer", idx)),
        "PrimaryEmailAddr": _email(display),
        "SalesTermRef": ref("Term", term_of(company, "Customer", idx)),
    }
    if body["CompanyName"] is None:
        del body["CompanyName"]
    if rng.random() < 0.2:
        body["Notes"] = "Prefers invoices by email."
    return body


def render_vendor(company: Company, idx: int) -> dict[str, Any]:
    rng = company.rng("Vendor", idx)
    display = name_of("Vendor", idx)
    return {
        "BillAddr": address(rng, 10_000_000 + idx),
        "Balance": money(0),
        "Vendor1099": rng.random() < 0.2,
        "CurrencyRef": USD,
        "domain": "QBO",
        "sparse": False,
        "CompanyName": display,
        "DisplayName": display,
        "PrintOnCheckName": display,
        "PrimaryPhone": _phone(company.key("Vendor", idx)),
        "PrimaryEmailAddr": _email(display),
        "TermRef": ref("Term", term_of(company, "Vendor", idx)),
        "AcctNum": str(20_000 + idx),
    }


def render_employee(company: Company, idx: int) -> dict[str, Any]:
    rng = company.rng("Employee", idx)
    display = name_of("Employee", idx)
    given, family = display.rsplit(" ", 1)[0].split(" ", 1)
    return {
        "BillableTime": rng.random() < 0.5,
        "domain": "QBO",
        "sparse": False,
        "GivenName": given,
        "FamilyName": family,
        "DisplayName": display,
        "PrintOnCheckName": display,
        "PrimaryAddr": address(rng, 20_000_000 + idx),
        "PrimaryPhone": _phone(company.key("Employee", idx)),
        "HiredDate": company.clock.date(company.history_start + rint(rng, 0, 86400 * 365)),
        "EmployeeNumber": f"E{idx + 1:04d}",
    }


def render_item(company: Company, idx: int) -> dict[str, Any]:
    rng = company.rng("Item", idx)
    name = name_of("Item", idx)
    service = item_is_service(idx)
    body: dict[str, Any] = {
        "Name": name,
        "Description": f"{name} ({'service' if service else 'product'})",
        "FullyQualifiedName": name,
        "Taxable": not service,
        "UnitPrice": money(item_price(company, idx)),
        # Goods are non-inventory: the books post no cost of goods sold at sale time (see README).
        "Type": "Service" if service else "NonInventory",
        "IncomeAccountRef": ref("Account", ACC_SERVICE_INCOME if service else ACC_PRODUCT_INCOME),
        "PurchaseCost": money(0) if service else money(share(item_price(company, idx), 6, 10)),
        "ExpenseAccountRef": ref("Account", ACC_COGS),
        "TrackQtyOnHand": False,
        "domain": "QBO",
        "sparse": False,
    }
    if rng.random() < 0.3:
        body["PurchaseDesc"] = f"{name} from the supplier"
    return body


def render_class(company: Company, idx: int) -> dict[str, Any]:
    name = CLASS_NAMES[idx % len(CLASS_NAMES)]
    return {"Name": name, "SubClass": False, "FullyQualifiedName": name, "domain": "QBO", "sparse": False}


def render_department(company: Company, idx: int) -> dict[str, Any]:
    name = DEPARTMENT_NAMES[idx % len(DEPARTMENT_NAMES)]
    return {
        "Name": name,
        "SubDepartment": False,
        "FullyQualifiedName": name,
        "domain": "QBO",
        "sparse": False,
    }


def render_term(company: Company, idx: int) -> dict[str, Any]:
    name, days = TERMS[idx % len(TERMS)]
    return {
        "Name": name,
        "Type": "STANDARD",
        "DueDays": days,
        "DiscountPercent": 0,
        "DiscountDays": 0,
        "domain": "QBO",
        "sparse": False,
    }


def render_payment_method(company: Company, idx: int) -> dict[str, Any]:
    name, kind = PAYMENT_METHODS[idx % len(PAYMENT_METHODS)]
    return {"Name": name, "Type": kind, "domain": "QBO", "sparse": False}


def render_tax_code(company: Company, idx: int) -> dict[str, Any]:
    name, _rate = TAX_CODES[idx % len(TAX_CODES)]
    return {
        "Name": name,
        "Description": f"{name} sales tax",
        "Hidden": False,
        "Taxable": True,
        "TaxGroup": True,
        "SalesTaxRateList": {
            "TaxRateDetail": [
                {
                    "TaxRateRef": {"value": str(idx + 1), "name": f"{name} rate"},
                    "TaxTypeApplicable": "TaxOnAmount",
                    "TaxOrder": 0,
                }
            ]
        },
        "PurchaseTaxRateList": {"TaxRateDetail": []},
        "domain": "QBO",
        "sparse": False,
    }


LIST_RENDERERS: dict[str, ListRenderer] = {
    "Account": render_account,
    "Customer": render_customer,
    "Vendor": render_vendor,
    "Employee": render_employee,
    "Item": render_item,
    "Class": render_class,
    "Department": render_department,
    "Term": render_term,
    "PaymentMethod": render_payment_method,
    "TaxCode": render_tax_code,
}
