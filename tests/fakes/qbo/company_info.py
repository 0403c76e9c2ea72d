"""``GET /v3/company/{realm}/companyinfo/{realm}``: the company's own record (name, country, address).

Connecting tools read it to show which company the user picked on Intuit's consent screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.fakes.qbo.faults import not_found
from tests.fakes.qbo.render import dumps

if TYPE_CHECKING:
    from tests.fakes.qbo.basics import Company


def company_info(company: Company, record_id: str, now: float) -> bytes:
    """The CompanyInfo answer; Intuit serves it under the realm id only (anything else: Fault 610)."""
    if record_id != company.realm_id:
        raise not_found("CompanyInfo", record_id)
    clock = company.clock
    address = {
        "Id": "1",
        "Line1": f"{100 + company.index} Main Street",
        "City": "Mountain View",
        "CountrySubDivisionCode": "CA",
        "PostalCode": "94043",
        "Country": "USA",
    }
    body = {
        "CompanyInfo": {
            "CompanyName": company.name,
            "LegalName": company.name,
            "CompanyAddr": address,
            "LegalAddr": address,
            "Country": "USA",
            "Email": {"Address": f"books{company.index + 1}@example.com"},
            "FiscalYearStartMonth": "January",
            "SupportedLanguages": "en",
            "domain": "QBO",
            "sparse": False,
            "Id": "1",
            "SyncToken": "4",
            "MetaData": {
                "CreateTime": clock.seconds(company.history_start),
                "LastUpdatedTime": clock.seconds(company.history_start),
            },
        },
        "time": clock.millis(now),
    }
    return dumps(body)
