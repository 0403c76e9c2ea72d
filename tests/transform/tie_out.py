"""The marts read back into plain dicts, and their differences from the simulator's ground truth.

Every comparison is exact (``Decimal`` equality, so 1.230000000 == 1.23) and drops zero amounts on both
sides: an account that nets to zero is the same statement whether or not it prints a 0.00 row. A
difference is reported as (what, key, the mart's value, the ground truth's value), at most ``LIMIT`` of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Final

from tests.fakes.qbo.ground_truth import Books

LIMIT: Final = 10
ZERO: Final = Decimal(0)
Key = tuple[Any, ...]
#: Runs one SQL query on the warehouse and returns its rows (DuckDB or PostgreSQL, any DB-API connection).
Query = Callable[[str], list[tuple[Any, ...]]]


@dataclass
class Marts:
    """One company's marts as read after a dbt run."""

    ledger: dict[Key, tuple[Decimal, int]] = field(
        default_factory=dict
    )  # (type, id, account) -> (net, lines)
    profit_and_loss: dict[Key, Decimal] = field(default_factory=dict)  # (account, month) -> amount
    balance_sheet: dict[date, dict[str, Decimal]] = field(
        default_factory=dict
    )  # month end -> account -> balance
    cash: dict[Key, Decimal] = field(default_factory=dict)  # (day, account) -> balance
    ar_aging: dict[date, dict[Key, Key]] = field(default_factory=dict)  # as of -> (type, id) -> item
    ap_aging: dict[date, dict[Key, Key]] = field(default_factory=dict)


def _text(value: Any) -> str:
    return str(value)


def read_marts(query: Query) -> dict[str, Marts]:
    """Every company's general ledger, statements and cash (aging: ``read_aging``)."""
    found: dict[str, Marts] = {}

    def of(realm: Any) -> Marts:
        return found.setdefault(str(realm), Marts())

    for realm, kind, id_, account, net, lines in query(
        "select realm_id, transaction_type, transaction_id, account_id, sum(debit_amount - credit_amount), "
        "count(*) from marts.quickbooks__general_ledger group by 1, 2, 3, 4"
    ):
        of(realm).ledger[(kind, _text(id_), _text(account))] = (net, int(lines))
    for realm, account, month, amount in query(
        "select realm_id, account_id, period_first_day, amount from marts.quickbooks__profit_and_loss"
    ):
        if amount != ZERO:
            of(realm).profit_and_loss[(_text(account), month)] = amount
    for realm, day, account, balance in query(
        "select realm_id, period_last_day, account_id, balance from marts.quickbooks__balance_sheet"
    ):
        rows = of(realm).balance_sheet.setdefault(day, {})
        if balance != ZERO:
            rows[_text(account)] = balance
    for realm, day, account, balance in query(
        "select realm_id, date, account_id, balance from marts.quickbooks__cash_position"
    ):
        of(realm).cash[(day, _text(account))] = balance
    read_aging(query, found)
    return found


def read_aging(query: Query, into: dict[str, Marts]) -> None:
    """Add the A/R and A/P aging of the last dbt run (every as_of_date) to ``into``."""
    for table, attribute in (("quickbooks__ar_aging", "ar_aging"), ("quickbooks__ap_aging", "ap_aging")):
        for realm, as_of, kind, id_, open_balance, bucket, days, due in query(
            f"select realm_id, as_of_date, transaction_type, transaction_id, open_balance, aging_bucket, "
            f"days_past_due, due_date from marts.{table}"
        ):
            marts = into.setdefault(str(realm), Marts())
            getattr(marts, attribute).setdefault(as_of, {})[(kind, _text(id_))] = (
                open_balance,
                bucket,
                int(days),
                due,
            )


def _differences(what: str, ours: Mapping[Any, Any], truth: Mapping[Any, Any]) -> list[tuple[Any, ...]]:
    found = []
    for key in sorted(set(ours) | set(truth), key=repr):
        if ours.get(key) != truth.get(key):
            found.append((what, key, ours.get(key), truth.get(key)))
    return found


