"""The stream schemas describe QBO entities exactly: structure, types, and real payload shapes.

Sample payloads follow the shapes in Intuit's Accounting API entity reference. They are parsed the
way the tap parses responses (JSON numbers with a fraction as ``Decimal``) and validated with a
format-checking validator against a *strict* copy of each schema (no undeclared properties), so a
field QBO returns that the schema lacks fails the test.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import jsonschema  # type: ignore[import-untyped,unused-ignore]
import pytest

from tap_quickbooks_cdc.registry import ENTITY_FOR_STREAM, STREAM_SCHEMAS
from tap_quickbooks_cdc.schemas import build_schema
from tap_quickbooks_cdc.schemas.common import strings
from tests.fakes.qbo import iter_entity_records

EXPECTED_STREAMS = {
    "accounts": "Account", "bills": "Bill", "bill_payments": "BillPayment", "classes": "Class",
    "credit_memos": "CreditMemo", "customers": "Customer", "departments": "Department",
    "deposits": "Deposit", "employees": "Employee", "estimates": "Estimate", "invoices": "Invoice",
    "items": "Item", "journal_entries": "JournalEntry", "payment_methods": "PaymentMethod",
    "payments": "Payment", "purchase_orders": "PurchaseOrder", "purchases": "Purchase",
    "refund_receipts": "RefundReceipt", "sales_receipts": "SalesReceipt", "tax_codes": "TaxCode",
    "terms": "Term", "transfers": "Transfer", "vendor_credits": "VendorCredit", "vendors": "Vendor",
}  # fmt: skip

# Field names that hold money, rates or quantities wherever they appear.
NUMERIC_FIELDS = {
    "Amount", "TotalAmt", "HomeTotalAmt", "Balance", "HomeBalance", "UnitPrice", "Qty", "Quantity",
    "TotalTax", "ExchangeRate", "Deposit", "DiscountPercent", "DiscountRate", "DiscountAmt",
    "UnappliedAmt", "RemainingCredit", "CurrentBalance", "CurrentBalanceWithSubAccounts",
    "PurchaseCost", "QtyOnHand", "TaxPercent", "NetAmountTaxable", "TaxAmount", "TaxInclusiveAmt",
    "BalanceWithJobs", "BillRate", "CostRate", "ReorderPoint",
}  # fmt: skip
DATE_FIELDS = {"TxnDate", "DueDate", "ShipDate", "ServiceDate", "ExpirationDate", "InvStartDate"}

META = (
    '"MetaData": {"CreateTime": "2026-09-19T13:16:17-07:00", "LastUpdatedTime": "2026-09-20T09:01:02-07:00"}'
)
ADDR = '{"Id": "95", "Line1": "5647 Cypress Hill Ave.", "City": "Middlefield", "CountrySubDivisionCode": "CA", "PostalCode": "94303", "Country": "USA", "Lat": "37.4238562", "Long": "-122.1141681"}'  # noqa: E501
TAX = '"TxnTaxDetail": {"TxnTaxCodeRef": {"value": "2"}, "TotalTax": 26.82, "TaxLine": [{"Amount": 26.82, "DetailType": "TaxLineDetail", "TaxLineDetail": {"TaxRateRef": {"value": "3"}, "PercentBased": true, "TaxPercent": 8, "NetAmountTaxable": 335.25}}]}'  # noqa: E501

SAMPLES: dict[str, str] = {
    "invoices": f"""{{"Id": "130", "SyncToken": "2", "domain": "QBO", "sparse": false, {META},
      "DocNumber": "1037", "TxnDate": "2026-09-19", "DueDate": "2026-10-19", "ShipDate": "2026-09-21",
      "CurrencyRef": {{"value": "USD", "name": "United States Dollar"}}, "ExchangeRate": 1,
      "CustomerRef": {{"value": "24", "name": "Sonnenschein Family Store"}}, "SalesTermRef": {{"value": "3"}},
      "CustomField": [{{"DefinitionId": "1", "Name": "Crew #", "Type": "StringType", "StringValue": "102"}}],
      "Line": [
        {{"Id": "1", "LineNum": 1, "Description": "Rock Fountain", "Amount": 275.00,
          "DetailType": "SalesItemLineDetail",
          "SalesItemLineDetail": {{"ItemRef": {{"value": "5", "name": "Rock Fountain"}}, "UnitPrice": 275,
            "Qty": 1,
            "ItemAccountRef": {{"value": "79", "name": "Sales of Product Income"}},
              "TaxCodeRef": {{"value": "TAX"}},
            "ClassRef": {{"value": "5000000000000000001"}}, "ServiceDate": "2026-09-18"}}}},
        {{"Id": "2", "LineNum": 2, "Amount": 85.25, "DetailType": "GroupLineDetail",
          "GroupLineDetail": {{"GroupItemRef": {{"value": "19", "name": "Garden kit"}}, "Quantity": 1,
            "Line": [{{"Id": "3", "LineNum": 1, "Amount": 85.25, "DetailType": "SalesItemLineDetail",
              "SalesItemLineDetail": {{"ItemRef": {{"value": "7"}}, "UnitPrice": 17.05, "Qty": 5}}}}]}}}},
        {{"Id": "4", "LineNum": 3, "Description": "Installed on site", "DetailType": "DescriptionOnly",
          "DescriptionLineDetail": {{"ServiceDate": "2026-09-18"}}}},
        {{"Amount": 360.25, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {{}}}},
        {{"Amount": 25.00, "DetailType": "DiscountLineDetail", "DiscountLineDetail": {{"PercentBased": false,
          "DiscountAccountRef": {{"value": "86", "name": "Discounts given"}}}}}}],
      {TAX}, "TotalAmt": 362.07, "Balance": 362.07, "Deposit": 0, "ApplyTaxAfterDiscount": false,
      "PrintStatus": "NeedToPrint", "EmailStatus": "NotSet", "BillEmail": {{"Address": "store@example.com"}},
      "BillAddr": {ADDR}, "ShipAddr": {ADDR}, "FreeFormAddress": true, "ShipFromAddr": {ADDR},
      "CustomerMemo": {{"value": "Thank you for your business!"}}, "ProjectRef": {{"value": "39298034"}},
      "LinkedTxn": [{{"TxnId": "100", "TxnType": "Estimate"}}], "AllowOnlineACHPayment": false,
      "DeliveryInfo": {{"DeliveryType": "Email", "DeliveryTime": "2026-09-19T13:20:00-07:00"}}}}""",
    "bills": f"""{{"Id": "25", "SyncToken": "0", "domain": "QBO", {META}, "TxnDate": "2026-09-01",
      "DueDate": "2026-10-01", "VendorRef": {{"value": "56", "name": "Bob's Burger Joint"}},
      "APAccountRef": {{"value": "33", "name": "Accounts Payable (A/P)"}}, "SalesTermRef": {{"value": "3"}},
      "CurrencyRef": {{"value": "USD"}}, "TotalAmt": 200.50, "Balance": 200.50,
        "PrivateNote": "Sept supplies",
      "Line": [
        {{"Id": "1", "LineNum": 1, "Amount": 120.00, "Description": "Lumber",
          "DetailType": "AccountBasedExpenseLineDetail",
          "AccountBasedExpenseLineDetail": {{"AccountRef": {{"value": "7", "name": "Advertising"}},
            "BillableStatus": "Billable", "CustomerRef": {{"value": "3"}}, "TaxCodeRef": {{"value": "NON"}},
            "MarkupInfo": {{"PercentBased": true, "Percent": 10}}}}}},
        {{"Id": "2", "LineNum": 2, "Amount": 80.50, "DetailType": "ItemBasedExpenseLineDetail",
          "LinkedTxn": [{{"TxnId": "41", "TxnType": "PurchaseOrder", "TxnLineId": "1"}}],
          "ItemBasedExpenseLineDetail": {{"ItemRef": {{"value": "11", "name": "Pump"}}, "UnitPrice": 16.10,
            "Qty": 5,
            "BillableStatus": "NotBillable", "TaxCodeRef": {{"value": "NON"}}}}}}],
      "LinkedTxn": [{{"TxnId": "41", "TxnType": "PurchaseOrder"}}]}}""",
    "payments": f"""{{"Id": "163", "SyncToken": "0", "domain": "QBO", "sparse": false, {META},
      "TxnDate": "2026-09-20", "TotalAmt": 55.00, "UnappliedAmt": 10.00, "ProcessPayment": false,
      "CustomerRef": {{"value": "20", "name": "Red Rock Diner"}}, "DepositToAccountRef": {{"value": "4"}},
      "PaymentMethodRef": {{"value": "2"}}, "PaymentRefNum": "4021", "CurrencyRef": {{"value": "USD"}},
      "Line": [{{"Amount": 45.00, "LinkedTxn": [{{"TxnId": "69", "TxnType": "Invoice"}}],
        "LineEx": {{"any": [{{"name": "{{http://schema.intuit.com/finance/v3}}NameValue", "nil": false,
          "value": {{"Name": "txnId", "Value": "69"}}}}]}}}}],
      "CreditCardPayment": {{"CreditChargeInfo": {{"ProcessPayment": false, "CcExpiryMonth": 7,
        "CcExpiryYear": 2028}},
        "CreditChargeResponse": {{"Status": "Completed", "CCTransId": "E1234",
          "TxnAuthorizationTime": "2026-09-20T10:00:00Z"}}}}}}""",
    "journal_entries": f"""{{"Id": "227", "SyncToken": "0", "domain": "QBO", {META}, "TxnDate": "2026-09-30",
      "DocNumber": "JE-9", "Adjustment": false, "TotalAmt": 0, "PrivateNote": "Accrual",
      "Line": [
        {{"Id": "0", "LineNum": 1, "Description": "accrued rent", "Amount": 100.00,
          "DetailType": "JournalEntryLineDetail",
          "JournalEntryLineDetail": {{"PostingType": "Debit", "AccountRef": {{"value": "39",
            "name": "Opening Bal Equity"}},
            "ClassRef": {{"value": "1"}}, "DepartmentRef": {{"value": "2"}},
            "Entity": {{"Type": "Customer", "EntityRef": {{"value": "3", "name": "Cool Cars"}}}}}}}},
        {{"Id": "1", "LineNum": 2, "Amount": 100.00, "DetailType": "JournalEntryLineDetail",
          "JournalEntryLineDetail": {{"PostingType": "Credit", "AccountRef": {{"value": "44",
            "name": "Notes Payable"}}}}}}]}}""",
    "deposits": f"""{{"Id": "148", "SyncToken": "0", "domain": "QBO", {META}, "TxnDate": "2026-09-21",
      "DepositToAccountRef": {{"value": "35", "name": "Checking"}}, "TotalAmt": 1275.00,
        "CurrencyRef": {{"value": "USD"}},
      "Line": [
        {{"Id": "1", "LineNum": 1, "Amount": 1200.00, "LinkedTxn": [{{"TxnId": "120", "TxnType": "Payment",
          "TxnLineId": "0"}}]}},
        {{"Id": "2", "LineNum": 2, "Amount": 75.00, "DetailType": "DepositLineDetail",
          "DepositLineDetail": {{"AccountRef": {{"value": "87", "name": "Unapplied Cash Payment Income"}},
            "Entity": {{"value": "3", "name": "Cool Cars", "type": "CUSTOMER"}},
              "PaymentMethodRef": {{"value": "1"}},
            "CheckNum": "1001"}}}}],
      "CashBack": {{"AccountRef": {{"value": "36"}}, "Amount": 20.00, "Memo": "petty cash"}}}}""",
    "bill_payments": f"""{{"Id": "247", "SyncToken": "0", "domain": "QBO", {META}, "TxnDate": "2026-09-25",
      "VendorRef": {{"value": "56", "name": "Bob's Burger Joint"}}, "PayType": "Check", "TotalAmt": 200.50,
      "DocNumber": "1", "CheckPayment": {{"BankAccountRef": {{"value": "35", "name": "Checking"}},
        "PrintStatus": "NeedToPrint"}},
      "Line": [{{"Amount": 200.50, "LinkedTxn": [{{"TxnId": "25", "TxnType": "Bill"}}]}}]}}""",
    "purchases": f"""{{"Id": "252", "SyncToken": "0", "domain": "QBO", {META}, "TxnDate": "2026-09-26",
      "PaymentType": "CreditCard", "Credit": false, "AccountRef": {{"value": "42", "name": "Visa"}},
      "EntityRef": {{"value": "56", "name": "Bob's Burger Joint", "type": "Vendor"}}, "TotalAmt": 10.00,
      "Line": [{{"Id": "1", "Amount": 10.00, "DetailType": "AccountBasedExpenseLineDetail",
        "AccountBasedExpenseLineDetail": {{"AccountRef": {{"value": "13", "name": "Meals"}},
          "BillableStatus": "NotBillable",
          "TaxCodeRef": {{"value": "NON"}}}}}}], "PurchaseEx": {{"any": []}}}}""",
    "customers": f"""{{"Id": "67", "SyncToken": "0", "domain": "QBO", "sparse": false, {META},
      "DisplayName": "Bill's Windsurf Shop", "GivenName": "Bill", "FamilyName": "Lucchini",
        "CompanyName": "Bill's Windsurf Shop",
      "FullyQualifiedName": "Bill's Windsurf Shop", "PrintOnCheckName": "Bill's Windsurf Shop",
        "Active": true, "Taxable": false,
      "Job": false, "BillWithParent": false, "IsProject": false, "Balance": 85.00, "BalanceWithJobs": 85.00,
      "PreferredDeliveryMethod": "Print", "CurrencyRef": {{"value": "USD", "name": "United States Dollar"}},
      "PrimaryEmailAddr": {{"Address": "Surf@Intuit.com"}},
        "PrimaryPhone": {{"FreeFormNumber": "(415) 444-6538"}},
      "WebAddr": {{"URI": "http://example.com"}}, "BillAddr": {ADDR}, "ShipAddr": {ADDR}, "Level": 0,
      "SalesTermRef": {{"value": "3"}}, "V4IDPseudonym": "002098ab"}}""",
    "items": f"""{{"Id": "11", "SyncToken": "2", "domain": "QBO", "sparse": false, {META}, "Name": "Pump",
      "FullyQualifiedName": "Pump", "Description": "Fountain Pump", "Active": true, "Taxable": true,
        "Type": "Inventory",
      "UnitPrice": 15, "PurchaseCost": 10, "PurchaseDesc": "Fountain Pump", "TrackQtyOnHand": true,
        "QtyOnHand": 25,
      "InvStartDate": "2026-01-01", "IncomeAccountRef": {{"value": "79", "name": "Sales of Product Income"}},
      "ExpenseAccountRef": {{"value": "80"}}, "AssetAccountRef": {{"value": "81"}}, "SubItem": false,
        "Level": 0, "Sku": "P-1"}}""",
    "vendors": f"""{{"Id": "56", "SyncToken": "0", "domain": "QBO", "sparse": false, {META},
      "DisplayName": "Bob's Burger Joint",
      "PrintOnCheckName": "Bob's Burger Joint", "Active": true, "Vendor1099": false, "Balance": 0,
        "AcctNum": "35372649",
      "TaxIdentifier": "XXXXXX1111", "CurrencyRef": {{"value": "USD"}}, "BillAddr": {ADDR},
        "TermRef": {{"value": "3"}},
      "OtherContactInfo": [{{"Type": "TelephoneNumber",
        "Telephone": {{"FreeFormNumber": "(650) 555-1234"}}}}]}}""",
    "accounts": f"""{{"Id": "94", "SyncToken": "0", "domain": "QBO", "sparse": false, {META},
      "Name": "Canadian Accounts Receivable",
      "FullyQualifiedName": "Canadian Accounts Receivable", "SubAccount": false, "Active": true,
        "Classification": "Asset",
      "AccountType": "Accounts Receivable", "AccountSubType": "AccountsReceivable", "CurrentBalance": 0,
      "CurrentBalanceWithSubAccounts": 0, "CurrencyRef": {{"value": "USD",
        "name": "United States Dollar"}}}}""",
    "tax_codes": f"""{{"Id": "2", "SyncToken": "0", "domain": "QBO", "sparse": false, {META},
      "Name": "California",
      "Description": "California", "Active": true, "Hidden": false, "Taxable": true, "TaxGroup": true,
      "SalesTaxRateList": {{"TaxRateDetail": [{{"TaxRateRef": {{"value": "3", "name": "California"}},
        "TaxTypeApplicable": "TaxOnAmount", "TaxOrder": 0}}]}},
          "PurchaseTaxRateList": {{"TaxRateDetail": []}}}}""",
    "terms": f"""{{"Id": "3", "SyncToken": "0", "domain": "QBO", "sparse": false, {META}, "Name": "Net 30",
      "Active": true, "Type": "STANDARD", "DueDays": 30, "DiscountDays": 10, "DiscountPercent": 2.5}}""",
    "transfers": f"""{{"Id": "184", "SyncToken": "0", "domain": "QBO", "sparse": false, {META},
      "TxnDate": "2026-09-27",
      "FromAccountRef": {{"value": "35", "name": "Checking"}}, "ToAccountRef": {{"value": "36",
        "name": "Savings"}},
      "Amount": 120.00}}""",
    "estimates": f"""{{"Id": "41", "SyncToken": "1", "domain": "QBO", {META}, "TxnDate": "2026-09-10",
      "ExpirationDate": "2026-10-10", "AcceptedDate": "2026-09-12", "AcceptedBy": "Geeta",
      "TxnStatus": "Accepted",
      "CustomerRef": {{"value": "3"}}, "TotalAmt": 70.00, "EmailStatus": "EmailSent", "Line": [{{"Id": "1",
      "LineNum": 1, "Amount": 70.00, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {{"ItemRef":
      {{"value": "3"}}, "Qty": 2, "UnitPrice": 35}}}}], "LinkedTxn": [{{"TxnId": "130",
      "TxnType": "Invoice"}}]}}""",
    "credit_memos": f"""{{"Id": "73", "SyncToken": "0", "domain": "QBO", {META}, "TxnDate": "2026-09-11",
      "CustomerRef": {{"value": "3"}}, "TotalAmt": 90.00, "Balance": 0, "RemainingCredit": 0,
      "Line": [{{"Id": "1",
      "Amount": 90.00, "DetailType": "SalesItemLineDetail",
      "SalesItemLineDetail": {{"ItemRef": {{"value": "1"}}}}}}],
      "BillAddr": {ADDR}, "CustomerMemo": {{"value": "Refund"}}, "PrintStatus": "NotSet"}}""",
    "sales_receipts": f"""{{"Id": "11", "SyncToken": "0", "domain": "QBO", {META}, "TxnDate": "2026-09-12",
      "DocNumber": "1003", "CustomerRef": {{"value": "16"}}, "TotalAmt": 337.5, "Balance": 0,
      "PaymentRefNum": "10264",
      "PaymentMethodRef": {{"value": "2"}}, "DepositToAccountRef": {{"value": "4"}}, "Line": [{{"Id": "1",
      "Amount": 337.5, "DetailType": "SalesItemLineDetail",
      "SalesItemLineDetail": {{"ItemRef": {{"value": "10"}},
      "Qty": 25, "UnitPrice": 13.5, "TaxCodeRef": {{"value": "NON"}}}}}}],
      "ApplyTaxAfterDiscount": false}}""",
    "refund_receipts": f"""{{"Id": "66", "SyncToken": "0", "domain": "QBO", {META}, "TxnDate": "2026-09-13",
      "CustomerRef": {{"value": "16"}}, "DepositToAccountRef": {{"value": "35"}}, "PaymentType": "Check",
      "CheckPayment": {{"CheckNum": "1025", "Status": "NotSet"}}, "PaymentRefNum": "To Print",
      "TotalAmt": 422.4,
      "Balance": 0, "Line": [{{"Id": "1", "Amount": 422.4, "DetailType": "SalesItemLineDetail",
      "SalesItemLineDetail": {{"ItemRef": {{"value": "1"}}, "TaxCodeRef": {{"value": "TAX"}}}}}}]}}""",
    "purchase_orders": f"""{{"Id": "41", "SyncToken": "0", "domain": "QBO", {META}, "TxnDate": "2026-08-30",
      "VendorRef": {{"value": "56"}}, "APAccountRef": {{"value": "33"}}, "POStatus": "Open",
      "TotalAmt": 80.50,
      "EmailStatus": "NotSet", "POEmail": {{"Address": "po@example.com"}}, "VendorAddr": {ADDR},
      "ShipAddr": {ADDR},
      "Line": [{{"Id": "1", "Amount": 80.50, "DetailType": "ItemBasedExpenseLineDetail",
      "ItemBasedExpenseLineDetail": {{"ItemRef": {{"value": "11"}}, "Qty": 5, "UnitPrice": 16.10}}}}]}}""",
    "vendor_credits": f"""{{"Id": "157", "SyncToken": "0", "domain": "QBO", {META}, "TxnDate": "2026-09-14",
      "VendorRef": {{"value": "56"}}, "APAccountRef": {{"value": "33"}}, "TotalAmt": 90.00, "Balance": 90.00,
      "Line": [{{"Id": "1", "Amount": 90.00, "DetailType": "AccountBasedExpenseLineDetail",
      "AccountBasedExpenseLineDetail": {{"AccountRef": {{"value": "7"}},
      "BillableStatus": "NotBillable"}}}}]}}""",
    "employees": f"""{{"Id": "71", "SyncToken": "0", "domain": "QBO", {META}, "DisplayName": "Emily Platt",
      "GivenName": "Emily", "FamilyName": "Platt", "Active": true, "BillableTime": false,
      "SSN": "XXX-XX-XXXX",
      "PrimaryAddr": {ADDR}, "HiredDate": "2024-03-01", "EmployeeNumber": "E-7", "CostRate": 22.5}}""",
    "classes": f"""{{"Id": "5000000000000000001", "SyncToken": "0", "domain": "QBO", {META}, "Name": "Retail",
      "SubClass": true, "ParentRef": {{"value": "5000000000000000000"}}, "FullyQualifiedName": "Sales:Retail",
      "Active": true}}""",
    "departments": f"""{{"Id": "2", "SyncToken": "0", "domain": "QBO", {META}, "Name": "North",
      "SubDepartment": false, "FullyQualifiedName": "North", "Active": true}}""",
    "payment_methods": f"""{{"Id": "2", "SyncToken": "0", "domain": "QBO", {META}, "Name": "Check",
      "Type": "NON_CREDIT_CARD", "Active": true}}""",
}


def _with_sync_columns(record: dict[str, Any]) -> dict[str, Any]:
    return {
        **record,
        "realm_id": "9130348",
        "last_updated_at": "2026-09-20T16:01:02+00:00",
        "_sdc_deleted_at": None,
    }


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """Copy of ``schema`` where every object with declared properties rejects undeclared ones."""
    strict = copy.deepcopy(schema)

    def walk(node: dict[str, Any]) -> None:
        if node.get("properties"):
            node["additionalProperties"] = False
            for child in node["properties"].values():
                walk(child)
        if isinstance(node.get("items"), dict):
            walk(node["items"])

    walk(strict)
    return strict


def _validator(schema: dict[str, Any]) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def _leaves(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Yield (dotted path, property name, schema) for every property at every depth."""
    for name, child in node.get("properties", {}).items():
        yield f"{path}{name}", name, child
        yield from _leaves(child, f"{path}{name}.")
    if isinstance(node.get("items"), dict):
        yield from _leaves(node["items"], f"{path}[].")


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def test_public_api_lists_every_stream_with_its_qbo_entity() -> None:
    assert ENTITY_FOR_STREAM == EXPECTED_STREAMS
    assert set(STREAM_SCHEMAS) == set(EXPECTED_STREAMS)
    assert set(SAMPLES) == set(EXPECTED_STREAMS)


