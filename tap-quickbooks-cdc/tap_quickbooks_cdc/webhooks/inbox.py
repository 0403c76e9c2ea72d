"""The webhook inbox: verified events, each stored once, kept until a tap run marks them done.

Why a database and not a queue or a folder of files: the receiver may answer Intuit 200 only once an event
survives a crash, the tap must be able to re-read what it has not finished (a run killed midway fetches them
again), and retried deliveries must collapse into one row. A unique key and a committed transaction give all
three. SQLite (a file path, the embedded default) runs in WAL mode with `synchronous=FULL`, so a commit is on
disk when `add` returns and a tap run can read while the receiver writes; PostgreSQL (`postgresql://...`)
lets several receivers behind a load balancer share one inbox, each commit made with `synchronous_commit=on`
whatever the server's default, and `ON CONFLICT DO NOTHING` makes two receivers storing the same event race
safely into one row.

The tap side drains it: `pending(realm_ids)` lists what is not done yet, oldest first, and
`mark_done(event_ids)` is called only after the records of those events were emitted and the state that
covers them was written.
"""

from __future__ import annotations

import contextlib
import datetime
import queue
import sqlite3
import threading
import typing as t
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tap_quickbooks_cdc.errors import QboTapError
from tap_quickbooks_cdc.webhooks.group_commit import GroupCommit
from tap_quickbooks_cdc.webhooks.payloads import Event

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    import psycopg

TABLE = "qbo_webhook_events"
SQLITE_BUSY_MS = 10_000  # a tap run marking events done holds the write lock briefly
PG_POOL_SIZE = 8
PG_CONNECT_TIMEOUT = 10
PG_SCHEMA_LOCK = 0x5150_4F57  # advisory lock: two receivers starting together create the table once
CHUNK = 500  # ids per `IN (...)` statement
COLUMNS = "event_key, realm_id, entity, entity_id, operation, action, occurred_at, source_format"


class InboxError(QboTapError):
    """The inbox cannot be opened, read or written (the receiver answers 503 so Intuit retries)."""


@dataclass(frozen=True)
class StoredEvent:
    """An event as the inbox holds it; `event_id` is what `mark_done` takes."""

    event_id: int
    key: str
    realm_id: str
    entity: str
    entity_id: str
    operation: str
    action: str  # "fetch" or "delete"
    occurred_at: str
    source_format: str
    received_at: str  # UTC, ISO 8601


class Inbox(t.Protocol):
    """What the receiver and the tap use; every method is safe to call from several threads."""

    def add(self, events: Sequence[Event]) -> int:
        """Store the events not stored yet, in one transaction, durable on return; how many were new."""
        ...

    def pending(self, realm_ids: Iterable[str], limit: int | None = None) -> list[StoredEvent]:
        """The realms' events not marked done, oldest commit first; within one commit in no promised order
        (PostgreSQL stores them by key). Order never matters for correctness: Intuit itself reorders, and
        the tap orders versions by SyncToken."""
        ...

    def mark_done(self, event_ids: Iterable[int]) -> None:
        """Mark events done (durable on return); only after their records' state was written."""
        ...

    def ping(self) -> None:
        """Raise InboxError when the inbox cannot be reached (for /healthz)."""
        ...

    def close(self) -> None: ...


def open_inbox(location: str) -> Inbox:
    """`postgresql://...` (or `postgres://...`) is PostgreSQL, anything else a SQLite file path."""
    if location.startswith(("postgresql://", "postgres://")):
        return PostgresInbox(location)
    return SqliteInbox(Path(location))


def describe(location: str) -> str:
    """The inbox location without a password, for log lines and errors."""
    if not location.startswith(("postgresql://", "postgres://")):
        return location
    parts = urlsplit(location)
    return f"postgresql://{parts.hostname or ''}{':' + str(parts.port) if parts.port else ''}{parts.path}"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds")


def _rows(events: Sequence[Event]) -> list[tuple[str, ...]]:
    return [
        (e.key, e.realm_id, e.entity, e.entity_id, e.operation, e.action, e.occurred_at, e.source_format)
        for e in events
    ]


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    batch = [int(i) for i in ids]
    for start in range(0, len(batch), CHUNK):
        yield batch[start : start + CHUNK]


