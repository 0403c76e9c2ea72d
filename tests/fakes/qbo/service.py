"""The data API of all simulated companies, independent of HTTP: query, CDC, read, create/update/delete.

Every method returns the JSON response body as bytes or raises ``FaultResponse``. CDC refusals (too old a
``changedSince``, an entity CDC does not serve) are HTTP 400 Faults.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from itertools import islice
from typing import Any

from tests.fakes.qbo.catalog import BY_LOWER, ENTITIES, NOT_IN_CDC
from tests.fakes.qbo.faults import FaultResponse, not_found, query_parser_error, stale_object, validation
from tests.fakes.qbo.prefetch import Prefetcher
from tests.fakes.qbo.query import MAX_RESULTS_LIMIT, Query, QueryError, parse_query
from tests.fakes.qbo.render import dumps
from tests.fakes.qbo.store import DELETED, INACTIVE, CompanyStore, EntityTable
from tests.fakes.qbo.timefmt import parse_iso

CDC_LOOKBACK_DAYS = 30
CDC_MAX_OBJECTS = 1000
ChangeListener = Callable[[str, str, str, str, int], None]  # realm, entity, id, operation, lut epoch


def _time_field(time_text: str) -> bytes:
    return b'"time":"' + time_text.encode() + b'"'


def _entity_part(entity: str, record: bytes) -> bytes:
    return b'"' + entity.encode() + b'":' + record


class DataService:
    """Answers data requests for a set of companies; ``now`` is the simulator clock (epoch seconds)."""

    def __init__(self, stores: dict[str, CompanyStore], now: Callable[[], float]) -> None:
        self.stores = stores
        self.now = now
        self.listeners: list[ChangeListener] = []
        self.prefetcher: Prefetcher | None = None
        self.time_override: str | None = None  # a malformed response "time" for tests

    def time_text(self, realm_id: str) -> str:
        if self.time_override is not None:
            return self.time_override
        return self.stores[realm_id].company.clock.millis(self.now())

    # ---- query -------------------------------------------------------------------------------------
    def query(self, realm_id: str, statement: str) -> bytes:
        """``{"QueryResponse":{...},"time":...}``."""
        return self._answer(realm_id, self.query_part(realm_id, statement))

    def _answer(self, realm_id: str, part: bytes) -> bytes:
        return b"{" + part + b"," + _time_field(self.time_text(realm_id)) + b"}"

    def query_part(self, realm_id: str, statement: str) -> bytes:
        """``"QueryResponse":{...}`` for one statement (also used inside batch answers)."""
        try:
            query = parse_query(statement)
        except QueryError as exc:
            raise query_parser_error(str(exc)) from exc
        store = self.stores[realm_id]
        table = store.tables[query.entity]
        prefetcher = self.prefetcher if not query.count else None
        with store.lock:
            indexes, total = self._select(table, query)
            following: list[int] = []
            if prefetcher is not None and len(indexes) == query.max_results:
                after = replace(query, start_position=query.start_position + query.max_results)
                following = self._select(table, after)[0]
        if prefetcher is not None and indexes:
            prefetcher.wait_for(table, indexes)
        if query.count:
            body = b'"QueryResponse":{"totalCount":' + str(total).encode() + b"}"
        elif not indexes:
            body = b'"QueryResponse":{}'
        else:
            with store.lock:
                rendered = [table.render_bytes(i) for i in indexes if table.exists(i)]
            if query.fields is not None:
                rendered = [_project(record, query.fields) for record in rendered]
            records = b",".join(rendered)
            start, size = str(query.start_position).encode(), str(len(indexes)).encode()
            body = (
                b'"QueryResponse":{"' + query.entity.encode() + b'":[' + records
                + b'],"startPosition":' + start + b',"maxResults":' + size + b"}"
            )  # fmt: skip
        if prefetcher is not None and following:
            prefetcher.submit(store, table, following)
        return body

    @staticmethod
    def _select(table: EntityTable, query: Query) -> tuple[list[int], int]:
        """Indexes on the requested page and the number of matching rows."""
        wants = query.active if table.is_list else {True, False}
        lut = table.lut
        low, high = query.lut_min, query.lut_max
        if query.ids is not None or wants == {False}:
            if query.ids is not None:
                candidates = [int(i) - 1 for i in query.ids if i.isdigit() and table.exists(int(i) - 1)]
                candidates.sort(key=lut.__getitem__)
            else:
                candidates = list(table.view(hide_inactive=False))
            matching = [
                i for i in candidates
                if (not table.flags[i] & INACTIVE) in wants
                and (low is None or lut[i] > low or (query.lut_min_inclusive and lut[i] == low))
                and (high is None or lut[i] < high or (query.lut_max_inclusive and lut[i] == high))
            ]  # fmt: skip
            return _page(matching, query), len(matching)
        view = table.view(hide_inactive=wants == {True})
        lo = 0 if low is None else table.until(view, low, inclusive=not query.lut_min_inclusive)
        hi = len(view) if high is None else table.until(view, high, inclusive=query.lut_max_inclusive)
        hi = max(lo, hi)
        skip, size = query.start_position - 1, max(min(query.max_results, MAX_RESULTS_LIMIT), 0)
        if query.descending:
            end = hi - skip
            return list(reversed(view[max(end - size, lo) : max(end, lo)])), hi - lo
        start = lo + skip
        return (list(view[start : min(start + size, hi)]) if start < hi else []), hi - lo

    # ---- change data capture -----------------------------------------------------------------------
    def cdc(self, realm_id: str, entities_param: str | None, changed_since: str | None) -> bytes:
        if not entities_param:
            raise validation("entities is required", "2020")
        if not changed_since:
            raise validation("changedSince is required", "2020")
        names: list[str] = []
        for raw in entities_param.split(","):
            name = BY_LOWER.get(raw.strip().lower(), raw.strip())
            if name in NOT_IN_CDC or name not in ENTITIES:
                raise validation(f"Entity {raw.strip()} is not supported by ChangeDataCapture", "10000")
            if name not in names:
                names.append(name)
        try:
            since = parse_iso(changed_since)
        except ValueError as exc:
            raise validation(f"Invalid changedSince {changed_since}", "2020") from exc
        if since < self.now() - CDC_LOOKBACK_DAYS * 86_400:
            raise FaultResponse(
                400,
                "10000",
                "Invalid changedSince",
                f"cannot process CDC request. changedSince older than fixed days is not supported "
                f"(at most {CDC_LOOKBACK_DAYS} days)",
            )
        store = self.stores[realm_id]
        with store.lock:
            picked = self._changed(store, names, since)
            parts: list[bytes] = []
            for name in names:
                indexes = picked.get(name)
                if not indexes:
                    continue
                table = store.tables[name]
                records = b",".join(
                    dumps(table.stub(i)) if table.flags[i] & DELETED else table.render_bytes(i)
                    for i in indexes
                )
                parts.append(
                    b'{"'
                    + name.encode()
                    + b'":['
                    + records
                    + b'],"startPosition":1,"maxResults":'
                    + str(len(indexes)).encode()
                    + b"}"
                )
        inner = b",".join(parts) if parts else b"{}"
        return (
            b'{"CDCResponse":[{"QueryResponse":['
            + inner
            + b"]}],"
            + _time_field(self.time_text(realm_id))
            + b"}"
        )

    @staticmethod
    def _changed(store: CompanyStore, names: list[str], since: float) -> dict[str, list[int]]:
        """The first CDC_MAX_OBJECTS changes at or after ``since`` across ``names``, by LastUpdatedTime."""

        def stream(name: str) -> Iterator[tuple[int, int, str, int]]:
            table = store.tables[name]
            order = table.view(hide_inactive=False, include_deleted=True)
            start = table.until(order, since, inclusive=False)
            lut = table.lut
            rank = names.index(name)
            for i in islice(order, start, start + CDC_MAX_OBJECTS):
                yield lut[i], rank, name, i

        picked: dict[str, list[int]] = {}
        for _, _, name, idx in islice(heapq.merge(*(stream(n) for n in names)), CDC_MAX_OBJECTS):
            picked.setdefault(name, []).append(idx)
        return picked

    # ---- read and write ----------------------------------------------------------------------------
    def resolve(self, realm_id: str, entity_path: str) -> EntityTable:
        name = BY_LOWER.get(entity_path.lower())
        if name is None:
            raise validation(f"Unsupported entity {entity_path}", "2010")
        return self.stores[realm_id].tables[name]

    @staticmethod
    def index_of(table: EntityTable, record_id: Any) -> int:
        text = str(record_id)
        if not text.isdigit() or not table.exists(int(text) - 1):
            raise not_found(table.entity, text)
        return int(text) - 1

    def read(self, realm_id: str, entity_path: str, record_id: str) -> bytes:
        table = self.resolve(realm_id, entity_path)
        with self.stores[realm_id].lock:
            idx = self.index_of(table, record_id)
            record = table.render_bytes(idx)
        return self._answer(realm_id, _entity_part(table.entity, record))

    def write(self, realm_id: str, entity_path: str, payload: Any, operation: str | None) -> bytes:
        """POST: create (no Id), sparse update (Id + current SyncToken), delete (``operation=delete``) or void
        (``operation=void``)."""
        return self._answer(realm_id, self.write_part(realm_id, entity_path, payload, operation))

    def write_part(self, realm_id: str, entity_path: str, payload: Any, operation: str | None) -> bytes:
        """``"Invoice":{...}`` after a create, update or delete (also used inside batch answers)."""
        table = self.resolve(realm_id, entity_path)
        if not isinstance(payload, dict):
            raise validation("Request body must be a JSON object", "2010")
        store = self.stores[realm_id]
        with store.lock:
            if "Id" not in payload:
                if operation == "delete":
                    raise validation("Id is required to delete", "2020")
                idx = self.create(realm_id, table.entity, payload)
                return _entity_part(table.entity, table.render_bytes(idx))
            idx = self.index_of(table, payload["Id"])
            current = table.sync_of(idx)
            if str(payload.get("SyncToken", "")).strip() != str(current):
                raise stale_object(table.entity, str(idx + 1), str(current))
            if operation == "delete":
                self.delete(realm_id, table.entity, idx)
                stub = {"domain": "QBO", "status": "Deleted", "Id": str(idx + 1)}
                return _entity_part(table.entity, dumps(stub))
            if operation == "void":
                self.void(realm_id, table.entity, idx)
                return _entity_part(table.entity, table.render_bytes(idx))
            self.update(realm_id, table.entity, idx, payload)
            return _entity_part(table.entity, table.render_bytes(idx))

    # ---- mutations shared by HTTP and the Python API -----------------------------------------------
    def _stamp(self) -> int:
        return int(self.now())

    def _notify(self, realm_id: str, entity: str, idx: int, operation: str) -> None:
        lut = self.stores[realm_id].tables[entity].lut[idx]
        for listener in self.listeners:
            listener(realm_id, entity, str(idx + 1), operation, lut)

    def create(self, realm_id: str, entity: str, fields: dict[str, Any]) -> int:
        idx, touched = self.stores[realm_id].create(entity, fields, self._stamp())
        self._notify(realm_id, entity, idx, "Create")
        self._notify_touched(realm_id, touched)
        return idx

    def update(self, realm_id: str, entity: str, idx: int, fields: dict[str, Any]) -> None:
        touched = self.stores[realm_id].update(entity, idx, fields, self._stamp())
        self._notify(realm_id, entity, idx, "Update")
        self._notify_touched(realm_id, touched)

    def delete(self, realm_id: str, entity: str, idx: int) -> None:
        touched = self.stores[realm_id].delete(entity, idx, self._stamp())
        self._notify(realm_id, entity, idx, "Delete")
        self._notify_touched(realm_id, touched)

    def void(self, realm_id: str, entity: str, idx: int) -> None:
        """QuickBooks' void: amounts zero, the document kept; the invoices it paid are re-balanced."""
        touched = self.stores[realm_id].void(entity, idx, self._stamp())
        self._notify(realm_id, entity, idx, "Void")
        self._notify_touched(realm_id, touched)

    def _notify_touched(self, realm_id: str, touched: list[tuple[str, int]]) -> None:
        """Invoices and bills a payment re-balanced changed too."""
        for entity, idx in touched:
            self._notify(realm_id, entity, idx, "Update")


def _project(record: bytes, fields: list[str]) -> bytes:
    """Only the selected top-level fields, marked sparse, as QBO answers ``SELECT Id, SyncToken FROM ...``."""
    full = json.loads(record, parse_float=Decimal)
    wanted = {name.lower() for name in fields}
    picked = {key: value for key, value in full.items() if key.lower() in wanted}
    return dumps({**picked, "domain": "QBO", "sparse": True})


def _page(matching: list[int], query: Query) -> list[int]:
    ordered = matching[::-1] if query.descending else matching
    skip = query.start_position - 1
    return ordered[skip : skip + max(min(query.max_results, MAX_RESULTS_LIMIT), 0)]
