"""Per-realm CDC coordinator: one CDC request serves every selected CDC-capable stream of a realm.

The SDK syncs stream by stream. The first stream that needs CDC for a realm triggers one request
for all planned entities (changedSince = the oldest of their cursors) and the per-entity results
are cached until each stream takes its share. A response holds at most 1000 objects; when it is
full the cache is dropped and each stream instead pages its own entity, advancing changedSince,
until a response comes back under the cap. Memory stays bounded by one response.
"""

from __future__ import annotations

import collections
import typing as t

from tap_quickbooks_cdc.errors import ApiError, CdcOverflowError, CdcWindowError
from tap_quickbooks_cdc.records import OBSERVED_AT_KEY, TimeFormatError, changed_at, normalise_time

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

CDC_CAP = 1000
CDC_WINDOW_DAYS = 30


class DataApi(t.Protocol):
    """What the coordinator needs from a realm's client (`api.QboClient`)."""

    realm_id: str

    def get(self, path: str, params: dict[str, str]) -> dict[str, t.Any]:
        """GET a data path and return the checked JSON body."""
        ...


def parse_cdc(client: DataApi, body: dict[str, t.Any]) -> dict[str, list[dict[str, t.Any]]]:
    """Objects per entity from a CDC response body.

    An object without `MetaData.LastUpdatedTime` (a delete stub included) is still a change since
    `changedSince`: it is stamped with the response's server time (the latest instant it can have
    happened at) instead of being mistaken for an old one and dropped.
    """
    responses = body.get("CDCResponse")
    if not isinstance(responses, list):
        raise ApiError(client.realm_id, "CDC response has no CDCResponse list (malformed response).")
    observed = _response_time(body)
    objects: dict[str, list[dict[str, t.Any]]] = collections.defaultdict(list)
    for cdc_response in responses:
        query_responses = cdc_response.get("QueryResponse") if isinstance(cdc_response, dict) else None
        for query_response in query_responses or []:
            for key, value in (query_response if isinstance(query_response, dict) else {}).items():
                if not isinstance(value, list):
                    continue
                for obj in value:
                    if not isinstance(obj, dict):
                        raise ApiError(client.realm_id, f"CDC response lists a non-object {key} (malformed).")
                    meta = obj.get("MetaData")
                    if not (isinstance(meta, dict) and meta.get("LastUpdatedTime")):
                        obj[OBSERVED_AT_KEY] = observed
                objects[key].extend(value)
    return objects


def _response_time(body: dict[str, t.Any]) -> str | None:
    time = body.get("time")
    try:
        return normalise_time(time) if isinstance(time, str) else None
    except TimeFormatError:
        return None


class CdcCoordinator:
    """Fetches CDC once per realm and hands each entity its objects."""

    def __init__(self, client: DataApi, plan: Callable[[], dict[str, str]]) -> None:
        """`plan()` returns {entity: cursor} for every stream of this realm that will use CDC."""
        self._client = client
        self._plan = plan
        self._cache: dict[str, list[dict[str, t.Any]]] | None = None
        self._cached_since: dict[str, str] = {}
        self._window_error: CdcWindowError | None = None
        self._prefetch_error: BaseException | None = None
        self.requests = 0

    def prefetch(self) -> None:
        """Make the shared request now (a worker of `parallel.RealmPool`), for the streams' later `take`s.
        Nothing when no stream of the realm reads CDC this run; an error is kept and raised by the first
        `take`, where the sequential run would have met it."""
        try:
            plan = self._plan()
            if plan and self._cache is None:
                entity, since = min(plan.items(), key=lambda item: item[1])
                self._fetch_shared(entity, since)
        except CdcWindowError as exc:
            self._window_error = exc
        except BaseException as exc:
            self._prefetch_error = exc

    def _request(self, entities: list[str], since: str) -> dict[str, list[dict[str, t.Any]]]:
        self.requests += 1
        body = self._client.get("cdc", {"entities": ",".join(entities), "changedSince": since})
        return parse_cdc(self._client, body)

    def _fetch_shared(self, entity: str, since: str) -> None:
        plan = dict(self._plan())
        plan.setdefault(entity, since)
        shared_since = min(plan.values())
        objects = self._request(sorted(plan), shared_since)
        total = sum(len(v) for v in objects.values())
        self._cached_since = dict.fromkeys(plan, shared_since)
        # A full response may be truncated: serve nothing from it and page per entity instead.
        self._cache = {} if total >= CDC_CAP else {name: objects.get(name, []) for name in plan}

    def take(self, entity: str, since: str) -> Iterator[list[dict[str, t.Any]]]:
        """Yield batches of `entity`'s objects changed at or after `since` (UTC bookmark text)."""
        if self._prefetch_error is not None:
            error, self._prefetch_error = self._prefetch_error, None
            raise error
        if self._window_error is not None:  # asked once for all entities: do not ask again per stream
            raise self._window_error
        if self._cache is None:
            try:
                self._fetch_shared(entity, since)
            except CdcWindowError as exc:
                self._window_error = exc
                raise
        assert self._cache is not None
        if entity in self._cache and self._cached_since.get(entity, since) <= since:
            realm_id = self._client.realm_id
            yield [o for o in self._cache.pop(entity) if _is_since(changed_at(o, realm_id, entity), since)]
            return
        yield from self._page_entity(entity, since)

    def _page_entity(self, entity: str, since: str) -> Iterator[list[dict[str, t.Any]]]:
        while True:
            batch = self._request([entity], since).get(entity, [])
            yield batch
            if len(batch) < CDC_CAP:
                return
            realm_id = self._client.realm_id
            newest = max((changed_at(o, realm_id, entity) or "" for o in batch), default="")
            if newest <= since:
                raise CdcOverflowError(f"more than {CDC_CAP} {entity} changes share the time {since}")
            since = newest  # inclusive: the boundary second is read again; duplicates are dropped


def _is_since(changed: str | None, since: str) -> bool:
    """Changed at or after `since`; an unknown time is not "older than the cursor", so it is kept."""
    return changed is None or changed >= since
