"""Draining the webhook inbox in a tap run: full records for the notified changes, before CDC.

Why it works this way:
- A notification names a change, never the record, so every change to fetch is read **in full**, and
  batched: one `POST /batch` carries up to 30 queries `SELECT * FROM X WHERE Id IN (...)`, so 3 changed
  invoices and a changed bill cost one request, not four. A delete is final and needs no fetch: it becomes
  the stub CDC would send (`status: Deleted`), so it takes the same path (`_sdc_deleted_at`, the same
  de-duplication).
- A realm's pending events are read and fetched once, when its first stream asks; each stream then takes its
  entity's records and passes them through the realm's (entity, Id, SyncToken) de-duplicator like CDC's.
- Events are marked done only after the stream that emitted their records has written the STATE message
  that follows them (`QboStream.sync` calls `commit`; the writer flushes stdout on every STATE). A run killed
  before that leaves them pending: the next run fetches them again, so none is lost (records the killed run
  wrote without a STATE after them are not covered by any state, and come again).
- Events for entities this run does not stream are acknowledged at once (nothing could ever cover them) with
  one log line per entity name; a change whose Id the query no longer finds is acknowledged too (CDC, the
  safety net, sees its delete).

`recent_versions` (per stream and realm, in the state) is what makes "emitted once" hold across runs: the
SyncToken of every record emitted at or after the realm's CDC cursor. A later CDC pass reads from that cursor,
so those are exactly the versions it could return again; everything older than the cursor was emitted by the
pass that set it, so a fetched version older than the cursor is dropped (`already_covered`).
"""

from __future__ import annotations

import collections
import contextlib
import re
import typing as t
import weakref

from tap_quickbooks_cdc.errors import ApiError, QboTapError
from tap_quickbooks_cdc.records import DELETED_SYNC_TOKEN, TimeFormatError, changed_at, normalise_time
from tap_quickbooks_cdc.registry import LIST_ENTITIES
from tap_quickbooks_cdc.webhooks.inbox import describe, open_inbox

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Collection, Iterable, Mapping

    from tap_quickbooks_cdc.api import QboClient
    from tap_quickbooks_cdc.webhooks.inbox import Inbox, StoredEvent

#: Events read per realm and run; the rest wait for the next run (the inbox keeps them).
EVENTS_PER_RUN = 10_000
IDS_PER_QUERY = 100  # keeps each statement short
ITEMS_PER_BATCH = 30  # Intuit's batch limit
RECENT_KEY = "recent_versions"
DELETED = "deleted"
_SAFE_ID = re.compile(r"[0-9A-Za-z_.-]{1,64}")

Versions = dict[str, list[str]]  # Id -> [SyncToken text or "deleted", last_updated_at]


def token_text(record: Mapping[str, t.Any]) -> str:
    return DELETED if record.get("status") == "Deleted" else str(record.get("SyncToken") or "0")


def token_value(text: str) -> int:
    """`token_text` back to the de-duplicator's integer (a delete outranks every version)."""
    if text == DELETED:
        return DELETED_SYNC_TOKEN
    return int(text) if text.isdigit() else 0


def recent_versions(partition: Mapping[str, t.Any]) -> Versions:
    """The partition's `recent_versions`, entries of another shape skipped (a hand-edited state must not
    end the run: at worst a record is emitted once more)."""
    stored = partition.get(RECENT_KEY)
    if not isinstance(stored, dict):
        return {}
    return {
        str(key): [value[0], value[1]]
        for key, value in stored.items()
        if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)
    }


def keep_recent(versions: Versions, floor: str | None) -> Versions:
    """The versions a CDC pass from `floor` could return again (last_updated_at at or after it)."""
    return {key: value for key, value in versions.items() if floor is None or value[1] >= floor}


def already_covered(obj: Mapping[str, t.Any], realm_id: str, entity: str, cursor: str | None) -> bool:
    """True when the version changed before the realm's CDC cursor: the pass that set it emitted it."""
    changed = changed_at(obj, realm_id, entity)
    return cursor is not None and changed is not None and changed < cursor


def delete_stub(event: StoredEvent) -> dict[str, t.Any]:
    """The CDC-shaped stub of a deleted record, timed by the notification (else its arrival)."""
    when = event.received_at
    with contextlib.suppress(TimeFormatError):
        when = normalise_time(event.occurred_at)
    meta = {"LastUpdatedTime": when}
    return {"domain": "QBO", "status": "Deleted", "Id": event.entity_id, "MetaData": meta}


