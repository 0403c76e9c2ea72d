"""Compact per-company state: one table per entity holding only ids, versions, timestamps and overrides.

Bodies are rendered on demand from (seed, realm, entity, index) plus the overrides of later updates, so a
company of millions of records costs a few dozen bytes per record. ``order`` keeps record indexes sorted by
LastUpdatedTime; query pages are slices of it found by bisection.
"""

from __future__ import annotations

import json
import threading
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tests.fakes.qbo.basics import Company, is_inactive
from tests.fakes.qbo.books import LiveBooks, voided_fields
from tests.fakes.qbo.catalog import ENTITIES, MAY_BE_INACTIVE, NAME_LISTS
from tests.fakes.qbo.postings import POSTING_ENTITIES
from tests.fakes.qbo.render import dumps, finish, render_base

DELETED = 1
INACTIVE = 2
#: A ``tamper`` value that removes the key from the served body.
DROP: Any = object()


class RenderCache:
    """Serialized bodies of recently rendered records, bounded in bytes (emptied when full)."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self.used = 0
        self.entries: dict[tuple[str, int], bytes] = {}

    def get(self, key: tuple[str, int]) -> bytes | None:
        return self.entries.get(key)

    def put(self, key: tuple[str, int], body: bytes) -> None:
        if self.budget <= 0:
            return
        if self.used + len(body) > self.budget:
            self.entries.clear()
            self.used = 0
        # An exact-size copy: orjson's output buffer is over-allocated then shrunk in place, and keeping it
        # would pin several kilobytes of heap per cached record.
        self.entries[key] = memoryview(body).tobytes()
        self.used += len(body)

    def drop(self, key: tuple[str, int]) -> None:
        body = self.entries.pop(key, None)
        if body is not None:
            self.used -= len(body)


class EntityTable:
    """The records of one entity in one company."""

    def __init__(self, company: Company, entity: str, cache: RenderCache | None = None) -> None:
        self.cache = cache or RenderCache(0)
        self.company = company
        self.entity = entity
        self.is_list = entity in NAME_LISTS
        n = company.counts[entity]
        self.base_count = n
        self.lut = array("q", [company.base_lut(entity, i) for i in range(n)])
        self.flags = bytearray(n)
        if entity in MAY_BE_INACTIVE:
            for i in range(n):
                if is_inactive(company, entity, i):
                    self.flags[i] = INACTIVE
        self.order = array("I", range(n))
        self.sync_over: dict[int, int] = {}
        self.create_over: dict[int, int] = {}
        self.overrides: dict[int, dict[str, Any]] = {}
        self.version = 0
        self._views: dict[int, tuple[int, array[int]]] = {}
        # Top-level keys replaced (or DROPped) in the served body, after Id/SyncToken/MetaData are set: a
        # malformed record for tests (no Id, a numeric Id, MetaData without LastUpdatedTime, ...).
        self.tampered: dict[int, dict[str, Any]] = {}
        # Fills fields that depend on other records (balances, applied payments): ``books.LiveBooks.finish``.
        self.finisher: Callable[[str, int, dict[str, Any]], None] | None = None

    # ---- state -------------------------------------------------------------------------------------
    def exists(self, idx: int) -> bool:
        return 0 <= idx < len(self.lut) and not self.flags[idx] & DELETED

    def sync_of(self, idx: int) -> int:
        over = self.sync_over.get(idx)
        return over if over is not None else self.company.base_sync(self.entity, idx)

    def version_of(self, idx: int) -> tuple[int, int]:
        """(SyncToken, CreateTime) of record ``idx``."""
        sync, created = self.sync_over.get(idx), self.create_over.get(idx)
        if sync is None or created is None:
            base_sync, base_created = self.company.base_version(self.entity, idx)
            return (base_sync if sync is None else sync), (base_created if created is None else created)
        return sync, created

    def render(self, idx: int) -> dict[str, Any]:
        """The current body of record ``idx`` (deleted records render too; callers decide)."""
        sync, created = self.version_of(idx)
        body = render_base(self.company, self.entity, idx, created)
        over = self.overrides.get(idx)
        if over:
            body.update(over)
        if self.finisher is not None:
            self.finisher(self.entity, idx, body)
        active = not self.flags[idx] & INACTIVE
        lut = self.lut[idx]
        finished = finish(
            self.company, self.entity, body, idx=idx, sync=sync, create_ts=created, lut=lut, active=active
        )
        return self._tamper(idx, finished)

    def _tamper(self, idx: int, body: dict[str, Any]) -> dict[str, Any]:
        for key, value in self.tampered.get(idx, {}).items():
            if value is DROP:
                body.pop(key, None)
            else:
                body[key] = value
        return body

    def tamper(self, idx: int, changes: dict[str, Any]) -> None:
        """Serve record ``idx`` (and its delete stub) with these top-level keys replaced or DROPped."""
        self.tampered.setdefault(idx, {}).update(changes)
        self.cache.drop((self.entity, idx))

    def render_bytes(self, idx: int) -> bytes:
        """The current body of record ``idx`` as JSON (cached until the record changes)."""
        key = (self.entity, idx)
        cached = self.cache.get(key)
        if cached is None:
            cached = dumps(self.render(idx))
            self.cache.put(key, cached)
        return cached

    def stub(self, idx: int) -> dict[str, Any]:
        """CDC's stand-in for a deleted record."""
        stub = {
            "domain": "QBO",
            "status": "Deleted",
            "Id": str(idx + 1),
            "MetaData": {"LastUpdatedTime": self.company.clock.seconds(self.lut[idx])},
        }
        return self._tamper(idx, stub)

    # ---- views -------------------------------------------------------------------------------------
    def view(self, hide_inactive: bool, include_deleted: bool = False) -> array[int]:
        """Record indexes in LastUpdatedTime order, without deleted (and optionally inactive) rows."""
        mask = (0 if include_deleted else DELETED) | (INACTIVE if hide_inactive and self.is_list else 0)
        if mask == 0:
            return self.order
        cached = self._views.get(mask)
        if cached is not None and cached[0] == self.version:
            return cached[1]
        flags = self.flags
        view = self.order if not any(flags) else array("I", [i for i in self.order if not flags[i] & mask])
        self._views[mask] = (self.version, view)
        return view

    def since(self, view: array[int], epoch: float) -> int:
        """Position in ``view`` of the first record with LastUpdatedTime >= epoch."""
        return bisect_left(view, epoch, key=self.lut.__getitem__)

    def until(self, view: array[int], epoch: float, inclusive: bool) -> int:
        """Position in ``view`` just past the records with LastUpdatedTime < (or <=) epoch."""
        find = bisect_right if inclusive else bisect_left
        return find(view, epoch, key=self.lut.__getitem__)

    # ---- mutations ---------------------------------------------------------------------------------
    def _reposition(self, idx: int, new_lut: int) -> None:
        old = self.lut[idx]
        pos = bisect_left(self.order, old, key=self.lut.__getitem__)
        while self.order[pos] != idx:
            pos += 1
        del self.order[pos]
        self.lut[idx] = new_lut
        self.order.insert(bisect_right(self.order, new_lut, key=self.lut.__getitem__), idx)

    def touch(self, idx: int, now: int) -> None:
        """Record a new version of ``idx`` stamped ``now`` (strictly later than its previous version)."""
        self.cache.drop((self.entity, idx))
        self._reposition(idx, max(now, self.lut[idx] + 1))
        self.sync_over[idx] = self.sync_of(idx) + 1
        self.version += 1

    def _apply(self, idx: int, fields: dict[str, Any]) -> None:
        clean = {k: v for k, v in fields.items() if k not in {"Id", "SyncToken", "MetaData", "sparse"}}
        if "Active" in clean and self.is_list:
            if clean.pop("Active"):
                self.flags[idx] &= ~INACTIVE
            else:
                self.flags[idx] |= INACTIVE
        self.overrides.setdefault(idx, {}).update(clean)

    def update(self, idx: int, fields: dict[str, Any], now: int) -> None:
        """Sparse update: top-level fields replace the stored ones; bumps SyncToken and LastUpdatedTime."""
        self._apply(idx, fields)
        self.touch(idx, now)

    def create(self, fields: dict[str, Any], now: int) -> int:
        """A new record (Id = next number) stamped ``now``, SyncToken 0, generated body plus ``fields``."""
        idx = len(self.lut)
        self.lut.append(now)
        self.flags.append(0)
        self.sync_over[idx] = 0
        self.create_over[idx] = now
        self._apply(idx, fields)
        self.order.insert(bisect_right(self.order, now, key=self.lut.__getitem__), idx)
        self.version += 1
        return idx

    def delete(self, idx: int, now: int) -> None:
        self.flags[idx] |= DELETED
        self.touch(idx, now)