@pytest.mark.parametrize("stream", sorted(EXPECTED_STREAMS))
def test_schema_is_valid_json_schema_with_sync_columns(stream: str) -> None:
    schema = STREAM_SCHEMAS[stream]
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.validators.validator_for(schema).check_schema(schema)
    props = schema["properties"]
    for name in (
        "realm_id",
        "Id",
        "SyncToken",
        "MetaData",
        "last_updated_at",
        "_sdc_deleted_at",
        "status",
        "domain",
    ):
        assert name in props, f"{stream} lacks {name}"
    assert schema["required"] == ["realm_id"]
    assert _types(props["realm_id"]) == {"string"}
    assert _types(props["Id"]) == {"string", "null"}
    assert _types(props["SyncToken"]) == {"string", "null"}
    assert props["last_updated_at"]["format"] == "date-time"
    assert props["_sdc_deleted_at"]["format"] == "date-time"
    assert "null" in _types(props["_sdc_deleted_at"])
    metadata = props["MetaData"]["properties"]
    assert metadata["LastUpdatedTime"]["format"] == "date-time"
    assert metadata["CreateTime"]["format"] == "date-time"


@pytest.mark.parametrize("stream", sorted(EXPECTED_STREAMS))
def test_field_types_follow_qbo_conventions(stream: str) -> None:
    checked_numeric = 0
    for path, name, node in _leaves(STREAM_SCHEMAS[stream]):
        kinds = _types(node)
        assert kinds - {"null"}, f"{stream}.{path} has no type"
        if name in NUMERIC_FIELDS:
            assert kinds == {"number", "null"}, f"{stream}.{path} must be a number, got {kinds}"
            checked_numeric += 1
        if name in {"Id", "SyncToken", "value", "TxnId", "TxnLineId", "DefinitionId"}:
            assert kinds == {"string", "null"}, f"{stream}.{path} must be a string, got {kinds}"
        if name.endswith("Ref") and name != "CustomerTypeRef":
            assert set(node["properties"]) >= {"value", "name"}, f"{stream}.{path} is not a ReferenceType"
        if name in DATE_FIELDS:
            assert node.get("format") == "date", f"{stream}.{path} must be a date"
        assert "integer" not in kinds or name not in NUMERIC_FIELDS
    assert checked_numeric > 0 or stream in {"classes", "departments", "payment_methods", "tax_codes"}


