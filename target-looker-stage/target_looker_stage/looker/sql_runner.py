"""Opt-in load through Looker's SQL Runner (``looker_sql_runner_connection``), for customers whose only write
path into the warehouse is a Looker connection.

Why it looks like this:
- SQL Runner has no bind parameters: a statement is text. So the statement's *shape* never depends on data
  (identifiers come from the stream's schema and are always double-quoted, doubled inner quotes), and every
  value is one literal made by ``literal()``: NULL, TRUE/FALSE, an exact number checked to be one, or a
  single-quoted string with ``'`` doubled (NUL refused). That is safe on PostgreSQL with
  ``standard_conforming_strings`` on (the default since 9.1) and on SQLite; other dialects are not claimed.
- ``INSERT … ON CONFLICT (keys) DO UPDATE … WHERE excluded._sdc_sync_version >= current`` is the same text in
  PostgreSQL (9.5+) and SQLite (3.24+), so a replayed batch converges and an older version never wins.
- Each drained batch is one batch of calls (a fresh login, a logout), in statements of at most
  ``MAX_ROWS_PER_STATEMENT`` rows and ``MAX_STATEMENT_BYTES`` bytes. It runs after the warehouse commit and
  before STATE, so a failure stops the run with no STATE and the replay upserts the same rows again.
- The table lives in the connection's default schema, unqualified (``"invoices"``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa
from looker_sdk.sdk.api40 import models

from target_looker_stage.errors import TargetError
from target_looker_stage.looker.client import DEFAULT_RETRY, LookerCallError, LookerSession, RetryPolicy
from target_looker_stage.looker.settings import LookerSettings
from target_looker_stage.table_spec import SYNC_VERSION_COLUMN, TableSpec

MAX_ROWS_PER_STATEMENT = 500
MAX_STATEMENT_BYTES = 512 * 1024
#: A quoted literal in an error message: it may be a record's value (customer data), so it is never shown.
_QUOTED = re.compile(r"'(?:[^']|'')*'?")
#: Result rows of a failed statement when Looker reports the SQL error in a 200 body.
LOOKER_ERROR_KEY = "looker_error"


class SqlRunnerError(TargetError):
    """The SQL Runner load of a batch failed: the run stops before that batch's STATE."""


