"""Through the real target CLI: the same Singer input lands identical rows in DuckDB and PostgreSQL, and
identical Parquet files (names and rows) in a local, an S3 and an SFTP stage."""

from __future__ import annotations

import io
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pyarrow.parquet as pq
import pytest
from psycopg.types.json import set_json_loads

from target_looker_stage.settings import TargetSettings
from target_looker_stage.storage.base import StageStorage
from target_looker_stage.storage.s3 import S3Storage
from target_looker_stage.storage.sftp import SftpStorage
from tests.services import PostgresServer, S3Server, SshdServer
from tests.target.singer_streams import (
    delete_stub,
    encode,
    invoice,
    invoice_messages,
    record_message,
    run_target,
    state_message,
    warehouse_rows,
)

Row = dict[str, Any]


def singer_input() -> str:
    """Generated invoices (updates across batches, delete stubs, two realms), then late arrivals: an older
    SyncToken of a known invoice, a delete of a never-seen Id, and exact money in nested lines."""
    lines = list(invoice_messages(2_000, state_every=400, distinct_ids=700))
    late = [
        invoice(5, 0, total="0.01"),  # older than the version already loaded: must not win
        delete_stub(9_999),
        invoice(
            10_000, 3, total="12345678901.23", Line=[{"Amount": Decimal("0.10")}, {"Amount": Decimal("1E-9")}]
        ),
    ]
    lines += [encode(record_message("invoices", r)) for r in late]
    lines.append(encode(state_message({"position": 2_003})))
    return "".join(lines)


def normalized(row: Row) -> Row:
    """Values compared across engines: JSON text parsed with exact decimals, the rest as the driver has it."""
    json_columns = {"Line", "CustomerRef", "MetaData"}
    return {
        name: json.loads(v, parse_float=Decimal) if name in json_columns and isinstance(v, str) else v
        for name, v in row.items()
    }


def postgres_rows(server: PostgresServer, schema: str) -> list[Row]:
    with psycopg.connect(server.uri) as conn:
        set_json_loads(lambda text: json.loads(text, parse_float=Decimal), conn)
        cursor = conn.execute(f'SELECT * FROM "{schema}".invoices ORDER BY realm_id, "Id"')
        names = [d.name for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def staged(storage: StageStorage) -> tuple[list[str], list[Row]]:
    keys = [k for k in storage.list_keys("stream=invoices/") if k.endswith(".parquet")]
    rows: list[Row] = []
    for key in keys:
        rows.extend(pq.read_table(io.BytesIO(storage.get_bytes(key))).to_pylist())
    return keys, sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))


@pytest.mark.slow
def test_the_same_input_lands_the_same_rows_in_every_backend(
    tmp_path: Path, postgres_server: PostgresServer, s3_server: S3Server, sshd_server: SshdServer
) -> None:
    messages = singer_input()
    schema = f"e2e_{uuid.uuid4().hex[:8]}"
    common = {"default_target_schema": schema, "batch_size_rows": 500}
    duckdb_file, local_stage = tmp_path / "warehouse.duckdb", tmp_path / "stage"
    s3_uri = f"s3://{s3_server.bucket}/{schema}"
    sftp_folder = sshd_server.root / schema
    sftp_settings = {
        "sftp_private_key_path": str(sshd_server.private_key_path),
        "sftp_known_hosts_path": str(sshd_server.known_hosts_path),
    }
    runs = {
        "duckdb + local": {"warehouse_uri": f"duckdb:///{duckdb_file}", "stage_uri": str(local_stage)},
        "postgres + s3": {"warehouse_uri": postgres_server.uri, "stage_uri": s3_uri, **s3_server.config()},
        "sftp only": {"warehouse_uri": "", "stage_uri": sshd_server.uri(sftp_folder), **sftp_settings},
    }
    with ThreadPoolExecutor(max_workers=len(runs)) as pool:  # three target processes side by side
        finished = {}
        for index, (name, config) in enumerate(runs.items()):
            workdir = tmp_path / f"run-{index}"  # one folder each: config file names are per process
            workdir.mkdir()
            finished[name] = pool.submit(run_target, common | config, messages, workdir=workdir)
    for name, future in finished.items():
        run = future.result()
        assert run.returncode == 0, f"{name}: {run.stderr[-2000:]}"
        assert run.states[-1] == {"position": 2_003}, name
        assert postgres_server.password not in run.stderr
        assert s3_server.secret_access_key not in run.stderr

    in_duckdb = [normalized(r) for r in warehouse_rows(duckdb_file, f"{schema}.invoices")]
    in_postgres = [normalized(r) for r in postgres_rows(postgres_server, schema)]
    assert len(in_duckdb) == 702  # 700 generated Ids + the never-seen deleted one + the late new one
    assert in_postgres == in_duckdb

    by_id = {(r["realm_id"], r["Id"]): r for r in in_postgres}
    late_new = by_id[("9130350000000001", "10000")]
    assert late_new["TotalAmt"] == Decimal("12345678901.23")
    assert late_new["Line"] == [{"Amount": Decimal("0.10")}, {"Amount": Decimal("1E-9")}]
    assert by_id[("9130350000000001", "5")]["SyncToken"] != "0"  # the late, older version lost
    assert by_id[("9130350000000001", "9999")]["_sdc_deleted_at"] is not None
    assert sum(r["_sdc_deleted_at"] is not None for r in in_postgres) > 10

    from target_looker_stage.storage.local import LocalStorage

    local = LocalStorage(local_stage)
    s3 = S3Storage(s3_uri, TargetSettings.from_config(s3_server.config()))
    sftp = SftpStorage(sshd_server.uri(sftp_folder), TargetSettings.from_config(sftp_settings))
    try:
        local_keys, local_rows = staged(local)
        assert len(local_keys) >= 4
        assert staged(s3) == (local_keys, local_rows)
        assert staged(sftp) == (local_keys, local_rows)
    finally:
        s3.close()
        sftp.close()