def test_line_holds_every_detail_type() -> None:
    line = STREAM_SCHEMAS["invoices"]["properties"]["Line"]["items"]["properties"]
    for detail in (
        "SalesItemLineDetail", "GroupLineDetail", "DescriptionLineDetail", "DiscountLineDetail",
        "SubTotalLineDetail", "AccountBasedExpenseLineDetail", "ItemBasedExpenseLineDetail",
        "JournalEntryLineDetail", "DepositLineDetail", "TDSLineDetail",
    ):  # fmt: skip
        assert detail in line
    assert {"Id", "LineNum", "Description", "Amount", "DetailType", "LinkedTxn"} <= set(line)
    group_lines = line["GroupLineDetail"]["properties"]["Line"]["items"]["properties"]
    assert "SalesItemLineDetail" in group_lines
    je_entity = line["JournalEntryLineDetail"]["properties"]["Entity"]["properties"]
    assert set(je_entity) == {"Type", "EntityRef"}


@pytest.mark.parametrize("stream", sorted(SAMPLES))
def test_qbo_sample_payload_validates(stream: str) -> None:
    record = _with_sync_columns(json.loads(SAMPLES[stream], parse_float=Decimal))
    errors = [e.message for e in _validator(_strict(STREAM_SCHEMAS[stream])).iter_errors(record)]
    assert errors == []