class _RealmChanges:
    """One realm's drained changes: raw objects and the inbox events behind them, per entity."""

    def __init__(self) -> None:
        self.objects: dict[str, list[dict[str, t.Any]]] = collections.defaultdict(list)
        self.event_ids: dict[str, list[int]] = collections.defaultdict(list)


class WebhookDrain:
    """The inbox of one tap run (opened on first use) and what its streams have emitted from it."""

    def __init__(self, location: str, streamed: Collection[str], logger: logging.Logger) -> None:
        """`streamed`: the QBO entities this run emits (selected streams)."""
        self._location = location
        self._streamed = frozenset(streamed)
        self._logger = logger
        self._inbox: Inbox | None = None
        self._realms: dict[str, _RealmChanges] = {}
        self._covered: dict[str, list[int]] = collections.defaultdict(list)  # entity -> ids to mark done
        self._dropped_logged: set[str] = set()
        self._said: set[str] = set()

    def first_time(self, key: str) -> bool:
        """True the first time `key` is asked this run (one log line per realm, not per stream)."""
        new = key not in self._said
        self._said.add(key)
        return new

    def _open(self, realm_id: str) -> Inbox:
        if self._inbox is None:
            try:
                self._inbox = open_inbox(self._location)
            except QboTapError as exc:
                raise ApiError(realm_id, f"{str(exc).rstrip('.')} (the webhook drain needs it).") from None
        return self._inbox

    def take(self, client: QboClient, entity: str) -> list[dict[str, t.Any]]:
        """The realm's notified changes of `entity`: fetched records and delete stubs (each Id once)."""
        realm_id = client.realm_id
        if realm_id not in self._realms:
            self._realms[realm_id] = self._drain_realm(client)
        return self._realms[realm_id].objects.pop(entity, [])

    def emitted(self, realm_id: str, entity: str) -> None:
        """Every record `take` returned for (realm, entity) went through the stream: once its STATE is out,
        their events may be marked done (`commit`)."""
        changes = self._realms.get(realm_id)
        if changes is not None:
            self._covered[entity] += changes.event_ids.pop(entity, [])

    def commit(self, entity: str) -> None:
        """Mark done the events of `entity` whose records were emitted; called after the stream's last STATE
        was written. A failure only warns: the events come again next run and are dropped as duplicates."""
        ids = self._covered.pop(entity, [])
        if not ids or self._inbox is None:
            return
        try:
            self._inbox.mark_done(ids)
        except QboTapError as exc:
            self._logger.warning(
                "webhook inbox %s: %d event(s) stay pending (%s); the next run fetches them again",
                describe(self._location),
                len(ids),
                str(exc).rstrip("."),
            )

    def _drain_realm(self, client: QboClient) -> _RealmChanges:
        realm_id = client.realm_id
        inbox = self._open(realm_id)
        try:
            events = inbox.pending([realm_id], limit=EVENTS_PER_RUN)
        except QboTapError as exc:
            raise ApiError(realm_id, f"{str(exc).rstrip('.')}: check webhook_inbox.") from None
        changes = _RealmChanges()
        dropped: dict[str, list[int]] = collections.defaultdict(list)
        deletes: dict[str, dict[str, StoredEvent]] = collections.defaultdict(dict)
        fetches: dict[str, set[str]] = collections.defaultdict(set)
        for event in events:
            if event.entity not in self._streamed or not _SAFE_ID.fullmatch(event.entity_id):
                dropped[event.entity].append(event.event_id)
                continue
            changes.event_ids[event.entity].append(event.event_id)
            if event.action == "delete":
                deletes[event.entity][event.entity_id] = event
            else:
                fetches[event.entity].add(event.entity_id)
        self._acknowledge_dropped(inbox, realm_id, dropped)
        wanted = {entity: sorted(ids - deletes[entity].keys()) for entity, ids in fetches.items()}
        for entity, objects in fetch_by_id(client, {e: ids for e, ids in wanted.items() if ids}).items():
            changes.objects[entity].extend(objects)
        for entity, stubs in deletes.items():
            changes.objects[entity].extend(delete_stub(event) for event in stubs.values())
        if events:
            self._logger.info(
                "realm %s: %d webhook event(s) from the inbox, %d record(s) fetched in %d request(s)",
                realm_id,
                len(events),
                sum(len(ids) for ids in wanted.values()),
                batch_count(wanted),
            )
        return changes

    def _acknowledge_dropped(self, inbox: Inbox, realm_id: str, dropped: Mapping[str, list[int]]) -> None:
        if not dropped:
            return
        for entity in sorted(dropped.keys() - self._dropped_logged):
            self._dropped_logged.add(entity)
            self._logger.info(
                "webhook events for %s are acknowledged and dropped: this run does not stream it "
                "(first seen in realm %s)",
                entity,
                realm_id,
            )
        try:
            inbox.mark_done(i for ids in dropped.values() for i in ids)
        except QboTapError as exc:
            raise ApiError(realm_id, f"{str(exc).rstrip('.')}: check webhook_inbox.") from None


