"""Reading one entity through the query endpoint, ordered by LastUpdatedTime, in pages of 1000.

The first page is fetched alone; only when it is full does the reader ask `SELECT COUNT(*)` and then
fetch the remaining pages with up to `lookahead` requests in flight, yielding them in order.
"""

from __future__ import annotations

import collections
import typing as t
from concurrent.futures import Future, ThreadPoolExecutor

from tap_quickbooks_cdc.errors import ApiError

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_quickbooks_cdc.api import QboClient

PAGE_SIZE = 1000

# Name-list entities hide inactive rows unless the WHERE clause says `Active IN (true, false)`.
LIST_ENTITIES = frozenset(
    {
        "Account",
        "Class",
        "Customer",
        "Department",
        "Employee",
        "Item",
        "PaymentMethod",
        "TaxCode",
        "Term",
        "Vendor",
    }
)


def where_clause(entity: str, since_utc: str | None) -> str:
    """`WHERE ...` for an entity read from `since_utc` (inclusive), or '' for everything."""
    conditions = []
    if entity in LIST_ENTITIES:
        conditions.append("Active IN (true, false)")
    if since_utc:
        conditions.append(f"Metadata.LastUpdatedTime >= '{since_utc}'")
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""


def _page_objects(client: QboClient, entity: str, body: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    response = body.get("QueryResponse")
    if not isinstance(response, dict):
        raise ApiError(client.realm_id, f"query for {entity} returned no QueryResponse (malformed response).")
    objects = response.get(entity, [])
    if not isinstance(objects, list):
        raise ApiError(
            client.realm_id, f"query for {entity} returned a non-list {entity} (malformed response)."
        )
    return objects


def _fetch_page(client: QboClient, entity: str, where: str, start: int) -> list[dict[str, t.Any]]:
    statement = (
        f"SELECT * FROM {entity}{where} ORDERBY Metadata.LastUpdatedTime "
        f"STARTPOSITION {start} MAXRESULTS {PAGE_SIZE}"
    )
    return _page_objects(client, entity, client.get("query", {"query": statement}))


def _count(client: QboClient, entity: str, where: str) -> int | None:
    body = client.get("query", {"query": f"SELECT COUNT(*) FROM {entity}{where}"})
    total = (body.get("QueryResponse") or {}).get("totalCount")
    return int(total) if isinstance(total, (int, str)) and str(total).isdigit() else None


def read_pages(
    client: QboClient, entity: str, since_utc: str | None, *, lookahead: int = 1
) -> Iterator[list[dict[str, t.Any]]]:
    """Yield every page of `entity` changed at or after `since_utc`, oldest first."""
    where = where_clause(entity, since_utc)
    first = _fetch_page(client, entity, where, 1)
    yield first
    if len(first) < PAGE_SIZE:
        return
    total = _count(client, entity, where) if lookahead > 1 else None
    if total is None:
        yield from _sequential(client, entity, where, 1 + PAGE_SIZE)
        return
    # Rows changed while paging carry a newer LastUpdatedTime than the sync start: the next run's
    # CDC (cursor = sync start) delivers them, so the COUNT taken now bounds this read.
    starts = list(range(1 + PAGE_SIZE, total + 1, PAGE_SIZE))
    with ThreadPoolExecutor(max_workers=lookahead, thread_name_prefix=f"qbo-{entity}") as pool:
        pending: collections.deque[Future[list[dict[str, t.Any]]]] = collections.deque()
        for start in starts:
            pending.append(pool.submit(_fetch_page, client, entity, where, start))
            if len(pending) >= lookahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _sequential(client: QboClient, entity: str, where: str, start: int) -> Iterator[list[dict[str, t.Any]]]:
    while True:
        page = _fetch_page(client, entity, where, start)
        yield page
        if len(page) < PAGE_SIZE:
            return
        start += PAGE_SIZE