@pytest.mark.parametrize("stream", sorted(EXPECTED_STREAMS))
def test_cdc_delete_stub_validates(stream: str) -> None:
    stub = {
        "domain": "QBO",
        "status": "Deleted",
        "Id": "979",
        "MetaData": {"LastUpdatedTime": "2026-09-20T09:01:02-07:00"},
    }
    record = {**_with_sync_columns(stub), "_sdc_deleted_at": "2026-09-20T16:01:02+00:00"}
    assert list(_validator(_strict(STREAM_SCHEMAS[stream])).iter_errors(record)) == []


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda r: r.update(TotalAmt="362.07"), "is not of type"),
        (lambda r: r.update(Id=130), "is not of type"),
        (lambda r: r.update(TxnDate="19/09/2026"), "is not a 'date'"),
        (lambda r: r["MetaData"].update(LastUpdatedTime="yesterday"), "is not a 'date-time'"),
        (lambda r: r["Line"][0]["SalesItemLineDetail"].update(Qty="1"), "is not of type"),
        (lambda r: r["Line"][0].update(Bogus=1), "Additional properties are not allowed"),
        (lambda r: r.pop("realm_id"), "'realm_id' is a required property"),
    ],
)
def test_validation_rejects_wrong_shapes(mutate: Any, expected: str) -> None:
    record = _with_sync_columns(json.loads(SAMPLES["invoices"], parse_float=Decimal))
    mutate(record)
    messages = [e.message for e in _validator(_strict(STREAM_SCHEMAS["invoices"])).iter_errors(record)]
    assert any(expected in message for message in messages), messages


