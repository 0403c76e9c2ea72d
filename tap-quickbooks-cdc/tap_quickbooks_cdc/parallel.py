"""Companies in parallel within one run: worker threads wait on the network for several realms at once,
the main thread alone emits records and state, in the SDK's order.

Intuit's limits (500 requests a minute, 10 at a time) apply per company, so a run that reads one realm
after another waits for nothing but its own round trips: an idle incremental run of 200 companies at 200 ms
a CDC call takes 40 s, a backfill of new companies one company at a time. Here a bounded pool of
`max_parallel_companies` workers does the waiting:

- CDC: before the first stream, each realm's one CDC request (its token refresh included) runs in the pool
  (`CdcCoordinator.prefetch`); the streams then take their share from the realm's cache as before. The cache
  holds at most one response (1,000 objects) per realm, as the sequential run already did.
- Query reads (a backfill, a query-only stream, a bookmark past CDC's window): when a stream starts, the
  realms it will read by query are handed to the pool in partition order; each worker keeps at most
  `PAGES_AHEAD` pages of its realm ahead of the main thread (`PagePrefetch`), so memory is bounded by workers
  x pages, not by companies. The main thread reads realm after realm from those queues; the pool is FIFO, so
  the realm being emitted is always one a worker has started.

Each realm keeps its own throttle and token; token-store writes take turns (`token_store`). A realm's error
met by a worker is raised where the main thread would have met it, so it fails that realm alone, with its
one line. Records, de-duplication, bookmarks and the webhook drain stay on the main thread: the output is
what the sequential run writes (tests/tap/test_parallel_companies.py compares them).
"""

from __future__ import annotations

import queue
import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor, wait

from tap_quickbooks_cdc import signals
from tap_quickbooks_cdc.query import Page, read_pages

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tap_quickbooks_cdc.realm import RealmSession

#: Pages a worker reads ahead of the main thread for one realm (1,000 records each).
PAGES_AHEAD = 2
_DONE = object()


class RealmPool:
    """The run's worker pool (None of it when `max_parallel_companies` is 1: the sequential run)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor: ThreadPoolExecutor | None = None

    @property
    def executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="realm")
        return self._executor

    def run_all(self, jobs: list[Callable[[], None]]) -> None:
        """Run `jobs` (each catches its own errors) in the pool and wait for all of them."""
        if jobs:
            wait([self.executor.submit(job) for job in jobs])

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


class PagePrefetch:
    """One stream's query reads for several realms, started in the pool in partition order."""

    def __init__(self, pool: RealmPool) -> None:
        self._pool = pool
        self._reads: dict[str, _Read] = {}  # in start order

    def start(self, session: RealmSession, entity: str, since: str | None, parallel: int) -> None:
        read = _Read(since)
        self._reads[session.realm_id] = read

        def run() -> None:
            try:
                for page in read_pages(session.client, entity, since, parallel=parallel):
                    if not read.offer(page):
                        return
                    signals.check()
                read.offer(_DONE)
            except BaseException as exc:
                read.offer(exc)

        self._pool.executor.submit(run)

    def take(self, realm_id: str, since: str | None) -> Iterator[Page] | None:
        """The realm's pages as read ahead, or None when it was not started with this `since`. Reads
        started before it and not taken (their realm was skipped) are stopped: a worker never waits on a
        queue nobody will read while the realm being emitted waits for a worker."""
        for earlier in list(self._reads):
            if earlier == realm_id:
                break
            self._reads.pop(earlier).stop.set()
        read = self._reads.pop(realm_id, None)
        if read is None:
            return None
        if read.since != since:
            read.stop.set()
            return None
        return read.drain()

    def close(self) -> None:
        """Stop the reads nobody took: their workers end at their next page."""
        for read in self._reads.values():
            read.stop.set()
        self._reads.clear()


class _Read:
    def __init__(self, since: str | None) -> None:
        self.since = since
        self.pages: queue.Queue[object] = queue.Queue(PAGES_AHEAD)
        self.stop = threading.Event()

    def offer(self, item: object) -> bool:
        """Queue `item` for the main thread; False once the read was stopped."""
        while not self.stop.is_set():
            try:
                self.pages.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def drain(self) -> Iterator[Page]:
        try:
            while True:
                item = self.pages.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield t.cast("Page", item)
        finally:
            self.stop.set()  # the main thread stopped early (a failed realm): the worker ends too
