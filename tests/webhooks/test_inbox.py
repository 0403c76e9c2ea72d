"""The inbox API the tap drains: pending per realm, oldest first; mark_done after the state is written."""

from __future__ import annotations

import sqlite3
import typing as t
import uuid
from pathlib import Path

import pytest

from tap_quickbooks_cdc.webhooks.inbox import Inbox, InboxError, describe, open_inbox
from tap_quickbooks_cdc.webhooks.payloads import Event

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.services import PostgresServer


def _event(realm: str, record_id: str, operation: str = "Update") -> Event:
    action: t.Literal["fetch", "delete"] = "delete" if operation == "Delete" else "fetch"
    stamp = "2026-11-20T10:00:00.000Z"
    key = f"legacy|{realm}|Invoice|{record_id}|{operation}|{stamp}"
    return Event(key, realm, "Invoice", record_id, operation, action, stamp, "legacy")


@pytest.fixture(params=["sqlite", "postgresql"])
def inbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Inbox]:
    if request.param == "sqlite":
        box = open_inbox(str(tmp_path / "nested" / "inbox.sqlite"))
    else:
        import psycopg
        from psycopg import sql

        server: PostgresServer = request.getfixturevalue("postgres_server")
        dbname = f"inbox_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server.admin_conninfo, autocommit=True) as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(dbname), sql.Identifier(server.user)
                )
            )
        box = open_inbox(server.uri.rsplit("/", 1)[0] + "/" + dbname)
    try:
        yield box
    finally:
        box.close()


def test_add_stores_each_event_once_and_counts_only_the_new_ones(inbox: Inbox) -> None:
    first = [_event("1", "a"), _event("1", "b")]
    assert inbox.add(first) == 2
    assert inbox.add([*first, _event("1", "c")]) == 1
    assert inbox.add([]) == 0
    assert [e.entity_id for e in inbox.pending(["1"])] == ["a", "b", "c"]


def test_pending_is_per_realm_oldest_first_and_mark_done_removes_only_those(inbox: Inbox) -> None:
    for event in (_event("1", "a"), _event("2", "x"), _event("1", "b", "Delete")):
        inbox.add([event])  # commit order (within one commit no order is promised)
    pending = inbox.pending(["1"])
    assert [(e.entity_id, e.action) for e in pending] == [("a", "fetch"), ("b", "delete")]
    assert [e.entity_id for e in inbox.pending(["1", "2"], limit=2)] == ["a", "x"]
    assert inbox.pending([]) == []
    inbox.mark_done([pending[0].event_id])
    assert [e.entity_id for e in inbox.pending(["1", "2"])] == ["x", "b"]
    assert inbox.add([_event("1", "a")]) == 0  # a late retry of a done event is not stored again
    inbox.mark_done([])
    inbox.ping()


def test_the_sqlite_inbox_commits_in_wal_mode_with_full_synchronous_writes(tmp_path: Path) -> None:
    path = tmp_path / "inbox.sqlite"
    box = open_inbox(str(path))
    try:
        box.add([_event("1", "a")])
        db = box._db  # type: ignore[attr-defined]
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    finally:
        box.close()
    with sqlite3.connect(path) as other:  # another process (the tap) reads what was committed
        assert other.execute("SELECT entity_id FROM qbo_webhook_events").fetchall() == [("a",)]


def test_an_unusable_inbox_is_one_line_naming_the_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(
        InboxError, match=r"^webhook_inbox .* cannot be opened as a SQLite inbox .*: point it"
    ):
        open_inbox(str(blocker / "inbox.sqlite"))
    with pytest.raises(InboxError) as caught:
        open_inbox("postgresql://someone:pw-Sekr3t@127.0.0.1:1/db")
    assert "pw-Sekr3t" not in str(caught.value)
    assert "postgresql://127.0.0.1:1/db" in str(caught.value)
    assert describe("postgresql://u:p@h:5432/d") == "postgresql://h:5432/d"


def test_concurrent_adds_share_commits_and_each_gets_its_own_new_count(inbox: Inbox) -> None:
    import concurrent.futures

    batches = [[_event("1", f"c{n}"), _event("1", f"c{n + 1}")] for n in range(0, 80, 2)]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        first = list(pool.map(inbox.add, batches))
        again = list(pool.map(inbox.add, batches))  # every event already stored
    assert first == [2] * 40
    assert again == [0] * 40
    assert len(inbox.pending(["1"])) == 80


def test_a_failed_group_commit_fails_every_delivery_in_it_and_the_next_one_succeeds() -> None:
    from tap_quickbooks_cdc.webhooks.group_commit import GroupCommit

    calls: list[int] = []

    def commit(groups: list[t.Sequence[Event]]) -> list[int]:
        calls.append(len(groups))
        if len(calls) == 1:
            raise InboxError("webhook inbox x: cannot store events (disk full).")
        return [len(events) for events in groups]

    group = GroupCommit(commit)
    with pytest.raises(InboxError, match="disk full"):
        group.add([_event("1", "a")])
    assert group.add([_event("1", "a"), _event("1", "b")]) == 2