def _statements(wanted: Mapping[str, list[str]]) -> list[tuple[str, str]]:
    """(entity, statement) per chunk of Ids."""
    statements = []
    for entity, ids in sorted(wanted.items()):
        active = "Active IN (true, false) AND " if entity in LIST_ENTITIES else ""
        for start in range(0, len(ids), IDS_PER_QUERY):
            listed = ", ".join(f"'{record_id}'" for record_id in ids[start : start + IDS_PER_QUERY])
            statements.append(
                (entity, f"SELECT * FROM {entity} WHERE {active}Id IN ({listed}) MAXRESULTS {IDS_PER_QUERY}")
            )
    return statements


def batch_count(wanted: Mapping[str, Iterable[str]]) -> int:
    """Requests `fetch_by_id` sends for `wanted`."""
    items = len(_statements({entity: sorted(ids) for entity, ids in wanted.items() if ids}))
    return -(-items // ITEMS_PER_BATCH)


def fetch_by_id(client: QboClient, wanted: Mapping[str, list[str]]) -> dict[str, list[dict[str, t.Any]]]:
    """Full records of `wanted` ({entity: Ids}) through the batch endpoint: up to 30 `Id IN (...)` queries per
    request. A Fault in any item fails the realm (its events stay pending)."""
    statements = _statements(wanted)
    found: dict[str, list[dict[str, t.Any]]] = collections.defaultdict(list)
    for start in range(0, len(statements), ITEMS_PER_BATCH):
        chunk = statements[start : start + ITEMS_PER_BATCH]
        items = [{"bId": str(n), "Query": statement} for n, (_, statement) in enumerate(chunk)]
        body = client.post("batch", {"BatchItemRequest": items})
        answers = body.get("BatchItemResponse")
        if not isinstance(answers, list):
            raise ApiError(client.realm_id, "batch answered without BatchItemResponse (malformed response).")
        by_bid = {str(a.get("bId")): a for a in answers if isinstance(a, dict)}
        for n, (entity, _) in enumerate(chunk):
            found[entity] += _item_objects(client.realm_id, entity, by_bid.get(str(n)))
    return dict(found)


def _item_objects(realm_id: str, entity: str, answer: Mapping[str, t.Any] | None) -> list[dict[str, t.Any]]:
    if answer is None:
        raise ApiError(realm_id, f"batch left the {entity} query unanswered (malformed response); run again.")
    if "Fault" in answer:
        errors = answer["Fault"].get("Error", []) if isinstance(answer["Fault"], dict) else []
        first = errors[0] if errors and isinstance(errors[0], dict) else {}
        raise ApiError(
            realm_id,
            f"fetching notified {entity} records failed (batch item Fault {first.get('code', '?')} "
            f"'{str(first.get('Message', ''))[:120]}'); the events stay in the inbox for the next run.",
        )
    response = answer.get("QueryResponse")
    objects = response.get(entity, []) if isinstance(response, dict) else None
    if not isinstance(objects, list) or not all(isinstance(obj, dict) for obj in objects):
        raise ApiError(realm_id, f"batch answered the {entity} query without a list (malformed response).")
    return objects


_DRAINS: weakref.WeakKeyDictionary[object, WebhookDrain] = weakref.WeakKeyDictionary()


def drain_of(
    run: object, location: str | None, streamed: Callable[[], Collection[str]], logger: logging.Logger
) -> WebhookDrain | None:
    """The run's drain (one per tap instance), None without `webhook_inbox`."""
    if not location:
        return None
    drain = _DRAINS.get(run)
    if drain is None:
        drain = _DRAINS[run] = WebhookDrain(location, streamed(), logger)
    return drain
