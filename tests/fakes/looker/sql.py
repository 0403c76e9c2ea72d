"""SQL Runner and connections: ``/sql_queries`` executes on a real SQLite file (DML committed)."""

from __future__ import annotations

import csv
import io
import secrets
import sqlite3
import threading
import time
from datetime import UTC, datetime
from typing import Any

from tests.fakes.looker.errors import LookerError, invalid, missing, not_found, validation_failed

ROW_FORMATS = frozenset({"json", "inline_json", "json_label"})
TEXT_FORMATS = {"csv": "text/csv", "txt": "text/plain"}
SQL_ERROR = "Error running SQL: "
DIALECT = "sqlite"  # not a Looker dialect: the warehouse stand-in of the simulator (see README)


def _cell(value: Any) -> Any:
    return value.hex() if isinstance(value, bytes) else value


class SqlRunner:
    def __init__(self, database_path: str, connections: list[str], errors_in_body: bool = False) -> None:
        self.database_path = database_path
        self.errors_in_body = errors_in_body
        self.connections = list(connections)
        self._lock = threading.Lock()
        self._queries: dict[str, dict[str, Any]] = {}
        sqlite3.connect(database_path).close()  # the file exists from the start (tests may read it)
        self.statements: list[tuple[str, str]] = []  # (connection, sql) of every run, in order

    # ---- connections -----------------------------------------------------------------------------------
    def connection(self, name: str) -> dict[str, Any]:
        return {
            "name": name,
            "dialect_name": DIALECT,
            "database": self.database_path,
            "host": None,
            "port": None,
            "schema": "main",
            "pdts_enabled": True,
            "pdt_api_control_enabled": True,
            "uses_oauth": False,
            "created_at": None,
            "can": {"index": True, "show": True, "update": True, "test": True},
        }

    def all_connections(self) -> list[dict[str, Any]]:
        return [self.connection(name) for name in self.connections]

    def test(self, name: str, tests: str | None) -> list[dict[str, Any]]:
        if name not in self.connections:
            raise not_found()
        wanted = [t.strip() for t in (tests or "connect,query").split(",") if t.strip()]
        results = []
        for test in wanted:
            try:
                with sqlite3.connect(self.database_path, timeout=5) as conn:
                    conn.execute("select 1").fetchall()
                status, message = "success", "Can connect" if test == "connect" else "Can use query"
            except sqlite3.Error as exc:
                status, message = "error", f"Cannot connect: {exc}"
            results.append({"name": test, "status": status, "message": message, "connection_string": None})
        return results

    # ---- SQL Runner ------------------------------------------------------------------------------------
    def create(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise validation_failed(invalid("body", "The request body must be a JSON object."))
        name = body.get("connection_name") or body.get("connection_id")
        errors = []
        if not name:
            errors.append(missing("connection_name"))
        elif name not in self.connections:
            errors.append(invalid("connection_name", f"Connection {name!r} not found."))
        if not isinstance(body.get("sql"), str) or not body["sql"].strip():
            errors.append(missing("sql"))
        if errors:
            raise validation_failed(*errors)
        slug = secrets.token_urlsafe(16)[:22]
        query = {
            "slug": slug,
            "sql": body["sql"],
            "connection": {"name": name, "dialect_name": DIALECT},
            "model_name": body.get("model_name"),
            "last_runtime": None,
            "run_count": 0,
            "browser_limit": 500,
            "last_run_at": None,
            "plaintext": False,
            "vis_config": body.get("vis_config"),
            "can": {"run": True, "show": True},
        }
        with self._lock:
            self._queries[slug] = query
            return dict(query)

    def get(self, slug: str) -> dict[str, Any]:
        with self._lock:
            query = self._queries.get(slug)
        if query is None:
            raise not_found()
        return dict(query)

    def run(self, slug: str, result_format: str) -> tuple[Any, str | None, str]:
        """Execute the query's SQL: (rows, None, "") for row formats, (None, text, content type) otherwise."""
        query = self.get(slug)
        if result_format not in ROW_FORMATS and result_format not in TEXT_FORMATS:
            supported = ", ".join(sorted(ROW_FORMATS | set(TEXT_FORMATS)))
            raise LookerError(
                400, f"Unsupported result format {result_format!r}; this simulator serves {supported}."
            )
        started = time.monotonic()
        try:
            columns, rows = self._execute(query["connection"]["name"], query["sql"])
        except LookerError as error:
            if self.errors_in_body and result_format in ROW_FORMATS:
                return [{"looker_error": f"SQL Error: {error.message.removeprefix(SQL_ERROR)}"}], None, ""
            raise
        with self._lock:
            stored = self._queries[slug]
            stored["run_count"] += 1
            stored["last_runtime"] = round(time.monotonic() - started, 6)
            stored["last_run_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        if result_format in ROW_FORMATS:
            return [dict(zip(columns, (_cell(v) for v in row), strict=True)) for row in rows], None, ""
        out = io.StringIO()
        writer = csv.writer(out, delimiter="," if result_format == "csv" else "\t", lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_cell(v) for v in row] for row in rows)
        return None, out.getvalue(), TEXT_FORMATS[result_format]

    def _execute(self, connection: str, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """One statement returns its rows; several (``a; b``) run as a script and return none. Committed."""
        self.statements.append((connection, sql))
        conn = sqlite3.connect(self.database_path, timeout=10)
        try:
            try:
                cursor = conn.execute(sql)
            except sqlite3.ProgrammingError as exc:
                if "one statement at a time" not in str(exc):
                    raise
                conn.executescript(sql)
                conn.commit()
                return [], []
            columns = [d[0] for d in cursor.description or ()]
            rows = cursor.fetchall()
            conn.commit()
            return columns, rows
        except sqlite3.Error as exc:
            conn.rollback()
            raise LookerError(400, f"{SQL_ERROR}{exc}") from exc
        finally:
            conn.close()