def _claim(groups: Sequence[Sequence[Event]], new_keys: set[str]) -> list[int]:
    """How many of `new_keys` each group stored; a key in two groups counts for the first."""
    unclaimed = set(new_keys)
    counts = []
    for events in groups:
        mine = {e.key for e in events} & unclaimed
        unclaimed -= mine
        counts.append(len(mine))
    return counts


def _reason(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


class SqliteInbox:
    """One connection shared under a lock (SQLite has a single writer anyway); concurrent `add`s share a
    transaction (`group_commit`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._group = GroupCommit(self._commit)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=SQLITE_BUSY_MS / 1000
            )
            self._db.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
            mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise sqlite3.OperationalError(f"journal_mode is {mode}, not wal")
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.executescript(
                f"""
                CREATE TABLE IF NOT EXISTS {TABLE} (
                    event_id INTEGER PRIMARY KEY AUTOINCREMENT,
                    event_key TEXT NOT NULL UNIQUE,
                    realm_id TEXT NOT NULL, entity TEXT NOT NULL, entity_id TEXT NOT NULL,
                    operation TEXT NOT NULL, action TEXT NOT NULL, occurred_at TEXT NOT NULL,
                    source_format TEXT NOT NULL, received_at TEXT NOT NULL, done_at TEXT
                );
                CREATE INDEX IF NOT EXISTS {TABLE}_pending ON {TABLE} (realm_id, event_id)
                    WHERE done_at IS NULL;
                """
            )
        except (OSError, sqlite3.Error) as exc:
            raise InboxError(
                f"webhook_inbox {path} cannot be opened as a SQLite inbox ({_reason(exc)}): "
                "point it at a writable file path (or postgresql://...)."
            ) from None

    @contextlib.contextmanager
    def _transaction(self, what: str) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise InboxError(f"webhook inbox {self.path}: cannot {what} ({_reason(exc)}).") from None

    def add(self, events: Sequence[Event]) -> int:
        return self._group.add(events) if events else 0

    def _commit(self, groups: list[Sequence[Event]]) -> list[int]:
        received = _now()
        counts = []
        with self._transaction("store events") as db:
            for events in groups:
                before = db.total_changes
                db.executemany(
                    f"INSERT INTO {TABLE} ({COLUMNS}, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (event_key) DO NOTHING",
                    [(*row, received) for row in _rows(events)],
                )
                counts.append(db.total_changes - before)
        return counts

    def pending(self, realm_ids: Iterable[str], limit: int | None = None) -> list[StoredEvent]:
        realms = sorted(set(realm_ids))
        if not realms:
            return []
        marks = ", ".join("?" for _ in realms)
        sql = (
            f"SELECT event_id, {COLUMNS}, received_at FROM {TABLE} "
            f"WHERE done_at IS NULL AND realm_id IN ({marks}) ORDER BY event_id"
        )
        params: list[object] = list(realms)
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._lock:
            try:
                rows = self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise InboxError(f"webhook inbox {self.path}: cannot read events ({_reason(exc)}).") from None
        return [StoredEvent(*row) for row in rows]

    def mark_done(self, event_ids: Iterable[int]) -> None:
        done = _now()
        with self._transaction("mark events done") as db:
            for chunk in _chunks(event_ids):
                marks = ", ".join("?" for _ in chunk)
                db.execute(
                    f"UPDATE {TABLE} SET done_at = ? WHERE done_at IS NULL AND event_id IN ({marks})",
                    [done, *chunk],
                )

    def ping(self) -> None:
        with self._lock:
            try:
                self._db.execute(f"SELECT 1 FROM {TABLE} LIMIT 1").fetchall()
            except sqlite3.Error as exc:
                raise InboxError(f"webhook inbox {self.path}: cannot be read ({_reason(exc)}).") from None

    def close(self) -> None:
        with self._lock:
            self._db.close()


class PostgresInbox:
    """A small pool of connections for reads; concurrent `add`s share a transaction (`group_commit`)."""

    def __init__(self, uri: str) -> None:
        import psycopg  # noqa: PLC0415 - only a PostgreSQL inbox pays for the import

        self._errors = psycopg.Error
        self._connect_to = psycopg.connect
        self.where = describe(uri)
        self._uri = uri
        self._group = GroupCommit(self._commit)
        self._idle: queue.LifoQueue[psycopg.Connection[t.Any]] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(PG_POOL_SIZE)
        try:
            self._create_table()
        except InboxError as exc:
            raise InboxError(
                f"{exc} Check webhook_inbox (host, port, database, user, password) and that PostgreSQL is up."
            ) from None

    def _create_table(self) -> None:
        with self._connection("create the events table") as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (PG_SCHEMA_LOCK,))
            conn.execute(
                f"""
                CREATE TABLE IF NOT EXISTS {TABLE} (
                    event_id BIGSERIAL PRIMARY KEY,
                    event_key TEXT NOT NULL UNIQUE,
                    realm_id TEXT NOT NULL, entity TEXT NOT NULL, entity_id TEXT NOT NULL,
                    operation TEXT NOT NULL, action TEXT NOT NULL, occurred_at TEXT NOT NULL,
                    source_format TEXT NOT NULL, received_at TEXT NOT NULL, done_at TEXT
                )
                """
            )
            conn.execute(
                f"CREATE INDEX IF NOT EXISTS {TABLE}_pending ON {TABLE} (realm_id, event_id) "
                "WHERE done_at IS NULL"
            )

    def _connect(self) -> psycopg.Connection[t.Any]:
        conn = self._connect_to(self._uri, connect_timeout=PG_CONNECT_TIMEOUT, autocommit=True)
        conn.execute("SET synchronous_commit TO on")  # the server's default may be off
        return conn

    @contextlib.contextmanager
    def _connection(self, what: str) -> Iterator[psycopg.Connection[t.Any]]:
        self._slots.acquire()
        conn: psycopg.Connection[t.Any] | None = None
        try:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = self._connect()
            yield conn
        except BaseException as exc:
            if conn is not None:
                conn.close()  # broken or mid-transaction: never reused
            if not isinstance(exc, self._errors):
                raise
            reason = _reason(exc).replace(urlsplit(self._uri).password or "\0", "***")
            raise InboxError(f"webhook inbox {self.where}: cannot {what} ({reason}).") from None
        else:
            self._idle.put(conn)
        finally:
            self._slots.release()

    def add(self, events: Sequence[Event]) -> int:
        return self._group.add(events) if events else 0

    def _commit(self, groups: list[Sequence[Event]]) -> list[int]:
        """`_insert`, once more on fresh connections when it failed: a restarted server leaves every idle
        connection dead, and the first delivery after it should not be a 503. Safe to repeat even if the
        failed attempt did commit: the insert skips stored keys."""
        try:
            return self._insert(groups)
        except InboxError:
            self._close_idle()
            return self._insert(groups)

    def _insert(self, groups: list[Sequence[Event]]) -> list[int]:
        """One transaction inserting the rows in event-key order: two receivers storing the same events
        (in any order) then take the key locks in the same order, so neither deadlocks on the other."""
        received = _now()
        first_of: dict[str, tuple[str, ...]] = {}
        for events in groups:
            for row in _rows(events):
                first_of.setdefault(row[0], row)
        new_keys: set[str] = set()
        with self._connection("store events") as conn, conn.transaction(), conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {TABLE} ({COLUMNS}, received_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (event_key) DO NOTHING "
                "RETURNING event_key",
                [(*first_of[key], received) for key in sorted(first_of)],
                returning=True,
            )
            while True:
                new_keys.update(str(row[0]) for row in cur.fetchall())
                if not cur.nextset():
                    break
        return _claim(groups, new_keys)

    def pending(self, realm_ids: Iterable[str], limit: int | None = None) -> list[StoredEvent]:
        realms = sorted(set(realm_ids))
        if not realms:
            return []
        with self._connection("read events") as conn:
            rows = conn.execute(
                f"SELECT event_id, {COLUMNS}, received_at FROM {TABLE} "
                "WHERE done_at IS NULL AND realm_id = ANY(%s) ORDER BY event_id LIMIT %s",
                (realms, limit),
            ).fetchall()
        return [StoredEvent(*row) for row in rows]

    def mark_done(self, event_ids: Iterable[int]) -> None:
        done = _now()
        with self._connection("mark events done") as conn, conn.transaction():
            for chunk in _chunks(event_ids):
                conn.execute(
                    f"UPDATE {TABLE} SET done_at = %s WHERE done_at IS NULL AND event_id = ANY(%s)",
                    (done, chunk),
                )

    def ping(self) -> None:
        with self._connection("reach the database") as conn:
            conn.execute("SELECT 1")

    def _close_idle(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

    def close(self) -> None:
        self._close_idle()
