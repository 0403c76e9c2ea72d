"""Environments are isolated: a `prod` run (PostgreSQL warehouse, S3 stage, S3 token store, S3 Meltano state)
survives `make demo`, and the next `prod` run resumes incrementally from the S3 state backend; `make clean`
removes only what the demo, dev and the tests make.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from target_looker_stage.table_spec import LOADS_TABLE
from tests.fakes.qbo import QboSimulator, SimConfig
from tests.services import S3Server, run_s3_server

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SCHEMA = "prod_isolation"
BUCKET = "qbo-prod"
STATE_ID = "prod:tap-quickbooks-cdc-to-target-looker-stage"


@pytest.fixture(scope="module")
def prod_s3() -> Iterator[S3Server]:
    with run_s3_server(BUCKET) as server:
        yield server


def prod_env(sim: QboSimulator, pg: Any, s3: S3Server) -> dict[str, str]:
    """What a production deployment exports (README, "Going to production"), pointed at local servers."""
    companies = [{"realm_id": r, "refresh_token": sim.current_refresh_token(r)} for r in sim.realm_ids]
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_", "MELTANO_"))},
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "MELTANO_ENVIRONMENT": "prod",
        "QBO_PG_HOST": pg.host,
        "QBO_PG_PORT": str(pg.port),
        "QBO_PG_USER": pg.user,
        "QBO_PG_PASSWORD": pg.password,
        "QBO_PG_DATABASE": pg.dbname,
        "QBO_S3_BUCKET": BUCKET,
        "QBO_S3_ENDPOINT_URL": s3.endpoint_url,
        "AWS_ACCESS_KEY_ID": s3.access_key_id,
        "AWS_SECRET_ACCESS_KEY": s3.secret_access_key,
        "AWS_DEFAULT_REGION": s3.region,
        "MELTANO_STATE_BACKEND_URI": f"s3://{BUCKET}/meltano-state",
        "MELTANO_STATE_BACKEND_S3_ENDPOINT_URL": s3.endpoint_url,
        "MELTANO_STATE_BACKEND_S3_AWS_ACCESS_KEY_ID": s3.access_key_id,
        "MELTANO_STATE_BACKEND_S3_AWS_SECRET_ACCESS_KEY": s3.secret_access_key,
        "TAP_QUICKBOOKS_CDC_API_BASE_URL": sim.base_url,
        "TAP_QUICKBOOKS_CDC_TOKEN_URL": sim.token_url,
        "TAP_QUICKBOOKS_CDC_CLIENT_ID": sim.client_id,
        "TAP_QUICKBOOKS_CDC_CLIENT_SECRET": sim.client_secret,
        "TAP_QUICKBOOKS_CDC_COMPANIES": json.dumps(companies),
        "TARGET_LOOKER_STAGE_DEFAULT_TARGET_SCHEMA": SCHEMA,
    }


def meltano_run(env: dict[str, str]) -> None:
    result = subprocess.run(
        [str(BIN / "meltano"), "run", "tap-quickbooks-cdc", "target-looker-stage"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def warehouse_rows(pg: Any) -> dict[str, int]:
    with psycopg.connect(pg.admin_conninfo) as conn:
        tables = [
            t
            for (t,) in conn.execute(
                "select table_name from information_schema.tables "
                "where table_schema = %s and table_name <> %s",
                [SCHEMA, LOADS_TABLE],
            )
        ]
        counts: dict[str, int] = {}
        for table in tables:
            query = sql.SQL("select count(*) from {}.{}").format(
                sql.Identifier(SCHEMA), sql.Identifier(table)
            )
            row = conn.execute(query).fetchone()
            counts[table] = int(row[0]) if row else 0
        return counts


def s3_objects(s3: S3Server) -> dict[str, str]:
    listing = s3.client().list_objects_v2(Bucket=BUCKET)
    return {o["Key"]: o["ETag"] for o in listing.get("Contents", [])}


def test_a_prod_run_survives_make_demo_and_the_next_run_resumes_from_the_s3_state_backend(
    postgres_server: Any, prod_s3: S3Server
) -> None:
    with QboSimulator(SimConfig(companies=2, seed=11, records_per_company=200)) as sim:
        env = prod_env(sim, postgres_server, prod_s3)
        meltano_run(env)
        rows, objects = warehouse_rows(postgres_server), s3_objects(prod_s3)
        assert len(rows) == 24, rows
        assert all(n > 0 for n in rows.values()), rows
        assert any(k.startswith("stage/") for k in objects), objects
        assert "secrets/qbo_tokens.json" in objects, objects
        assert any(k.startswith("meltano-state/") and STATE_ID in k for k in objects), objects

        demo = subprocess.run(
            ["make", "-s", "demo", "DEMO_ARGS=--records-per-company 100"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
        assert warehouse_rows(postgres_server) == rows, "make demo changed the prod warehouse"
        assert s3_objects(prod_s3) == objects, "make demo changed the prod stage, tokens or state"

        sim.create(sim.realm_ids[0], "Invoice")
        sim.reset_requests()
        meltano_run(env)
        assert sim.data_requests() == len(sim.realm_ids), "incremental: one CDC request per company"
        after = warehouse_rows(postgres_server)
        assert after == {**rows, "invoices": rows["invoices"] + 1}


def test_make_clean_removes_only_what_the_demo_dev_and_tests_make(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    made = [
        "output/demo/warehouse.duckdb",
        "output/dev/stage/x.parquet",
        ".meltano/run/tap/config.json",
        ".meltano/shards/shard-1-of-2/run/tap/config.json",
    ]
    kept = [
        ".secrets/qbo_tokens.json",
        ".secrets/sandbox/qbo_tokens.json",
        "output/sandbox/warehouse.duckdb",
        "output/stage/keep.parquet",
        "output/warehouse.duckdb",
    ]
    for name in made + kept:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    subprocess.run(["make", "-s", "clean"], cwd=tmp_path, check=True, capture_output=True)
    assert [n for n in made if (tmp_path / n).exists()] == []
    assert [n for n in kept if not (tmp_path / n).exists()] == []