def quote_identifier(name: str) -> str:
    if "\x00" in name:
        raise SqlRunnerError("a column or table name holds a NUL character; SQL Runner cannot load it")
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any) -> str:
    """One SQL literal for a value; never anything but NULL, TRUE, FALSE, a number or a quoted string."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            return "NULL"
        return format(value, "f")
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "NULL"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return _quoted(value.isoformat())
    if isinstance(value, bytes):
        return _quoted(value.hex())
    if isinstance(value, dict | list):
        return _quoted(json.dumps(value, default=str, separators=(",", ":")))
    return _quoted(str(value))


def _quoted(text: str) -> str:
    if "\x00" in text:
        raise SqlRunnerError("a value holds a NUL character, which no SQL string literal can carry")
    return "'" + text.replace("'", "''") + "'"


def column_type(arrow_type: pa.DataType) -> str:
    """A column type both PostgreSQL and SQLite accept."""
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_integer(arrow_type):
        return "BIGINT"
    if pa.types.is_decimal(arrow_type):
        return "NUMERIC"
    if pa.types.is_floating(arrow_type):
        return "DOUBLE PRECISION"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP"
    if pa.types.is_date(arrow_type):
        return "DATE"
    return "TEXT"


def create_statement(spec: TableSpec, table: pa.Table) -> str:
    columns = [f"{quote_identifier(f.name)} {column_type(f.type)}" for f in table.schema]
    if spec.key_properties and spec.load_method == "upsert":
        columns.append(f"PRIMARY KEY ({', '.join(quote_identifier(k) for k in spec.key_properties)})")
    return f"CREATE TABLE IF NOT EXISTS {quote_identifier(spec.name)} ({', '.join(columns)})"


def upsert_statements(spec: TableSpec, table: pa.Table) -> Iterator[str]:
    """INSERT statements for the batch, each within the row and byte bounds."""
    names = table.column_names
    head = (
        f"INSERT INTO {quote_identifier(spec.name)} ({', '.join(quote_identifier(n) for n in names)}) VALUES "
    )
    tail = ""
    if spec.key_properties and spec.load_method == "upsert":
        keys = set(spec.key_properties)
        updates = ", ".join(
            f"{quote_identifier(n)} = excluded.{quote_identifier(n)}" for n in names if n not in keys
        )
        target = quote_identifier(spec.name)
        guard = ""
        if SYNC_VERSION_COLUMN in names:
            version = quote_identifier(SYNC_VERSION_COLUMN)
            guard = f" WHERE excluded.{version} >= {target}.{version} OR {target}.{version} IS NULL"
        conflict = ", ".join(quote_identifier(k) for k in spec.key_properties)
        tail = (
            f" ON CONFLICT ({conflict}) DO UPDATE SET {updates}{guard}"
            if updates
            else " ON CONFLICT DO NOTHING"
        )
    rows: list[str] = []
    size = len(head) + len(tail)
    for record in table.to_pylist():
        row = "(" + ", ".join(literal(record[n]) for n in names) + ")"
        if rows and (len(rows) >= MAX_ROWS_PER_STATEMENT or size + len(row) + 2 > MAX_STATEMENT_BYTES):
            yield head + ", ".join(rows) + tail
            rows, size = [], len(head) + len(tail)
        rows.append(row)
        size += len(row) + 2
    if rows:
        yield head + ", ".join(rows) + tail


class SqlRunnerLoader:
    """Upserts each committed batch through ``create_sql_query`` + ``run_sql_query`` on one connection."""

    def __init__(self, settings: LookerSettings, *, policy: RetryPolicy = DEFAULT_RETRY) -> None:
        assert settings.sql_runner_connection
        self.settings = settings
        self.connection = settings.sql_runner_connection
        self.policy = policy
        self._created: set[str] = set()
        self.statements = 0

    def load(self, spec: TableSpec, table: pa.Table) -> int:
        """Upsert the batch; returns the number of statements run. SqlRunnerError (one line) on failure."""
        if table.num_rows == 0:
            return 0
        session = LookerSession(self.settings, policy=self.policy)
        ran = 0
        try:
            with session.batch() as sdk:
                if spec.name not in self._created:
                    self._run(sdk, create_statement(spec, table), spec)
                    self._created.add(spec.name)
                for statement in upsert_statements(spec, table):
                    self._run(sdk, statement, spec)
                    ran += 1
        except LookerCallError as exc:
            msg = (
                f"stream '{spec.stream_name}': SQL Runner load failed on looker_sql_runner_connection "
                f"'{self.connection}': {hide_values(exc.describe())}"
            )
            raise SqlRunnerError(msg) from None
        self.statements += ran
        return ran

    def _run(self, sdk: Any, sql: str, spec: TableSpec) -> None:
        query = sdk.create_sql_query(models.SqlQueryCreate(connection_name=self.connection, sql=sql))
        result = sdk.run_sql_query(str(query.slug), "json")
        failure = _looker_error(result)
        if failure:
            msg = (
                f"stream '{spec.stream_name}': SQL Runner load failed on looker_sql_runner_connection "
                f"'{self.connection}': "
                f"{hide_values(failure)}"
            )
            raise SqlRunnerError(msg)


def hide_values(message: str) -> str:
    """Looker's SQL error may quote the statement; quoted literals (record values) become '...'."""
    return _QUOTED.sub("'...'", message)


def _looker_error(result: Any) -> str:
    """Looker reports some SQL errors in a 200 body: ``[{"looker_error": "..."}]``."""
    try:
        rows: Sequence[Any] = json.loads(result) if isinstance(result, str | bytes) and result else []
    except ValueError:
        return ""
    if isinstance(rows, list) and rows and isinstance(rows[0], dict) and LOOKER_ERROR_KEY in rows[0]:
        return " ".join(str(rows[0][LOOKER_ERROR_KEY]).split())[:300]
    return ""
