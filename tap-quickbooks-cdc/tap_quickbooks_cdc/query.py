"""Reading one entity through the query endpoint, ordered by LastUpdatedTime, in pages of 1000.

Pages are keyset-paginated: the next page asks `LastUpdatedTime >= <last time of this page>` from
position 1, so a record edited while a big entity is being read cannot shift an unread record past
a page boundary (with STARTPOSITION offsets it would be skipped, and the next CDC would never see it:
its timestamp is old). Records at the boundary second come again and are dropped by the
de-duplicator. Only a tie group wider than a page is stepped through by position.

A big entity (first page full) is split into time slices read in parallel (one request in flight
per slice, at most `parallel`), each slice keyset-paginated within `[lower, upper)`; pages are
yielded slice after slice, so the output stays in LastUpdatedTime order. Each slice buffers at most
one page ahead of the reader (plus the one it is fetching).
"""

from __future__ import annotations

import queue
import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor

from tap_quickbooks_cdc.errors import ApiError
from tap_quickbooks_cdc.records import changed_at, parse_time, to_utc_text
from tap_quickbooks_cdc.registry import LIST_ENTITIES

if t.TYPE_CHECKING:
    from collections.abc import Generator, Iterator

    from tap_quickbooks_cdc.api import QboClient

PAGE_SIZE = 1000
PAGES_BUFFERED_PER_SLICE = 1

Page = list[dict[str, t.Any]]


def where_clause(entity: str, since_utc: str | None, before_utc: str | None = None) -> str:
    """`WHERE ...` for `since_utc <= LastUpdatedTime < before_utc` (either bound optional)."""
    conditions = []
    if entity in LIST_ENTITIES:
        conditions.append("Active IN (true, false)")
    if since_utc:
        conditions.append(f"Metadata.LastUpdatedTime >= '{since_utc}'")
    if before_utc:
        conditions.append(f"Metadata.LastUpdatedTime < '{before_utc}'")
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""


def _page_objects(client: QboClient, entity: str, body: dict[str, t.Any]) -> Page:
    response = body.get("QueryResponse")
    if not isinstance(response, dict):
        raise ApiError(client.realm_id, f"query for {entity} returned no QueryResponse (malformed response).")
    objects = response.get(entity, [])
    if not isinstance(objects, list) or not all(isinstance(obj, dict) for obj in objects):
        raise ApiError(
            client.realm_id, f"query for {entity} returned a non-list or non-objects (malformed response)."
        )
    return objects


def fetch_page(
    client: QboClient,
    entity: str,
    since_utc: str | None,
    start: int,
    before_utc: str | None = None,
    *,
    newest_first: bool = False,
    size: int = PAGE_SIZE,
) -> Page:
    """One page of `entity` in `[since_utc, before_utc)`, oldest first, from position `start`."""
    order = " DESC" if newest_first else ""
    statement = (
        f"SELECT * FROM {entity}{where_clause(entity, since_utc, before_utc)} "
        f"ORDERBY Metadata.LastUpdatedTime{order} STARTPOSITION {start} MAXRESULTS {size}"
    )
    return _page_objects(client, entity, client.get("query", {"query": statement}))


def _last_time(client: QboClient, entity: str, page: Page) -> str:
    updated = changed_at(page[-1], client.realm_id, entity)
    if updated is None:
        raise ApiError(
            client.realm_id,
            f"{entity} Id {page[-1].get('Id')!s} lacks MetaData.LastUpdatedTime, so the next page cannot "
            "be asked for (state does not advance); report it to Intuit with the response's intuit_tid.",
        )
    return updated


def _keyset(
    client: QboClient, entity: str, page: Page, lower: str | None, upper: str | None, *, prefetch: bool
) -> Iterator[Page]:
    """`page` (the first of `[lower, upper)`) and every page after it, by keyset."""
    start = 1
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"qbo-{entity}") as pool:
        while True:
            if len(page) < PAGE_SIZE:
                yield page
                return
            last = _last_time(client, entity, page)
            if last == lower:  # a whole page within one second: step through the tie by position
                start += PAGE_SIZE
            else:
                lower, start = last, 1
            upcoming = pool.submit(fetch_page, client, entity, lower, start, upper) if prefetch else None
            yield page
            page = upcoming.result() if upcoming else fetch_page(client, entity, lower, start, upper)


def _cut_points(lower: str, upper: str, parts: int) -> list[str]:
    """Up to `parts - 1` increasing UTC times strictly between `lower` and `upper`."""
    begin, end = parse_time(lower), parse_time(upper)
    step = (end - begin) / parts
    cuts = sorted({to_utc_text(begin + step * i) for i in range(1, parts)})
    return [cut for cut in cuts if lower < cut < upper]


def read_pages(
    client: QboClient, entity: str, since_utc: str | None, *, parallel: int = 1
) -> Generator[Page, None, None]:
    """Yield every page of `entity` changed at or after `since_utc` (None: all), oldest first."""
    first = fetch_page(client, entity, since_utc, 1)
    if len(first) < PAGE_SIZE or parallel <= 1:
        yield from _keyset(client, entity, first, since_utc, None, prefetch=parallel > 1)
        return
    lower = _last_time(client, entity, first)
    newest = fetch_page(client, entity, lower, 1, newest_first=True, size=1)
    cuts = _cut_points(lower, _last_time(client, entity, newest), parallel) if newest else []
    yield first
    yield from _read_slices(client, entity, [lower, *cuts], parallel)


class _Slice:
    """One time slice read by a worker thread into a small queue."""

    def __init__(self, lower: str, upper: str | None) -> None:
        self.lower, self.upper = lower, upper
        self.pages: queue.Queue[Page | BaseException | None] = queue.Queue(PAGES_BUFFERED_PER_SLICE)


def _read_slices(client: QboClient, entity: str, starts: list[str], parallel: int) -> Iterator[Page]:
    slices = [_Slice(lower, upper) for lower, upper in zip(starts, [*starts[1:], None], strict=True)]
    stop = threading.Event()

    def offer(part: _Slice, item: Page | BaseException | None) -> bool:
        """Queue `item` unless the reader has gone; False when it has."""
        while not stop.is_set():
            try:
                part.pages.put(item, timeout=0.2)
            except queue.Full:
                continue
            return True
        return False

    def produce(part: _Slice) -> None:
        try:
            first = fetch_page(client, entity, part.lower, 1, part.upper)
            for page in _keyset(client, entity, first, part.lower, part.upper, prefetch=False):
                if not offer(part, page):
                    return
            offer(part, None)
        except BaseException as exc:  # handed to the reader, which re-raises it in order
            offer(part, exc)

    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix=f"qbo-{entity}-slice") as pool:
        for part in slices:
            pool.submit(produce, part)
        try:
            for part in slices:
                while (item := part.pages.get()) is not None:
                    if isinstance(item, BaseException):
                        raise item
                    yield item
        finally:
            stop.set()  # producers still running give up at their next page
