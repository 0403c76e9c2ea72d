"""A company with two A/R accounts and departments posts every document once (dbt_quickbooks' #104/#115).

Joining the A/R side by account type doubles every invoice's A/R line as soon as a company has a second
A/R account; here each document posts to its own A/R account (a payment's ARAccountRef, an invoice's
default A/R) and the ledger equals the ground truth line by line, so do the A/R balance and the aging.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.fakes.qbo.ground_truth import Books
from tests.transform.pipeline import Warehouse
from tests.transform.tie_out import aging_differences, ledger_differences, read_marts


@pytest.fixture
def company(two_ar_company: tuple[Warehouse, Books]) -> tuple[Warehouse, Books]:
    return two_ar_company


def test_the_company_really_has_two_ar_accounts_and_departments(company: tuple[Warehouse, Books]) -> None:
    warehouse, _ = company
    assert warehouse.query(
        "select count(*) from staging.stg_quickbooks__accounts where account_type = 'Accounts Receivable'"
    ) == [(2,)]
    assert warehouse.query(
        "select count(distinct department_id) > 1 from staging.stg_quickbooks__invoices"
    ) == [(True,)]


def test_no_general_ledger_line_is_duplicated(company: tuple[Warehouse, Books]) -> None:
    warehouse, books = company
    (marts,) = read_marts(warehouse.query).values()
    ours: Counter[tuple[str, str]] = Counter()
    for (kind, id_, _), (_, lines) in marts.ledger.items():
        ours[(kind, id_)] += lines
    truth = Counter(
        (line.transaction_type, line.transaction_id)
        for line in books.general_ledger()
        if line.debit or line.credit
    )
    assert ours == truth
    assert ledger_differences(marts, books) == []


def test_ar_aging_and_the_ar_balance_tie_out_over_both_accounts(company: tuple[Warehouse, Books]) -> None:
    warehouse, books = company
    (marts,) = read_marts(warehouse.query).values()
    assert aging_differences(marts, books, "ar") == []
    ar_accounts = [a.id for a in books.accounts.values() if a.account_type == "Accounts Receivable"]
    ledger_ar = warehouse.query(
        "select sum(amount) from marts.quickbooks__general_ledger where account_type = 'Accounts Receivable'"
    )[0][0]
    assert ledger_ar == sum(books.account_balances()[account] for account in ar_accounts)
