"""Renders the next query page in the background while the client digests the current one.

A client paging through an entity asks for STARTPOSITION n, then n + size, ...; rendering page k+1 while
the client parses page k keeps the simulator from being the bottleneck of a connector benchmark. Records are
rendered one at a time under the company lock, so a concurrent mutation never leaves a stale cache entry.
A request for a page that is being rendered ahead waits for it instead of rendering it twice.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field

from tests.fakes.qbo.store import CompanyStore, EntityTable


@dataclass(eq=False)
class _Job:
    store: CompanyStore
    table: EntityTable
    indexes: list[int]
    members: set[int] = field(default_factory=set)
    done: threading.Event = field(default_factory=threading.Event)


class Prefetcher:
    """One daemon worker and at most one pending page (further pages are dropped while it is busy)."""

    def __init__(self) -> None:
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self._pending: list[_Job] = []
        self._thread = threading.Thread(target=self._run, name="qbo-sim-prefetch", daemon=True)
        self._thread.start()

    def submit(self, store: CompanyStore, table: EntityTable, indexes: list[int]) -> None:
        """Render ``indexes`` of ``table`` into the render cache soon (dropped if a page is pending)."""
        if table.cache.budget <= 0 or not indexes:
            return
        job = _Job(store, table, indexes, set(indexes))
        with self._lock:
            if self._pending:
                return
            self._pending.append(job)
        self._queue.put(job)

    def wait_for(self, table: EntityTable, indexes: list[int], timeout: float = 10.0) -> None:
        """Block until a pending background render of any of ``indexes`` has finished."""
        with self._lock:
            jobs = [
                job for job in self._pending if job.table is table and not job.members.isdisjoint(indexes)
            ]
        for job in jobs:
            job.done.wait(timeout)

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            try:
                for idx in job.indexes:
                    with job.store.lock:
                        if job.table.exists(idx):
                            job.table.render_bytes(idx)
            finally:
                with self._lock:
                    self._pending.remove(job)
                job.done.set()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)
