"""The opt-in SQL Runner load (looker_sql_runner_connection) against the simulator's real SQLite database:
every committed batch upserted through create_sql_query + run_sql_query, newest version wins, values only
ever as escaped literals, one fresh login per batch, a failure stops the run before that batch's STATE."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from target_looker_stage.looker.sql_runner import hide_values, literal, quote_identifier
from tests.fakes.looker import LookerSimConfig, LookerSimulator
from tests.target.singer_streams import generated_invoice, invoice_messages, run_target


@pytest.fixture
def sim() -> Iterator[LookerSimulator]:
    with LookerSimulator(LookerSimConfig()) as simulator:
        yield simulator


#: Any text a literal can carry: everything but NUL (refused) and lone surrogates (not UTF-8).
TEXT = st.characters(exclude_characters="\x00", exclude_categories=["Cs"])
INVOICES = 'SELECT "realm_id", "Id", "SyncToken", "TotalAmt", "DocNumber" FROM "invoices" ORDER BY 1, 2'


def sql_runner_config(sim: LookerSimulator, connection: str = "warehouse") -> dict[str, Any]:
    return {
        "stage_uri": "",
        "warehouse_uri": "",
        "batch_size_rows": 10,
        "looker_base_url": sim.base_url,
        "looker_client_id": sim.client_id,
        "looker_client_secret": sim.client_secret,
        "looker_refresh": "never",
        "looker_sql_runner_connection": connection,
    }


def sqlite_rows(sim: LookerSimulator, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(sim.sql_database_path) as connection:
        return connection.execute(sql).fetchall()


def test_each_committed_batch_is_upserted_through_sql_runner_and_the_newest_version_wins(
    sim: LookerSimulator, tmp_path: Path
) -> None:
    run = run_target(
        sql_runner_config(sim), invoice_messages(40, state_every=10, distinct_ids=25), workdir=tmp_path
    )

    assert run.returncode == 0, run.stderr[-3000:]
    assert run.states[-1] == {"position": 40}
    rows = sqlite_rows(sim, INVOICES)
    expected: dict[tuple[str, str], dict[str, Any]] = {}
    for i in range(40):
        record = generated_invoice(i, 25)
        if record.get("_sdc_deleted_at") is None:
            expected[(record["realm_id"], record["Id"])] = record
    stored = {(r[0], r[1]): r for r in rows}
    assert set(stored) >= set(expected)
    for key, record in expected.items():
        assert stored[key][2] == record["SyncToken"]
        assert Decimal(str(stored[key][3])) == record["TotalAmt"]
    logins = [c for c in sim.calls if c.path.endswith("/login")]
    assert len(logins) == 4  # one fresh login per drained batch of 10
    assert all(c.token_live for c in sim.calls if not c.path.endswith("/login"))
    assert sim.client_secret not in run.stdout + run.stderr

    replay = run_target(
        sql_runner_config(sim), invoice_messages(10, state_every=10, distinct_ids=25), workdir=tmp_path
    )
    assert replay.returncode == 0, replay.stderr[-3000:]
    assert sqlite_rows(sim, INVOICES) == rows


def test_an_unknown_connection_stops_the_run_with_one_line_before_the_batch_state(
    sim: LookerSimulator, tmp_path: Path
) -> None:
    run = run_target(sql_runner_config(sim, "nope"), invoice_messages(20, state_every=10), workdir=tmp_path)

    assert run.returncode == 1
    assert run.states == []
    assert "Traceback" not in run.stderr
    [line] = [line for line in run.stderr.splitlines() if line.startswith("target-looker-stage: error:")]
    assert "SQL Runner load failed" in line
    assert "looker_sql_runner_connection 'nope'" in line


@given(st.text(alphabet=TEXT))
def test_a_string_literal_round_trips_exactly_whatever_it_holds(text: str) -> None:
    with sqlite3.connect(":memory:") as connection:
        assert connection.execute(f"SELECT {literal(text)}").fetchone() == (text,)


@given(st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1)))
def test_null_boolean_and_integer_literals_round_trip(value: bool | int | None) -> None:
    with sqlite3.connect(":memory:") as connection:
        [got] = connection.execute(f"SELECT {literal(value)}").fetchone()
    assert got == (int(value) if isinstance(value, bool) else value)


@given(st.text(alphabet=TEXT, min_size=1))
def test_an_identifier_is_always_one_quoted_name(name: str) -> None:
    with sqlite3.connect(":memory:") as connection:
        connection.execute(f"CREATE TABLE t ({quote_identifier(name)} TEXT)")
        assert [row[1] for row in connection.execute("PRAGMA table_info(t)")] == [name]


def test_error_messages_never_show_quoted_values() -> None:
    message = "Error running SQL: near \"x\": syntax error in VALUES ('Amy''s Bird Sanctuary', 12.50)"
    assert "Amy" not in hide_values(message)
    assert "syntax error" in hide_values(message)
