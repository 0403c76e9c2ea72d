"""One warehouse under test, DuckDB or PostgreSQL: the `warehouse` fixture (registered in
tests/target/conftest.py) gives each test both, so one parametrised test pins a behaviour on both backends."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
from psycopg.types.json import set_json_loads

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

    def records(self, table: str, order_by: str) -> list[dict[str, Any]]:
        """Every row of a table as a dict, ordered by ``order_by``; JSON values parsed with exact numbers
        (DuckDB returns JSON text, psycopg would parse numbers as floats)."""
        statement = f'SELECT * FROM "{self.schema}"."{table}" ORDER BY {order_by}'

        def exact(text: str | bytes) -> Any:
            return json.loads(text, parse_float=Decimal)

        if self.server is not None:
            with psycopg.connect(self.server.uri) as conn:
                set_json_loads(exact, conn)
                cursor = conn.execute(statement.encode())
                names = [d.name for d in cursor.description or ()]
                return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        assert self.database is not None
        with duckdb.connect(str(self.database)) as connection:
            result = connection.execute(statement)
            columns = [(d[0], str(d[1]) == "JSON") for d in result.description or ()]
            return [
                {
                    name: exact(v) if is_json and v is not None else v
                    for (name, is_json), v in zip(columns, row, strict=True)
                }
                for row in result.fetchall()
            ]

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
