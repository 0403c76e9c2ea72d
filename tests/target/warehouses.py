"""One warehouse under test, DuckDB or PostgreSQL: the `warehouse` fixture (registered in
tests/target/conftest.py) gives each test both, so one parametrised test pins a behaviour on both backends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from tests.services import PostgresServer


@dataclass
class Warehouse:
    """One warehouse under test: its target config and a way to look at its tables afterwards."""

    kind: str
    config: dict[str, Any]
    schema: str
    server: PostgresServer | None = None
    database: Path | None = None

    def query(self, statement: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.server is not None:
            with psycopg.connect(self.server.uri, autocommit=True) as conn:
                cursor = conn.execute(statement.replace("?", "%s").encode(), parameters)
                return cursor.fetchall() if cursor.description else []
        assert self.database is not None
        if not self.database.exists():
            return []
        with duckdb.connect(str(self.database)) as connection:
            return connection.execute(statement, list(parameters)).fetchall()

    def tables(self) -> set[str]:
        found = self.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", (self.schema,)
        )
        return {str(name) for (name,) in found}

    def rows(self, table: str, columns: str = "*") -> list[tuple[Any, ...]]:
        return sorted(self.query(f'SELECT {columns} FROM "{self.schema}"."{table}"'), key=repr)

    def set_comment(self, table: str, comment: str) -> None:
        self.query(f'COMMENT ON TABLE "{self.schema}"."{table}" IS \'{comment}\'')


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    stage = str(tmp_path / "stage")
    if request.param == "duckdb":
        database = tmp_path / "warehouse.duckdb"
        config = {"stage_uri": stage, "warehouse_uri": f"duckdb:///{database}"}
        yield Warehouse("duckdb", config, "quickbooks", database=database)
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    schema = f"wh_{uuid.uuid4().hex[:8]}"
    config = {"stage_uri": stage, "warehouse_uri": server.uri, "default_target_schema": schema}
    yield Warehouse("postgres", config, schema, server=server)
