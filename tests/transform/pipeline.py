"""The main job's data path for the dbt tests: simulator -> tap -> target -> a warehouse -> `dbt build`.

The tap runs once per sync and its Singer output is kept, so the very same messages load into DuckDB and
into PostgreSQL; dbt runs as a subprocess (as Meltano runs it) with its own target and log folders, so it
never shares transform/target/ with `make demo` or another test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import psycopg

from tests.fakes.qbo import QboSimulator
from tests.services import PostgresServer
from tests.tap.harness import run_subprocess, tap_config
from tests.target.singer_streams import run_target

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "transform"
DBT = Path(sys.executable).with_name("dbt")


class PipelineError(AssertionError):
    """A step of the pipeline failed; the message has the tail of its output."""


@dataclass
class Sync:
    """One tap run: its Singer messages (to load anywhere) and its final state (for the next run)."""

    messages: str
    state: dict[str, Any]


def sync(sim: QboSimulator, workdir: Path, state: dict[str, Any] | None = None) -> Sync:
    """One tap run against the simulator (backfill without state, CDC with the previous run's)."""
    workdir.mkdir(parents=True, exist_ok=True)
    result = run_subprocess(tap_config(sim, workdir), workdir, state=state, timeout=600)
    if result.exit_code != 0:
        raise PipelineError(f"tap exited {result.exit_code}: {result.log[-2000:]}")
    return Sync(result.stdout, result.state)


@dataclass
class Warehouse:
    """Where one adapter's data lives and how dbt and the tests reach it."""

    adapter: str  # duckdb | postgres
    workdir: Path
    duckdb_path: Path | None = None
    postgres: PostgresServer | None = None
    dbname: str = ""

    @property
    def target_config(self) -> dict[str, Any]:
        if self.adapter == "duckdb":
            uri = f"duckdb:///{self.duckdb_path}"
        else:
            assert self.postgres is not None
            pg = self.postgres
            uri = f"postgresql://{pg.user}:{pg.password}@{pg.host}:{pg.port}/{self.dbname}"
        return {"stage_uri": str(self.workdir / "stage"), "warehouse_uri": uri}

    def load(self, messages: str) -> None:
        """Load one sync's messages with the target CLI."""
        run = run_target(self.target_config, messages, workdir=self.workdir, timeout=600)
        if run.returncode != 0:
            raise PipelineError(f"target exited {run.returncode}: {run.stderr[-2000:]}")

    def dbt(
        self, *args: str, as_of: Sequence[date] = (), results: str = "run_results.json", check: bool = True
    ) -> dict[str, Any]:
        """Run dbt (e.g. ``build``) on this warehouse, aging at the ``as_of`` dates (default today); returns
        its ``results`` file (``sources.json`` for ``source freshness``). Unless ``check`` is off, a failure
        raises with the failing nodes and dbt's output tail."""
        env = {**os.environ, "DBT_PROFILES_DIR": str(PROJECT), "DBT_TARGET": self.adapter}
        if self.adapter == "duckdb":
            env["QBO_DUCKDB_PATH"] = str(self.duckdb_path)
        else:
            assert self.postgres is not None
            pg = self.postgres
            env.update(
                QBO_PG_HOST=pg.host,
                QBO_PG_PORT=str(pg.port),
                QBO_PG_USER=pg.user,
                QBO_PG_PASSWORD=pg.password,
                QBO_PG_DATABASE=self.dbname,
            )
        target_path = self.workdir / "dbt-target"
        command = [
            str(DBT), *args,
            "--project-dir", str(PROJECT),
            "--target-path", str(target_path),
            "--log-path", str(self.workdir / "dbt-logs"),
        ]  # fmt: skip
        if as_of:
            command += ["--vars", json.dumps({"as_of_date": [day.isoformat() for day in as_of]})]
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900, check=False)
        if done.returncode != 0 and check:
            failures = [line for line in done.stdout.splitlines() if "FAIL" in line or "ERROR" in line]
            raise PipelineError(
                f"dbt {' '.join(args)} exited {done.returncode}: {failures[-20:]}\n{done.stdout[-3000:]}"
            )
        found: dict[str, Any] = json.loads((target_path / results).read_text())
        return found

    @contextmanager
    def connect(self) -> Iterator[Any]:
        """A DB-API connection to the warehouse (DuckDB read-only, or PostgreSQL)."""
        if self.adapter == "duckdb":
            with duckdb.connect(str(self.duckdb_path), read_only=True) as con:
                yield con
        else:
            assert self.postgres is not None
            pg = self.postgres
            with psycopg.connect(
                host=pg.host, port=pg.port, user=pg.user, password=pg.password, dbname=self.dbname
            ) as con:
                yield con

    def execute(self, sql: str) -> None:
        """Run one writing statement (the tests' own changes to the warehouse)."""
        if self.adapter == "duckdb":
            with duckdb.connect(str(self.duckdb_path)) as con:
                con.execute(sql)
            return
        assert self.postgres is not None
        pg = self.postgres
        with psycopg.connect(
            host=pg.host,
            port=pg.port,
            user=pg.user,
            password=pg.password,
            dbname=self.dbname,
            autocommit=True,
        ) as con:
            con.execute(sql.encode())

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with self.connect() as con:
            rows: list[tuple[Any, ...]] = con.execute(sql).fetchall()
            return rows


def fresh_database(server: PostgresServer, name: str) -> str:
    """A new, empty database owned by the test role (other tests share the server)."""
    with psycopg.connect(server.admin_conninfo, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}"')
        con.execute(f'CREATE DATABASE "{name}" OWNER "{server.user}"')
    return name


def realm_rows(rows: list[tuple[Any, ...]]) -> Mapping[str, list[tuple[Any, ...]]]:
    """Rows grouped by their first column (realm_id)."""
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        grouped.setdefault(str(row[0]), []).append(row[1:])
    return grouped
