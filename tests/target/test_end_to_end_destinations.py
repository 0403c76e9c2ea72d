"""The target end to end with the remote destinations (moto S3, OpenSSH SFTP, PostgreSQL on 127.0.0.1):
the same load twice gives the same objects and rows (a replay replaces, never duplicates)."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from target_looker_stage.settings import TargetSettings
from target_looker_stage.storage.factory import open_storage
from tests.services import PostgresServer, S3Server, SshdServer
from tests.target.singer_streams import invoice_messages, run_in_process

RECORDS = 2_000


def load(config: dict[str, Any]) -> None:
    run_in_process({**config, "batch_size_rows": 700}, invoice_messages(RECORDS, state_every=500))


def staged(config: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    storage = open_storage(TargetSettings.from_config(config))
    assert storage is not None
    try:
        keys = [k for k in storage.list_keys("stream=invoices/") if k.endswith(".parquet")]
        rows = [r for k in keys for r in pq.read_table(io.BytesIO(storage.get_bytes(k))).to_pylist()]
        assert storage.list_keys("_manifests/")
    finally:
        storage.close()
    return keys, sorted(rows, key=lambda r: (r["realm_id"], r["Id"]))


def assert_stage_replays_cleanly(config: dict[str, Any]) -> None:
    load(config)
    keys, rows = staged(config)
    assert keys
    assert len(rows) == len({(r["realm_id"], r["Id"], r["_sdc_sync_version"]) for r in rows})
    assert all(isinstance(r["TotalAmt"], Decimal) for r in rows if r["TotalAmt"] is not None)
    load(config)
    assert staged(config) == (keys, rows)


def test_s3_stage(s3_server: S3Server, tmp_path: Path) -> None:
    config = {
        **s3_server.config(),
        "stage_uri": f"s3://{s3_server.bucket}/e2e/{tmp_path.name}",
        "warehouse_uri": f"duckdb:///{tmp_path / 'w.duckdb'}",
    }
    assert_stage_replays_cleanly(config)


def test_sftp_stage(sshd_server: SshdServer, tmp_path: Path) -> None:
    config = {
        "stage_uri": sshd_server.uri(f"{sshd_server.root}/{tmp_path.name}"),
        "sftp_private_key_path": str(sshd_server.private_key_path),
        "sftp_known_hosts_path": str(sshd_server.known_hosts_path),
        "warehouse_uri": "",
    }
    assert_stage_replays_cleanly(config)


def test_postgres_warehouse(postgres_server: PostgresServer, tmp_path: Path) -> None:
    import psycopg

    schema = f"e2e_{tmp_path.name.replace('-', '_').lower()}"
    config = {"stage_uri": "", "warehouse_uri": postgres_server.uri, "default_target_schema": schema}
    query = f'SELECT "Id", realm_id, "TotalAmt", _sdc_sync_version FROM "{schema}".invoices ORDER BY 2, 1'

    def rows() -> list[tuple[Any, ...]]:
        with psycopg.connect(postgres_server.uri) as connection:
            return connection.execute(query).fetchall()

    load(config)
    first = rows()
    assert len(first) == RECORDS * 3 // 4
    load(config)
    assert rows() == first