def _first(found: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return list(found)[:LIMIT]


def ledger_differences(marts: Marts, books: Books) -> list[tuple[Any, ...]]:
    """Per transaction and account: the net amount and the number of non-zero lines."""
    truth: dict[Key, tuple[Decimal, int]] = {}
    for line in books.general_ledger():
        if line.debit == ZERO and line.credit == ZERO:
            continue
        key = (line.transaction_type, line.transaction_id, line.account_id)
        net, lines = truth.get(key, (ZERO, 0))
        truth[key] = (net + line.debit - line.credit, lines + 1)
    return _first(_differences("ledger", marts.ledger, truth))


def profit_and_loss_differences(marts: Marts, books: Books) -> list[tuple[Any, ...]]:
    truth = {
        (account, month): amount
        for account, months in books.profit_and_loss_by_month().items()
        for month, amount in months.items()
        if amount != ZERO
    }
    return _first(_differences("profit and loss", marts.profit_and_loss, truth))


def balance_sheet_differences(marts: Marts, books: Books) -> list[tuple[Any, ...]]:
    """Every month end the mart has (first transaction's month to the last)."""
    found: list[tuple[Any, ...]] = []
    for day, ours in sorted(marts.balance_sheet.items()):
        truth = {
            row.account_id or "net_income": row.balance
            for row in books.balance_sheet(day)
            if row.balance != ZERO
        }
        found += _differences(f"balance sheet {day}", ours, truth)
    return _first(found)


def aging_differences(marts: Marts, books: Books, side: str) -> list[tuple[Any, ...]]:
    """Every open item of every aging date the mart holds: open balance, bucket, days past due, due date."""
    found: list[tuple[Any, ...]] = []
    for as_of, ours in sorted(getattr(marts, f"{side}_aging").items()):
        items = books.ar_aging(as_of) if side == "ar" else books.ap_aging(as_of)
        truth = {
            (i.transaction_type, i.transaction_id): (i.open_balance, i.bucket, i.days_past_due, i.due_date)
            for i in items
        }
        found += _differences(f"{side} aging {as_of}", ours, truth)
    return _first(found)


def bucket_totals(marts: Marts, side: str, as_of: date) -> dict[str, Decimal]:
    """Sum of open balances per aging bucket (what the summary and dashboards show)."""
    totals: dict[str, Decimal] = {}
    for open_balance, bucket, _, _ in getattr(marts, f"{side}_aging")[as_of].values():
        totals[bucket] = totals.get(bucket, ZERO) + open_balance
    return totals


def cash_differences(marts: Marts, books: Books, days: Iterable[date]) -> list[tuple[Any, ...]]:
    """Bank balances at the end of each of ``days`` (every bank account of the chart)."""
    found: list[tuple[Any, ...]] = []
    for day in days:
        ours = {account: balance for (d, account), balance in marts.cash.items() if d == day}
        found += _differences(f"cash {day}", ours, books.cash_by_bank_account(day))
    return _first(found)


def cash_days(marts: Marts) -> list[date]:
    """The days the cash comparison checks: the first, every month end, and the last three."""
    days = sorted({day for day, _ in marts.cash})
    if not days:
        return []
    month_ends = [d for d in days if (d + timedelta(days=1)).day == 1]
    return sorted({days[0], *month_ends, *days[-3:]})


def tie_out(marts: Marts, books: Books) -> dict[str, list[tuple[Any, ...]]]:
    """Every statement's differences from the ground truth (all lists empty: the marts tie out)."""
    return {
        "general ledger": ledger_differences(marts, books),
        "profit and loss": profit_and_loss_differences(marts, books),
        "balance sheet": balance_sheet_differences(marts, books),
        "A/R aging": aging_differences(marts, books, "ar"),
        "A/P aging": aging_differences(marts, books, "ap"),
        "cash": cash_differences(marts, books, cash_days(marts)),
    }
