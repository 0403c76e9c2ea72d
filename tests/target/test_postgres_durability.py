"""A PostgreSQL server crash loses nothing a STATE covered: the target's session commits synchronously even
when the server's default is ``synchronous_commit = off``, and it warns once when the server runs with
``fsync = off`` (which no session setting can make safe)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from target_looker_stage.settings import TargetSettings
from target_looker_stage.warehouse.postgres import PostgresWarehouse
from tests.services import PostgresServer
from tests.target.singer_streams import invoice_messages, run_target, run_until_killed
from tests.target.test_crash_recovery_remote import RECORDS, committed_versions, expected_versions

STATE_EVERY = 1_000


def settings(server: PostgresServer, schema: str) -> dict[str, Any]:
    return {
        "stage_uri": "",
        "warehouse_uri": server.uri,
        "default_target_schema": schema,
        "batch_size_rows": STATE_EVERY,
    }


@pytest.mark.parametrize("states_before_crash", [1, 3])
def test_a_server_crash_right_after_a_state_keeps_every_row_that_state_covers(
    durable_postgres_server: PostgresServer, tmp_path: Path, states_before_crash: int
) -> None:
    """The durable cluster defaults to asynchronous commits and writes their WAL only every 10 s, so a
    commit the target did not make synchronous is gone after this crash (its STATE already emitted). The
    target is killed first, so it cannot fail on the lost connection before the kill."""
    server, schema = durable_postgres_server, f"durable_{uuid.uuid4().hex[:10]}"
    try:
        state = run_until_killed(
            settings(server, schema),
            invoice_messages(RECORDS, state_every=STATE_EVERY),
            workdir=tmp_path,
            states_before_kill=states_before_crash,
            after_kill=server.crash,
        )
    finally:
        server.start()
    position = int(state["position"])
    committed = committed_versions(server, schema)
    lost = [key for key, version in expected_versions(position).items() if committed.get(key, -1) < version]
    assert not lost, f"{len(lost)} row(s) covered by the STATE at position {position} were lost"


def test_the_target_session_commits_synchronously_whatever_the_server_default(
    postgres_server: PostgresServer,
) -> None:
    warehouse = PostgresWarehouse(postgres_server.uri, TargetSettings.from_config({}))
    try:
        warehouse.check()
        row = warehouse._connection().execute("SHOW synchronous_commit").fetchone()
    finally:
        warehouse.close()
    assert row == ("on",)


def test_a_server_running_with_fsync_off_is_reported_once(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    run = run_target(
        settings(postgres_server, f"fsync_{uuid.uuid4().hex[:10]}"),
        invoice_messages(3 * STATE_EVERY, state_every=STATE_EVERY),
        workdir=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    warnings = [line for line in run.stderr.splitlines() if "fsync" in line]
    assert len(warnings) == 1, warnings
    assert "fsync=off" in warnings[0]
    assert postgres_server.password not in run.stderr
