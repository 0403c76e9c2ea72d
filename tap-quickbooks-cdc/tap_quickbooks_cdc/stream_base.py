"""The base stream: one QBO entity, partitioned by realm, read by query backfill, CDC or query.

Per realm partition the state holds (besides the SDK's `replication_key` / `replication_key_value`,
the newest emitted `last_updated_at`) a `cdc_cursor`: the realm's sync-start server time minus a
margin. It is written only after the partition's last record was emitted, so state never runs ahead.
"""

from __future__ import annotations

import datetime
import enum
import typing as t

import singer_sdk.singerlib as singer
from singer_sdk.helpers._util import utc_now
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.streams import Stream

from tap_quickbooks_cdc.cdc import CDC_CAP, CDC_WINDOW_DAYS
from tap_quickbooks_cdc.errors import CdcOverflowError, CdcWindowError, RealmError
from tap_quickbooks_cdc.query import read_pages
from tap_quickbooks_cdc.records import make_record, parse_time, to_utc_text
from tap_quickbooks_cdc.schemas import ENTITY_FOR_STREAM, STREAM_SCHEMAS

if t.TYPE_CHECKING:
    from collections.abc import Generator, Iterable, Iterator

    from singer_sdk.helpers.types import Context

    from tap_quickbooks_cdc.realm import RealmSession
    from tap_quickbooks_cdc.tap import TapQuickBooksCDC

CURSOR_KEY = "cdc_cursor"
#: Server time at which a query-only entity (not served by CDC) was last read in full by query.
QUERIED_KEY = "queried_at"
WINDOW_SAFETY = datetime.timedelta(hours=1)


class Mode(enum.Enum):
    """How a stream partition is read in this run."""

    BACKFILL = "query backfill"
    CDC = "cdc"
    QUERY = "query by LastUpdatedTime"


