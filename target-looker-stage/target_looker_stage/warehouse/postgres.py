"""PostgreSQL warehouse: idempotent, version-guarded upserts through COPY into a temporary table.

One batch = one transaction: COPY the Arrow rows (CSV written by Arrow's C++ writer: decimals as exact
text, JSON text parsed into jsonb by the server) into a temporary table, then ``INSERT ... SELECT ...
ON CONFLICT (pk) DO UPDATE ... WHERE stored version IS NULL OR stored version <= incoming version``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from psycopg import sql

from target_looker_stage.arrow_batch import ARROW_TYPES
from target_looker_stage.errors import ConfigError, WarehouseError
from target_looker_stage.schema_mapping import check_table_owner, postgres_identifier, table_comment
from target_looker_stage.table_spec import (
    DELETED_AT_COLUMN,
    LOADS_TABLE,
    ColumnKind,
    StreamLoad,
    TableSpec,
)
from target_looker_stage.warehouse import evolution
from target_looker_stage.warehouse import postgres_sql as q
from target_looker_stage.warehouse.postgres_errors import describe

if TYPE_CHECKING:
    from target_looker_stage.settings import TargetSettings
    from target_looker_stage.table_spec import ColumnSpec

_LOG = logging.getLogger("target-looker-stage.postgres")
_COPY_CHUNK_ROWS = 50_000


def redact_uri(uri: str) -> str:
    """The URI with its password (user info or ``?password=`` parameter) replaced by ``***``."""
    try:
        parts = urlsplit(uri)
        netloc = parts.netloc
        if parts.password is not None:
            host = parts.netloc.rpartition("@")[2]  # host[:port] as written (IPv6 brackets kept)
            netloc = f"{parts.username or ''}:***@{host}"
        query = re.sub(r"(^|&)password=[^&]*", r"\1password=***", parts.query)
        return urlunsplit(parts._replace(netloc=netloc, query=query))
    except ValueError:
        return re.sub(r"//([^:/@]*):[^@]*@", r"//\1:***@", re.sub(r"password=[^&]*", "password=***", uri))


def _passwords(uri: str) -> list[str]:
    parts = urlsplit(uri)
    found = [parts.password or ""] + [v for k, v in parse_qsl(parts.query) if k == "password"]
    return [s for p in found for s in {p, unquote(p)} if len(s) >= 4]


_JSON_NUL = re.compile(r"\\\\|\\u0000")


def _without_nul(values: pa.ChunkedArray, kind: ColumnKind) -> pa.ChunkedArray:
    """PostgreSQL text and jsonb cannot hold U+0000: it becomes U+FFFD (the Unicode replacement character)."""
    if pc.any(pc.match_substring(values, "\x00")).as_py():
        values = pc.replace_substring(values, "\x00", "\ufffd")
    if kind == "json" and pc.any(pc.match_substring(values, "\\u0000")).as_py():
        # Rewrite the escape \u0000 but not an escaped backslash followed by "u0000" (pairs are skipped).
        values = pa.chunked_array(
            [
                pa.array(
                    [
                        None
                        if v is None
                        else _JSON_NUL.sub(lambda m: "\\ufffd" if m[0] != "\\\\" else m[0], v)
                        for v in chunk.to_pylist()
                    ],
                    pa.string(),
                )
                for chunk in values.chunks
            ],
            pa.string(),
        )
    return values


def one_line(text: str) -> str:
    return " ".join(text.split())


class PostgresWarehouse:
    """The Warehouse protocol on PostgreSQL (psycopg 3). ``uri``: ``postgresql://user:password@host:port/db``.

    ``settings.postgres_connect_timeout``: seconds to wait for a connection.
    """

    ping_after_idle_s = 30.0

    def __init__(self, uri: str, settings: TargetSettings) -> None:
        parts = urlsplit(uri)
        if parts.scheme not in {"postgresql", "postgres"}:
            raise ConfigError(
                f"warehouse URI {redact_uri(uri)} is not PostgreSQL; use postgresql://user:password@host:port/db"
            )
        self._uri = uri
        self._secrets = _passwords(uri)
        self.display_uri = redact_uri(uri)
        self._connect_timeout = settings.postgres_connect_timeout
        self._conn: psycopg.Connection[tuple[Any, ...]] | None = None
        self._last_used = 0.0
        self._stored: dict[tuple[str, str], dict[str, ColumnKind]] = {}
        self._fsync_reported = False

    # ----------------------------------------------------------------------------------------- plumbing

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return one_line(text)

    def _connection(self) -> psycopg.Connection[tuple[Any, ...]]:
        """The open session; after ``ping_after_idle_s`` idle seconds it is pinged first and replaced when the
        server dropped it meanwhile (restart, idle timeout), so a slow tap does not fail the next batch."""
        if self._conn is not None and not self._conn.closed:
            if time.monotonic() - self._last_used < self.ping_after_idle_s:
                self._last_used = time.monotonic()
                return self._conn
            try:
                self._conn.execute("SELECT 1")
                self._last_used = time.monotonic()
                return self._conn
            except psycopg.OperationalError:
                self.close()
        try:
            conn = psycopg.connect(
                self._uri,
                autocommit=True,
                connect_timeout=self._connect_timeout,
                application_name="target-looker-stage",
            )
            conn.execute("SET TIME ZONE 'UTC'")
            self._commit_durably(conn)
        except psycopg.Error as exc:
            raise WarehouseError(
                f"cannot connect to PostgreSQL at {self.display_uri}: {self._clean(str(exc))}; "
                "check the host, port, database, user and password in the warehouse URI and that the server "
                "accepts connections from this machine"
            ) from None
        self._conn, self._last_used = conn, time.monotonic()
        return conn

    def _commit_durably(self, conn: psycopg.Connection[tuple[Any, ...]]) -> None:
        """A drain's STATE is relayed as soon as its commit returns, so that commit must be on disk by then.

        With the server (or role, or database) default ``synchronous_commit = off`` a commit returns before
        its WAL is written, and a server crash in the next moments loses a batch whose STATE was already
        emitted: the next run resumes after it and the rows never arrive. This session therefore commits
        synchronously (every other value, ``local`` to ``remote_apply``, already flushes the local WAL, so
        it is kept). ``fsync = off`` no session can fix: it is reported once, with the fix."""
        row = conn.execute(
            "SELECT current_setting('synchronous_commit'), current_setting('fsync')"
        ).fetchone()
        synchronous, fsync = row if row is not None else ("on", "on")
        if synchronous == "off":
            conn.execute("SET synchronous_commit = on")
        if fsync == "off" and not self._fsync_reported:
            self._fsync_reported = True
            _LOG.warning(
                "PostgreSQL at %s runs with fsync=off: an operating-system crash or power loss can lose "
                "batches whose STATE was already emitted; set fsync = on in the server's configuration",
                self.display_uri,
            )

    def _fail(self, action: str, spec: TableSpec, exc: psycopg.Error) -> WarehouseError:
        if isinstance(exc, psycopg.OperationalError):
            self.close()  # the session may be gone; reconnect on the next call
        return WarehouseError(
            f"PostgreSQL failed to {action} {spec.schema_name}.{spec.name} at {self.display_uri}: "
            f"{self._clean(describe(exc, spec.column_names))}; fix that and re-run (each step is one "
            "transaction, rolled back on error)"
        )

    def check(self) -> None:
        conn = self._connection()
        try:
            conn.execute("SELECT 1")
        except psycopg.Error as exc:
            self.close()
            raise WarehouseError(
                f"PostgreSQL at {self.display_uri} does not answer: {self._clean(str(exc))}; "
                "check that the server is running"
            ) from None

    def record_loads(self, schema_name: str, loads: Sequence[StreamLoad], loaded_at: dt.datetime) -> None:
        table = sql.Identifier(schema_name, LOADS_TABLE)
        rows = sql.SQL(", ").join(
            sql.SQL("({}, {}, {}, {})").format(
                sql.Literal(load.stream_name),
                sql.Literal(load.table_name),
                sql.Literal(loaded_at),
                sql.Literal(load.rows),
            )
            for load in loads
        )
        try:
            conn = self._connection()
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema_name)))
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (stream_name text PRIMARY KEY, table_name text NOT NULL, "
                    "loaded_at timestamp with time zone NOT NULL, rows_loaded bigint NOT NULL)"
                ).format(table)
            )
            conn.execute(  # one statement: atomic under autocommit, committed synchronously
                sql.SQL(
                    "INSERT INTO {} VALUES {} ON CONFLICT (stream_name) DO UPDATE SET table_name = "
                    "excluded.table_name, loaded_at = excluded.loaded_at, rows_loaded = excluded.rows_loaded"
                ).format(table, rows)
            )
        except psycopg.Error as exc:
            raise WarehouseError(
                f"PostgreSQL at {self.display_uri}: cannot record the load times in "
                f"{schema_name}.{LOADS_TABLE}: {self._clean(describe(exc))}"
            ) from None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # ----------------------------------------------------------------------------------------- schema

    def _read_columns(self, spec: TableSpec) -> tuple[dict[str, evolution.StoredColumn], list[str]] | None:
        """The stored table's columns (name -> format_type and kind) and primary key; None when there is no
        table."""
        conn = self._connection()
        found = conn.execute(
            "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')",
            (spec.schema_name, spec.name),
        ).fetchone()
        if found is None:
            return None
        oid = found[0]
        columns = conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            (oid,),
        ).fetchall()
        keys = conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = %s AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)",
            (oid,),
        ).fetchall()
        stored = {
            str(name): evolution.StoredColumn(str(pg_type), q.KIND_OF_PG_TYPE.get(str(pg_type)))
            for name, pg_type in columns
        }
        return stored, [str(k) for (k,) in keys]

    def _claim(self, spec: TableSpec) -> None:
        """Record the stream on the table (its comment), or refuse when the table holds another stream. A
        table this role does not own keeps its missing comment (COMMENT needs ownership; loading does not)."""
        conn = self._connection()
        found = conn.execute(
            "SELECT obj_description(c.oid, 'pg_class') FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
            (spec.schema_name, spec.name),
        ).fetchone()
        if check_table_owner(spec, found[0] if found else None):
            with contextlib.suppress(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(q.comment_table(spec, table_comment(spec.stream_name)))

    def _apply(
        self, conn: psycopg.Connection[tuple[Any, ...]], spec: TableSpec, step: evolution.Step
    ) -> None:
        match step:
            case evolution.AddColumn(name, kind):
                conn.execute(q.add_column(spec, name, kind))
            case evolution.WidenColumn(name, old, new):
                conn.execute(q.widen_column(spec, name, old, new))
            case evolution.AddPrimaryKey():
                # A table created without a key (load_method: append) gets the stream's key when the stream
                # upserts into it; refused when stored rows repeat a key or leave it NULL (the transaction
                # rolls back: the table keeps its rows, columns and types).
                try:
                    conn.execute(q.add_primary_key(spec))
                except (psycopg.errors.UniqueViolation, psycopg.errors.NotNullViolation):
                    raise evolution.key_not_addable(spec) from None

    @staticmethod
    def _upserts(spec: TableSpec) -> bool:
        return evolution.upserts(spec)

    def ensure_table(self, spec: TableSpec, *, _retry: bool = True) -> None:
        conn = self._connection()
        try:
            with conn.transaction():
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(spec.schema_name))
                )
                current = self._read_columns(spec)
                if current is None:
                    conn.execute(q.create_table(spec, with_primary_key=self._upserts(spec)))
                    conn.execute(q.comment_table(spec, table_comment(spec.stream_name)))
                    self._stored[(spec.schema_name, spec.name)] = {c.name: c.kind for c in spec.columns}
                    return
                self._claim(spec)
                columns, keys = current
                plan = evolution.plan(
                    spec, columns, keys, identity=postgres_identifier, type_names=q.PG_TYPES
                )
                for step in plan.steps:
                    self._apply(conn, spec, step)
                self._stored[(spec.schema_name, spec.name)] = plan.stored_kinds
        except psycopg.errors.UniqueViolation as exc:
            if not _retry:
                raise self._fail("create or alter", spec, exc) from None
            # Two loaders created the same schema or table at once; the other one won: look again.
            self.ensure_table(spec, _retry=False)
        except psycopg.Error as exc:
            raise self._fail("create or alter", spec, exc) from None

    def _stored_kinds(self, spec: TableSpec) -> dict[str, ColumnKind]:
        known = self._stored.get((spec.schema_name, spec.name))
        if known is None or any(c.name not in known for c in spec.columns):
            self.ensure_table(spec)
            known = self._stored[(spec.schema_name, spec.name)]
        return known

    # ----------------------------------------------------------------------------------------- data

    @staticmethod
    def _as_spec_types(spec: TableSpec, rows: pa.Table) -> pa.Table:
        columns: list[ColumnSpec] = list(spec.columns)
        missing = [c.name for c in columns if c.name not in rows.column_names]
        if missing:
            raise WarehouseError(
                f"batch for {spec.schema_name}.{spec.name} lacks columns {', '.join(missing)}; "
                "this is a bug in the sink (the batch must follow the table spec)"
            )
        selected = rows.select([c.name for c in columns])
        wanted = pa.schema([pa.field(c.name, ARROW_TYPES[c.kind]) for c in columns])
        table = selected if selected.schema.equals(wanted) else selected.cast(wanted)
        for index, column in enumerate(columns):
            if column.kind in {"string", "json"}:
                table = table.set_column(index, column.name, _without_nul(table.column(index), column.kind))
        return table

    @staticmethod
    def _csv_chunks(rows: pa.Table) -> list[bytes]:
        options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
        chunks = []
        for offset in range(0, rows.num_rows, _COPY_CHUNK_ROWS):
            buffer = io.BytesIO()
            pa_csv.write_csv(rows.slice(offset, _COPY_CHUNK_ROWS), buffer, options)
            chunks.append(buffer.getvalue())
        return chunks

    def merge(self, spec: TableSpec, rows: pa.Table) -> int:
        if rows.num_rows == 0:
            return 0
        stored = self._stored_kinds(spec)
        chunks = self._csv_chunks(self._as_spec_types(spec, rows))
        conn = self._connection()
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(q.create_stage(spec))
                with cur.copy(q.copy_stage(spec)) as copy:
                    for chunk in chunks:
                        copy.write(chunk)
                if not self._upserts(spec):
                    cur.execute(q.insert_all(spec, stored))
                    return max(cur.rowcount, 0)
                written = 0
                if spec.hard_delete and spec.column(DELETED_AT_COLUMN) is not None:
                    cur.execute(q.delete_deleted_keys(spec))
                    written += max(cur.rowcount, 0)
                cur.execute(q.upsert(spec, stored))
                return written + max(cur.rowcount, 0)
        except psycopg.Error as exc:
            raise self._fail("merge a batch into", spec, exc) from None