def test_build_schema_refuses_duplicate_properties() -> None:
    with pytest.raises(ValueError, match="'Name' is defined twice"):
        build_schema([*strings("Name", "Amount"), *strings("Name")])


def _undeclared(error: Any) -> set[tuple[str, str]]:
    if error.validator != "additionalProperties":
        return set()
    where = ".".join("[]" if isinstance(p, int) else str(p) for p in error.absolute_path).replace(".[]", "[]")
    extra = set(error.instance) - set(error.schema.get("properties", {}))
    return {(where, name) for name in extra}


@pytest.mark.parametrize("stream", sorted(EXPECTED_STREAMS))
def test_simulator_records_validate(stream: str) -> None:
    loose = _validator(STREAM_SCHEMAS[stream])
    strict = _validator(_strict(STREAM_SCHEMAS[stream]))
    undeclared: set[tuple[str, str]] = set()
    count = 0
    for seed in (1, 2):
        for raw in iter_entity_records(ENTITY_FOR_STREAM[stream], 40, seed=seed):
            record = _with_sync_columns(raw)
            assert [e.message for e in loose.iter_errors(record)] == []
            for error in strict.iter_errors(record):
                assert error.validator == "additionalProperties", error.message
                undeclared |= _undeclared(error)
            count += 1
    assert count == 80
    assert undeclared == set(), "the simulator emits fields Intuit's reference does not have"
