"""Crash safety: SIGKILL the target at several points of a 200k-record load, re-run from the last STATE it
emitted, and end with exactly the warehouse rows and staged Parquet rows of an uninterrupted run.

Also checks durability at each kill: every record before the last emitted STATE is already committed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.target.singer_streams import (
    generated_version,
    invoice_messages,
    parse_states,
    run_target,
    run_until_killed,
    staged_table,
    start_target,
    tables_differ,
)

RECORDS = 200_000
STATE_EVERY = 5_000
BATCH_SIZE = 10_000
#: (how many STATE lines this run emits before the kill, delay after seeing that STATE)
KILLS = [(1, 0.0), (2, 0.3), (2, 0.05)]


def settings(root: Path) -> dict[str, Any]:
    return {
        "stage_uri": str(root / "stage"),
        "warehouse_uri": f"duckdb:///{root / 'warehouse.duckdb'}",
        "batch_size_rows": BATCH_SIZE,
    }


def run_until_killed_at(root: Path, start: int, states_before_kill: int, delay: float) -> int:
    """Resume from position ``start``; SIGKILL after ``states_before_kill`` STATEs (+ ``delay``); returns the
    position of the last STATE emitted."""
    messages = invoice_messages(RECORDS, state_every=STATE_EVERY, start=start)
    state = run_until_killed(
        settings(root), messages, workdir=root, states_before_kill=states_before_kill, delay=delay
    )
    return int(state["position"])


def committed_versions(database: Path) -> dict[tuple[str, str], int]:
    with duckdb.connect(str(database), read_only=True) as connection:
        rows = connection.execute(
            'SELECT realm_id, "Id", _sdc_sync_version FROM quickbooks.invoices'
        ).fetchall()
    return {(realm, key): version for realm, key, version in rows}


def expected_versions(upto: int) -> dict[tuple[str, str], int]:
    """The newest (realm, Id) -> sync version among the first ``upto`` generated records."""
    newest: dict[tuple[str, str], int] = {}
    for i in range(upto):
        key, version = generated_version(i, RECORDS * 3 // 4)
        newest[key] = max(version, newest.get(key, -1))
    return newest


@pytest.mark.slow
def test_killed_and_resumed_load_equals_an_uninterrupted_one(tmp_path: Path) -> None:
    reference, crashed = tmp_path / "reference", tmp_path / "crashed"
    reference.mkdir()
    crashed.mkdir()
    full = run_target(
        settings(reference), invoice_messages(RECORDS, state_every=STATE_EVERY), workdir=reference
    )
    assert full.returncode == 0, full.stderr[-2000:]
    assert full.states[-1] == {"position": RECORDS}

    position = 0
    for states_before_kill, delay in KILLS:
        position = run_until_killed_at(crashed, position, states_before_kill, delay)
        committed = committed_versions(crashed / "warehouse.duckdb")
        lagging = [k for k, v in expected_versions(position).items() if committed.get(k, -1) < v]
        assert lagging == [], f"STATE {position} was emitted before its records were committed"
    assert 0 < position < RECORDS
    resumed = run_target(
        settings(crashed), invoice_messages(RECORDS, state_every=STATE_EVERY, start=position), workdir=crashed
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]

    assert committed_versions(reference / "warehouse.duckdb") == expected_versions(RECORDS)
    assert (
        tables_differ(reference / "warehouse.duckdb", crashed / "warehouse.duckdb", "quickbooks.invoices")
        == 0
    )
    expected_staged = staged_table(reference / "stage", "invoices")
    assert expected_staged.num_rows >= len(expected_versions(RECORDS))
    assert staged_table(crashed / "stage", "invoices").equals(expected_staged)


def test_sigterm_stops_without_draining_a_partial_batch(tmp_path: Path) -> None:
    process = start_target({**settings(tmp_path), "batch_size_rows": 1_000}, workdir=tmp_path)
    assert process.stdin is not None
    assert process.stdout is not None
    for line in invoice_messages(1_500, state_every=1_000):
        process.stdin.write(line.encode())
    process.stdin.flush()
    first_state = parse_states(process.stdout.readline().decode())
    assert first_state == [{"position": 1_000}]
    time.sleep(1.0)  # the remaining 500 records are read and held in the sink
    process.terminate()
    rest = process.stdout.read().decode()
    assert process.wait(timeout=60) == 128 + 15
    assert parse_states(rest) == []
    staged = staged_table(tmp_path / "stage", "invoices")
    assert staged.num_rows == len(expected_versions(1_000))