class QboStream(Stream):
    """One QBO entity for every configured realm."""

    name: str
    cdc_capable: t.ClassVar[bool] = True

    primary_keys: t.ClassVar[list[str]] = ["realm_id", "Id"]
    replication_key = "last_updated_at"
    is_sorted = False
    # Records are parsed JSON, already typed like the schema (str, Decimal, int, bool, None): the SDK's
    # recursive conformance (~60% of a run's CPU) is skipped and `_emit` drops unknown top-level fields.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: TapQuickBooksCDC) -> None:
        super().__init__(tap, schema=STREAM_SCHEMAS[self.name])
        self._qbo_tap = tap
        self._unknown_fields: set[str] = set()
        self._fully_selected = False

    @property
    def entity(self) -> str:
        return ENTITY_FOR_STREAM[self.name]

    @property
    def partitions(self) -> list[dict[str, t.Any]] | None:
        return [{"realm_id": realm_id} for realm_id in self._qbo_tap.realm_ids()] or None

    def _partition_state(self, realm_id: str) -> dict[str, t.Any]:
        for partition in self.tap_state.get("bookmarks", {}).get(self.name, {}).get("partitions", []):
            if partition.get("context") == {"realm_id": realm_id}:
                return t.cast("dict[str, t.Any]", partition)
        return {}

    def plan(self, realm_id: str, now: datetime.datetime) -> tuple[Mode, str | None]:
        """Pick the read mode and its lower bound (UTC bookmark text) for one realm."""
        state = self._partition_state(realm_id)
        cursor = state.get(CURSOR_KEY) or state.get("replication_key_value")
        start = self._qbo_tap.settings.start_date
        start_text = to_utc_text(start) if start else None
        if not cursor:
            return Mode.BACKFILL, start_text
        since = max(to_utc_text(parse_time(str(cursor))), start_text or "")
        if (
            not self.cdc_capable
            or parse_time(since) < now - datetime.timedelta(days=CDC_WINDOW_DAYS) + WINDOW_SAFETY
        ):
            return Mode.QUERY, since
        return Mode.CDC, since

    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        realm_id = str((context or {}).get("realm_id", ""))
        registry = self._qbo_tap.realms
        session = registry.session(realm_id)
        if session.failure is not None:
            self.logger.warning("realm %s: skipped (%s)", realm_id, type(session.failure).__name__)
            return
        self._fully_selected = all(self.mask.values())
        if not self._refresh_due(realm_id, session.server_now()):
            self.logger.info(
                "realm %s %s: not in CDC; last read by query less than %g h ago (query_only_refresh_hours)",
                realm_id,
                self.name,
                self._qbo_tap.settings.query_only_refresh_hours,
            )
            return
        try:
            yield from self._read(session)
        except RealmError as exc:
            registry.fail(realm_id, exc)
            return
        # Every record of this partition has been emitted: the cursor may advance.
        state = self.get_context_state(context)
        state[CURSOR_KEY] = session.cursor()
        if not self.cdc_capable:
            state[QUERIED_KEY] = to_utc_text(session.server_now())

    def _refresh_due(self, realm_id: str, now: datetime.datetime) -> bool:
        """CDC streams always read; a query-only stream re-reads once per `query_only_refresh_hours`."""
        if self.cdc_capable:
            return True
        queried_at = self._partition_state(realm_id).get(QUERIED_KEY)
        if not queried_at:
            return True
        interval = datetime.timedelta(hours=self._qbo_tap.settings.query_only_refresh_hours)
        return now - parse_time(str(queried_at)) >= interval

    def _read(self, session: RealmSession) -> Iterator[dict[str, t.Any]]:
        mode, since = self.plan(session.realm_id, session.server_now())
        if mode is Mode.CDC:
            try:
                yield from self._emit(session, session.cdc.take(self.entity, since or ""), sort=True)
                return
            except CdcWindowError as exc:
                self.logger.warning("%s; falling back to a query by LastUpdatedTime", exc)
                mode = Mode.QUERY
            except CdcOverflowError as exc:
                self.logger.warning(
                    "realm %s %s: %s; reading by query from %s instead (records already emitted are not "
                    "repeated; deletes after the first %d changes of that instant cannot be seen)",
                    session.realm_id,
                    self.name,
                    exc,
                    since,
                    CDC_CAP,
                )
                yield from self._emit(session, read_pages(session.client, self.entity, since))
                return
        if mode is Mode.QUERY and self.cdc_capable:
            window_start = to_utc_text(session.server_now() - datetime.timedelta(days=CDC_WINDOW_DAYS))
            self.logger.warning(
                "realm %s %s: bookmark %s is older than CDC's %d-day window; reading by LastUpdatedTime. "
                "Deletes between %s and %s cannot be seen (run a full resync to drop them).",
                session.realm_id,
                self.name,
                since,
                CDC_WINDOW_DAYS,
                since,
                window_start,
            )
        self.logger.info(
            "realm %s %s: %s from %s", session.realm_id, self.name, mode.value, since or "the start"
        )
        parallel = max(1, min(3, self._qbo_tap.settings.max_concurrent_requests - 1))
        yield from self._emit(session, read_pages(session.client, self.entity, since, parallel=parallel))

    def _emit(
        self, session: RealmSession, batches: Iterable[list[dict[str, t.Any]]], *, sort: bool = False
    ) -> Iterator[dict[str, t.Any]]:
        dedup = session.dedup(self.entity)
        realm_id = session.realm_id
        known = self.effective_schema.get("properties", {})
        for batch in batches:
            records = [self._known_fields(make_record(obj, realm_id), known) for obj in batch]
            if sort:
                records.sort(key=lambda r: r["last_updated_at"] or "")
            for record in records:
                if dedup.admit(record):
                    session.records_emitted += 1
                    yield record

    def _known_fields(self, record: dict[str, t.Any], known: dict[str, t.Any]) -> dict[str, t.Any]:
        """Drop top-level fields the schema does not list (warned once per field)."""
        unknown = [key for key in record if key not in known]
        for key in unknown:
            if key not in self._unknown_fields:
                self._unknown_fields.add(key)
                self.logger.warning("%s: field %r is not in the schema; it is dropped", self.name, key)
            del record[key]
        return record

    def _generate_record_messages(
        self, record: dict[str, t.Any]
    ) -> Generator[singer.RecordMessage, None, None]:
        """The SDK's record path, minus its recursive walk for deselected properties when none are.

        `pop_deselected_record_properties` is a no-op when every breadcrumb of the selection mask is
        selected, yet it cost a third of the tap's CPU on nested QBO records; anything else goes
        through the SDK unchanged.
        """
        if not self._fully_selected:
            yield from super()._generate_record_messages(record)
            return
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield singer.RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=utc_now(),
                )
