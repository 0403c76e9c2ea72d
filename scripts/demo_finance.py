"""The finance part of `make demo`'s summary, read straight from the dbt marts, and the tie-out status.

Aging buckets per company, last full month's P&L, cash by bank account, and whether every statement equals
the simulator's ground truth (``tests.fakes.qbo.ground_truth.Books``) to the cent.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import duckdb

from tests.fakes.qbo import QboSimulator
from tests.fakes.qbo.ground_truth import BUCKETS, Books
from tests.transform.tie_out import read_marts, tie_out

ZERO = Decimal("0.00")


def last_full_month(today: date) -> date:
    """The first day of the month before ``today``'s."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def aging_buckets(
    con: duckdb.DuckDBPyConnection, mart: str, realm_ids: list[str]
) -> dict[str, dict[str, Decimal]]:
    """realm -> bucket -> open balance (every bucket, zero when empty) plus the total."""
    found = {realm: dict.fromkeys((*BUCKETS, "total"), ZERO) for realm in realm_ids}
    for realm, bucket, amount in con.execute(
        f"select realm_id, aging_bucket, sum(open_balance) from marts.{mart} group by 1, 2"
    ).fetchall():
        found[str(realm)][str(bucket)] = amount
        found[str(realm)]["total"] += amount
    return found


def month_pnl(
    con: duckdb.DuckDBPyConnection, month: date, realm_ids: list[str]
) -> dict[str, dict[str, Decimal]]:
    """realm -> revenue, expenses and net income of ``month``."""
    found = {realm: {"revenue": ZERO, "expenses": ZERO, "net income": ZERO} for realm in realm_ids}
    for realm, revenue, expenses in con.execute(
        "select realm_id, "
        "sum(case when account_classification = 'Revenue' then amount else 0 end), "
        "sum(case when account_classification = 'Expense' then amount else 0 end) "
        "from marts.quickbooks__profit_and_loss where period_first_day = ? group by 1",
        [month],
    ).fetchall():
        found[str(realm)] = {"revenue": revenue, "expenses": expenses, "net income": revenue - expenses}
    return found


def cash(con: duckdb.DuckDBPyConnection, today: date) -> list[tuple[str, str, str, Decimal]]:
    """(realm, account id, account name, balance) of every bank account at the end of ``today``."""
    rows = con.execute(
        "select realm_id, account_id, account_name, balance from marts.quickbooks__cash_position "
        "where date = ? order by 1, 2",
        [today],
    ).fetchall()
    return [(str(r), str(a), str(n), b) for r, a, n, b in rows]


def finance_summary(con: duckdb.DuckDBPyConnection, sim: QboSimulator, today: date) -> dict[str, Any]:
    """Everything the finance tables of the summary show, as data."""
    realm_ids = list(sim.realm_ids)
    marts = read_marts(lambda sql: con.execute(sql).fetchall())
    status = {}
    for realm in realm_ids:
        differences = tie_out(marts[realm], Books(sim, realm))
        status[realm] = {statement: len(found) for statement, found in differences.items()}
    month = last_full_month(today)
    return {
        "ar_aging": aging_buckets(con, "quickbooks__ar_aging", realm_ids),
        "ap_aging": aging_buckets(con, "quickbooks__ap_aging", realm_ids),
        "pnl_month": month.strftime("%Y-%m"),
        "pnl": month_pnl(con, month, realm_ids),
        "cash": cash(con, today),
        "tie_out": status,
    }
