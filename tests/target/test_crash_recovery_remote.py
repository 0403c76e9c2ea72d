"""Crash safety with the remote destinations (S3 stage + PostgreSQL warehouse; SFTP stage): SIGKILLed
three times during a 40k-record load and resumed from the last STATE, ends equal to an uninterrupted run."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from target_looker_stage.settings import TargetSettings
from target_looker_stage.storage.factory import open_storage
from tests.services import PostgresServer, S3Server, SshdServer
from tests.target.singer_streams import (
    SORT_KEYS,
    generated_version,
    invoice_messages,
    run_target,
    run_until_killed,
)

RECORDS = 40_000
STATE_EVERY = 2_500
KILLS = [(1, 0.0), (2, 0.2), (2, 0.05)]


def settings(s3: S3Server, pg: PostgresServer, name: str) -> dict[str, Any]:
    return {
        **s3.config(),
        "stage_uri": f"s3://{s3.bucket}/crash/{name}",
        "warehouse_uri": pg.uri,
        "default_target_schema": name,
        "batch_size_rows": 5_000,
    }


def expected_versions(upto: int) -> dict[tuple[str, str], int]:
    newest: dict[tuple[str, str], int] = {}
    for i in range(upto):
        key, version = generated_version(i, RECORDS * 3 // 4)
        newest[key] = max(version, newest.get(key, -1))
    return newest


def committed_versions(pg: PostgresServer, schema: str) -> dict[tuple[str, str], int]:
    import psycopg

    with psycopg.connect(pg.uri) as connection:
        rows = connection.execute(
            f'SELECT realm_id, "Id", _sdc_sync_version FROM "{schema}".invoices'
        ).fetchall()
    return {(realm, key): version for realm, key, version in rows}


def staged(config: dict[str, Any]) -> pa.Table:
    storage = open_storage(TargetSettings.from_config(config))
    assert storage is not None
    try:
        keys = [k for k in storage.list_keys("stream=invoices/") if k.endswith(".parquet")]
        tables = [pq.read_table(io.BytesIO(storage.get_bytes(k))) for k in keys]
    finally:
        storage.close()
    return pa.concat_tables(tables).sort_by([(k, "ascending") for k in SORT_KEYS]).combine_chunks()


@pytest.mark.slow
def test_killed_load_into_s3_and_postgres_equals_an_uninterrupted_one(
    s3_server: S3Server, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    import psycopg

    suffix = tmp_path.name.replace("-", "_").lower()
    reference, crashed = f"ref_{suffix}", f"crash_{suffix}"
    full = run_target(
        settings(s3_server, postgres_server, reference),
        invoice_messages(RECORDS, state_every=STATE_EVERY),
        workdir=tmp_path,
    )
    assert full.returncode == 0, full.stderr[-2000:]

    position = 0
    config = settings(s3_server, postgres_server, crashed)
    for states_before_kill, delay in KILLS:
        messages = invoice_messages(RECORDS, state_every=STATE_EVERY, start=position)
        state = run_until_killed(
            config, messages, workdir=tmp_path, states_before_kill=states_before_kill, delay=delay
        )
        position = int(state["position"])
        committed = committed_versions(postgres_server, crashed)
        assert [k for k, v in expected_versions(position).items() if committed.get(k, -1) < v] == []
    resumed = run_target(
        config, invoice_messages(RECORDS, state_every=STATE_EVERY, start=position), workdir=tmp_path
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]

    assert committed_versions(postgres_server, reference) == expected_versions(RECORDS)
    with psycopg.connect(postgres_server.uri) as connection:
        for left, right in ((reference, crashed), (crashed, reference)):
            query = f'SELECT * FROM "{left}".invoices EXCEPT ALL SELECT * FROM "{right}".invoices'
            assert connection.execute(f"SELECT count(*) FROM ({query}) AS d").fetchone() == (0,)
    assert staged(config).equals(staged(settings(s3_server, postgres_server, reference)))


def staged_versions(config: dict[str, Any]) -> dict[tuple[str, str], int]:
    table = staged(config)
    newest: dict[tuple[str, str], int] = {}
    for realm, key, version in zip(*(table.column(k).to_pylist() for k in SORT_KEYS), strict=True):
        newest[(realm, key)] = max(version, newest.get((realm, key), -1))
    return newest


@pytest.mark.slow
def test_killed_load_into_sftp_equals_an_uninterrupted_one(sshd_server: SshdServer, tmp_path: Path) -> None:
    def sftp(name: str) -> dict[str, Any]:
        return {
            "stage_uri": sshd_server.uri(f"{sshd_server.root}/crash-{tmp_path.name}/{name}"),
            "sftp_private_key_path": str(sshd_server.private_key_path),
            "sftp_known_hosts_path": str(sshd_server.known_hosts_path),
            "warehouse_uri": "",
            "batch_size_rows": 5_000,
        }

    full = run_target(sftp("reference"), invoice_messages(RECORDS, state_every=STATE_EVERY), workdir=tmp_path)
    assert full.returncode == 0, full.stderr[-2000:]
    position, config = 0, sftp("crashed")
    for states_before_kill, delay in KILLS:
        messages = invoice_messages(RECORDS, state_every=STATE_EVERY, start=position)
        state = run_until_killed(
            config, messages, workdir=tmp_path, states_before_kill=states_before_kill, delay=delay
        )
        position = int(state["position"])
        committed = staged_versions(config)
        assert [k for k, v in expected_versions(position).items() if committed.get(k, -1) < v] == []
    resumed = run_target(
        config, invoice_messages(RECORDS, state_every=STATE_EVERY, start=position), workdir=tmp_path
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert staged(config).equals(staged(sftp("reference")))