class CompanyStore:
    """All entity tables of one company, guarded by one lock, and the books that tie them together.

    Mutations go through ``create``/``update``/``delete``/``void`` so the books follow them; each returns the
    other records that got a new version (invoices and bills a payment re-balanced).
    """

    def __init__(self, company: Company, cache_bytes: int = 0) -> None:
        self.company = company
        self.lock = threading.RLock()
        cache = RenderCache(cache_bytes)
        self.tables: dict[str, EntityTable] = {
            entity: EntityTable(company, entity, cache) for entity in ENTITIES
        }
        self.books = LiveBooks(self)
        for entity in _FINISHED:
            self.tables[entity].finisher = self._finish

    def _finish(self, entity: str, idx: int, body: dict[str, Any]) -> None:
        with self.lock:
            self.books.finish(entity, idx, body)

    def create(self, entity: str, fields: dict[str, Any], now: int) -> tuple[int, list[tuple[str, int]]]:
        with self.lock:
            before = self.books.before(entity, None)
            idx = self.tables[entity].create(fields, now)
            return idx, self.books.after(entity, idx, before, now)

    def update(self, entity: str, idx: int, fields: dict[str, Any], now: int) -> list[tuple[str, int]]:
        with self.lock:
            before = self.books.before(entity, idx)
            self.tables[entity].update(idx, fields, now)
            return self.books.after(entity, idx, before, now)

    def delete(self, entity: str, idx: int, now: int) -> list[tuple[str, int]]:
        with self.lock:
            before = self.books.before(entity, idx)
            self.tables[entity].delete(idx, now)
            return self.books.after(entity, idx, before, now)

    def void(self, entity: str, idx: int, now: int) -> list[tuple[str, int]]:
        """QuickBooks' void: the document stays, with every amount zero (see ``books.voided_fields``)."""
        with self.lock:
            body = json.loads(self.tables[entity].render_bytes(idx), parse_float=Decimal)
            return self.update(entity, idx, voided_fields(entity, body), now)


_FINISHED = ("Invoice", "Bill", "Payment", "BillPayment", "Customer", "Vendor", "Account", *POSTING_ENTITIES)
