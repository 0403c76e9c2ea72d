"""Entity-specific fields of QBO name-list entities (chart of accounts, people, items, codes)."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_quickbooks_cdc.schemas.common import (
    ADDRESS,
    CURRENCY_REF,
    EMAIL_ADDRESS,
    EXTENSION,
    TELEPHONE_NUMBER,
    WEBSITE_ADDRESS,
    Prop,
    array_of,
    booleans,
    dates,
    integers,
    numbers,
    prop,
    refs,
    strings,
)

# Vendor.OtherContactInfo items: {"Type": "TelephoneNumber", "Telephone": {"FreeFormNumber": "..."}}
CONTACT_INFO = th.ObjectType(*strings("Type"), prop("Telephone", TELEPHONE_NUMBER))

VENDOR_PAYMENT_BANK_DETAIL = th.ObjectType(
    *strings("BankAccountName", "BankBranchIdentifier", "BankAccountNumber", "StatementText")
)

# Item.ItemGroupDetail / ItemAssemblyDetail: {"ItemGroupLine": [{"ItemRef": {...}, "Qty": 2}]}
ITEM_COMPONENT_LINE = th.ObjectType(*refs("ItemRef"), *numbers("Qty"))
ITEM_GROUP_DETAIL = th.ObjectType(array_of("ItemGroupLine", ITEM_COMPONENT_LINE))
ITEM_ASSEMBLY_DETAIL = th.ObjectType(array_of("ItemAssemblyLine", ITEM_COMPONENT_LINE))

TAX_RATE_DETAIL = th.ObjectType(*refs("TaxRateRef"), *strings("TaxTypeApplicable"), *integers("TaxOrder"))
TAX_RATE_LIST = th.ObjectType(array_of("TaxRateDetail", TAX_RATE_DETAIL))


def _person_name() -> list[Prop]:
    """Name fields shared by Customer, Vendor and Employee."""
    return [
        *strings(
            "Title",
            "GivenName",
            "MiddleName",
            "FamilyName",
            "Suffix",
            "DisplayName",
            "PrintOnCheckName",
            "CompanyName",
            "FullyQualifiedName",
        ),
        *booleans("Active", "Organization"),
        prop("PrimaryEmailAddr", EMAIL_ADDRESS),
        *[prop(name, TELEPHONE_NUMBER) for name in ("PrimaryPhone", "AlternatePhone", "Mobile", "Fax")],
        prop("WebAddr", WEBSITE_ADDRESS),
        *strings("V4IDPseudonym"),
    ]


def account_fields() -> list[Prop]:
    return [
        *strings(
            "Name",
            "AcctNum",
            "Description",
            "FullyQualifiedName",
            "Classification",
            "AccountType",
            "AccountSubType",
            "AccountAlias",
            "TxnLocationType",
        ),
        *booleans("Active", "SubAccount"),
        *refs("ParentRef", "TaxCodeRef"),
        prop("CurrencyRef", CURRENCY_REF),
        *numbers("CurrentBalance", "CurrentBalanceWithSubAccounts"),
    ]


def class_fields() -> list[Prop]:
    return [
        *strings("Name", "FullyQualifiedName"),
        *booleans("Active", "SubClass"),
        *refs("ParentRef"),
    ]


def department_fields() -> list[Prop]:
    return [
        *strings("Name", "FullyQualifiedName"),
        *booleans("Active", "SubDepartment"),
        *refs("ParentRef"),
    ]


def customer_fields() -> list[Prop]:
    return [
        *_person_name(),
        *strings(
            "Notes",
            "ResaleNum",
            "PreferredDeliveryMethod",
            "PrimaryTaxIdentifier",
            "SecondaryTaxIdentifier",
            "BusinessNumber",
            "GSTIN",
            "GSTRegistrationType",
            "Source",
            "ContactName",
            "AltContactName",
            "ClientEntityId",
        ),
        *booleans("Taxable", "Job", "BillWithParent", "IsProject"),
        *refs(
            "ParentRef",
            "SalesTermRef",
            "PaymentMethodRef",
            "DefaultTaxCodeRef",
            "ARAccountRef",
            "CustomerTypeRef",
        ),
        prop("CurrencyRef", CURRENCY_REF),
        *[prop(name, ADDRESS) for name in ("BillAddr", "ShipAddr")],
        *numbers("Balance", "BalanceWithJobs"),
        *dates("OpenBalanceDate"),
        *integers("Level"),
        *strings("TaxExemptionReasonId"),
    ]


def vendor_fields() -> list[Prop]:
    return [
        *_person_name(),
        *strings(
            "AcctNum",
            "TaxIdentifier",
            "BusinessNumber",
            "GSTIN",
            "GSTRegistrationType",
            "TaxReportingBasis",
            "Source",
        ),
        *booleans("Vendor1099", "T4AEligible", "T5018Eligible", "HasTPAR"),
        *refs("TermRef", "APAccountRef"),
        prop("CurrencyRef", CURRENCY_REF),
        prop("BillAddr", ADDRESS),
        array_of("OtherContactInfo", CONTACT_INFO),
        prop("VendorPaymentBankDetail", VENDOR_PAYMENT_BANK_DETAIL),
        *numbers("Balance", "BillRate", "CostRate"),
    ]


def employee_fields() -> list[Prop]:
    return [
        *_person_name(),
        *strings("EmployeeNumber", "SSN", "Gender"),
        *booleans("BillableTime"),
        prop("PrimaryAddr", ADDRESS),
        *numbers("BillRate", "CostRate"),
        *dates("BirthDate", "HiredDate", "ReleasedDate"),
    ]


def item_fields() -> list[Prop]:
    return [
        *strings(
            "Name",
            "Sku",
            "Description",
            "PurchaseDesc",
            "FullyQualifiedName",
            "Type",
            "ItemCategoryType",
            "Source",
            "ServiceType",
            "UQCDisplayText",
            "UQCId",
        ),
        *booleans(
            "Active",
            "SubItem",
            "Taxable",
            "SalesTaxIncluded",
            "PurchaseTaxIncluded",
            "TrackQtyOnHand",
            "PrintGroupedItems",
        ),
        *numbers(
            "UnitPrice", "PurchaseCost", "QtyOnHand", "ReorderPoint", "AbatementRate", "ReverseChargeRate"
        ),
        *refs(
            "ParentRef",
            "IncomeAccountRef",
            "ExpenseAccountRef",
            "AssetAccountRef",
            "SalesTaxCodeRef",
            "PurchaseTaxCodeRef",
            "ClassRef",
            "PrefVendorRef",
            "TaxClassificationRef",
        ),
        *dates("InvStartDate"),
        *integers("Level"),
        prop("ItemGroupDetail", ITEM_GROUP_DETAIL),
        prop("ItemAssemblyDetail", ITEM_ASSEMBLY_DETAIL),
        prop("ItemEx", EXTENSION),
    ]


def payment_method_fields() -> list[Prop]:
    return [*strings("Name", "Type"), *booleans("Active")]


def tax_code_fields() -> list[Prop]:
    return [
        *strings("Name", "Description", "TaxCodeConfigType"),
        *booleans("Active", "Hidden", "Taxable", "TaxGroup"),
        prop("SalesTaxRateList", TAX_RATE_LIST),
        prop("PurchaseTaxRateList", TAX_RATE_LIST),
    ]


def term_fields() -> list[Prop]:
    return [
        *strings("Name", "Type"),
        *booleans("Active"),
        *numbers("DiscountPercent"),
        *integers("DueDays", "DiscountDays", "DayOfMonthDue", "DueNextMonthDays", "DiscountDayOfMonth"),
    ]
