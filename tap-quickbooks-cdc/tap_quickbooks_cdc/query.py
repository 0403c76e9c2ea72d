"""Reading one entity through the query endpoint, ordered by LastUpdatedTime, in pages of 1000.

Pages are keyset-paginated: the next page asks `LastUpdatedTime >= <last time of this page>` from
position 1, so a record edited while a big entity is being read cannot shift an unread record past
a page boundary (with STARTPOSITION offsets it would be skipped, and the next CDC would never see it:
its timestamp is old). Records at the boundary second come again and are dropped by the
de-duplicator. Only a tie group wider than a page is stepped through by position. The next page is
requested as soon as the current one arrives, so it downloads while the current one is emitted.
"""

from __future__ import annotations

import typing as t
from concurrent.futures import ThreadPoolExecutor

from tap_quickbooks_cdc.errors import ApiError
from tap_quickbooks_cdc.records import normalise_time

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
        raise ApiError(client.realm_id, f"query for {entity} returned a non-list (malformed response).")
    return objects


def fetch_page(client: QboClient, entity: str, since_utc: str | None, start: int) -> list[dict[str, t.Any]]:
    """One page: `entity` changed at or after `since_utc`, oldest first, from position `start`."""
    statement = (
        f"SELECT * FROM {entity}{where_clause(entity, since_utc)} ORDERBY Metadata.LastUpdatedTime "
        f"STARTPOSITION {start} MAXRESULTS {PAGE_SIZE}"
    )
    return _page_objects(client, entity, client.get("query", {"query": statement}))


def _last_time(page: list[dict[str, t.Any]]) -> str | None:
    updated = (page[-1].get("MetaData") or {}).get("LastUpdatedTime")
    return normalise_time(updated) if updated else None


def read_pages(
    client: QboClient, entity: str, since_utc: str | None, *, prefetch: bool = True
) -> Iterator[list[dict[str, t.Any]]]:
    """Yield every page of `entity` changed at or after `since_utc` (None: all), oldest first."""
    lower, start = since_utc, 1
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"qbo-{entity}") as pool:
        page = fetch_page(client, entity, lower, start)
        while True:
            if len(page) < PAGE_SIZE:
                yield page
                return
            last = _last_time(page)
            if last is None:
                raise ApiError(
                    client.realm_id, f"{entity} records lack MetaData.LastUpdatedTime: cannot page."
                )
            if last == lower:  # a whole page within one second: step through the tie by position
                start += PAGE_SIZE
            else:
                lower, start = last, 1
            upcoming = pool.submit(fetch_page, client, entity, lower, start) if prefetch else None
            yield page
            page = upcoming.result() if upcoming else fetch_page(client, entity, lower, start)
