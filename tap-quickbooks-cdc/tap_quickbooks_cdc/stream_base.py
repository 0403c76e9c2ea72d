"""The base stream: one QBO entity, partitioned by realm, read by query backfill, CDC or query.

Per realm partition the state holds (besides the SDK's `replication_key` / `replication_key_value`,
the newest emitted `last_updated_at`) a `cdc_cursor`: the realm's sync-start server time minus a
margin. It is written only after the partition's last record was emitted, so state never runs ahead.

State is checked before it is used: a document of the wrong shape ends the run (`check_state_document`);
a bookmark that is not a date-time fails its realm before any request (`realm_state_problem`); and a
bookmark or `start_date` later than Intuit's clock fails its realm once the first response tells that
clock, before any record of the realm is emitted (reading from it would return nothing and move the
cursor to "now", skipping every change in between for good).
"""

from __future__ import annotations

import datetime
import enum
import time
import typing as t

import singer_sdk.singerlib as singer
from singer_sdk import metrics
from singer_sdk.helpers._util import load_json, utc_now
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.streams import Stream
from typing_extensions import override

from tap_quickbooks_cdc.cdc import CDC_CAP, CDC_WINDOW_DAYS
from tap_quickbooks_cdc.errors import ApiError, CdcOverflowError, CdcWindowError, ConfigError, RealmError
from tap_quickbooks_cdc.parallel import PagePrefetch
from tap_quickbooks_cdc.query import read_pages
from tap_quickbooks_cdc.records import OBSERVED_AT_KEY, make_record, parse_time, to_utc_text
from tap_quickbooks_cdc.registry import STREAM_SCHEMAS, StreamFacts
from tap_quickbooks_cdc.webhook_drain import (
    RECENT_KEY,
    Versions,
    WebhookDrain,
    already_covered,
    drain_of,
    keep_recent,
    recent_versions,
    token_text,
    token_value,
)

if t.TYPE_CHECKING:
    from collections.abc import Generator, Iterable, Iterator

    from singer_sdk.helpers.types import Context

    from tap_quickbooks_cdc.realm import RealmSession
    from tap_quickbooks_cdc.tap import TapQuickBooksCDC

CURSOR_KEY = "cdc_cursor"
#: Server time at which a query-only entity (not served by CDC) was last read in full by query.
QUERIED_KEY = "queried_at"
WINDOW_SAFETY = datetime.timedelta(hours=1)
#: How far a bookmark or start_date may lie ahead of Intuit's clock before it is refused.
CLOCK_SKEW_ALLOWED = datetime.timedelta(minutes=5)
#: Partition keys holding a UTC date-time written by this tap (or another tap's replication key value).
TIME_KEYS = (CURSOR_KEY, QUERIED_KEY, "replication_key_value")
_STATE_FIX = "pass the state this tap last wrote (or no state, for a full backfill)"


def check_state_document(state: object) -> None:
    """Raise ConfigError (one line) unless `state` has the Singer shape the SDK and this tap read:
    {"bookmarks": {stream: {"partitions": [{"context": {...}, ...}]}}}."""
    if not isinstance(state, dict):
        raise ConfigError(f"The state is a JSON {_json_kind(state)}, not an object: {_STATE_FIX}.")
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        kind = _json_kind(bookmarks)
        raise ConfigError(f"The state's 'bookmarks' is a JSON {kind}, not an object: {_STATE_FIX}.")
    for name, stream_state in bookmarks.items():
        where = f"The state's bookmarks for stream {name!r}"
        if not isinstance(stream_state, dict):
            raise ConfigError(f"{where} are a JSON {_json_kind(stream_state)}, not an object: {_STATE_FIX}.")
        partitions = stream_state.get("partitions", [])
        if not isinstance(partitions, list):
            raise ConfigError(f"{where} have 'partitions' that is not a list: {_STATE_FIX}.")
        contexts: list[object] = []
        for partition in [stream_state, *partitions]:
            if not isinstance(partition, dict) or not isinstance(partition.get("progress_markers", {}), dict):
                raise ConfigError(
                    f"{where} hold a partition or progress marker that is not an object: {_STATE_FIX}."
                )
            if partition is not stream_state:
                context = partition.get("context")
                if not isinstance(context, dict) or context in contexts:
                    raise ConfigError(
                        f"{where} hold a partition without an object 'context', or one context twice: "
                        f"{_STATE_FIX}."
                    )
                contexts.append(context)


def load_state_text(text: str, source: str) -> dict[str, t.Any]:
    """Parse and shape-check a state document (fractions as Decimal); one-line ConfigError otherwise."""
    try:
        state: object = load_json(text)
    except ValueError as exc:  # simplejson.JSONDecodeError
        where = f"line {getattr(exc, 'lineno', '?')} column {getattr(exc, 'colno', '?')}"
        raise ConfigError(f"{source} is not valid JSON ({where}): {_STATE_FIX}.") from None
    check_state_document(state)
    return t.cast("dict[str, t.Any]", state)


def realm_state_problem(state: t.Mapping[str, t.Any], realm_id: str) -> str | None:
    """What is wrong with `realm_id`'s bookmarks in a well-shaped state, or None."""
    for name, stream_state in state.get("bookmarks", {}).items():
        for partition in stream_state.get("partitions", []):
            if partition.get("context") != {"realm_id": realm_id}:
                continue
            for key in TIME_KEYS:
                value = partition.get(key)
                if key == "replication_key_value" and partition.get(CURSOR_KEY):
                    continue  # not read while the realm cursor is there
                if value is None or (isinstance(value, str) and _is_date_time(value)):
                    continue
                return (
                    f"the state's '{key}' of stream {name!r} is not an ISO date-time (a JSON "
                    f"{_json_kind(value)}): fix or remove that bookmark in the state (e.g. `meltano state "
                    "edit`), or run without state for a full backfill."
                )
    return None


def _is_date_time(text: str) -> bool:
    """Parses, and converts to the UTC bookmark text (year 1 at +01:00 parses but has no UTC form)."""
    try:
        to_utc_text(parse_time(text))
    except (ValueError, OverflowError):
        return False
    return True


def _json_kind(value: object) -> str:
    kinds = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return kinds.get(type(value), "number")


class PartitionRecordCounter(metrics.Counter):
    """The SDK's `record_count` counter, but each realm's count is logged under that realm's context.

    The SDK keeps one counter per stream and only re-tags it when the next partition starts, so the
    count of realm A was logged (at the interval, or at the end) tagged with realm B. Switching context
    first logs the count so far under the old one."""

    @override
    def with_context(self, value: Context | None) -> None:
        if self.context is not None and value != self.context:
            self._pop()
        super().with_context(value)


class StreamSyncTimer(metrics.Timer):
    """The SDK's `sync_duration` timer covers the whole stream (every realm), so it carries no realm
    context (the SDK's tagged it with the last partition's)."""

    @override
    def with_context(self, value: Context | None) -> None:
        return


class Mode(enum.Enum):
    """How a stream partition is read in this run."""

    BACKFILL = "query backfill"
    CDC = "cdc"
    QUERY = "query by LastUpdatedTime"


class QboStream(Stream):
    """One QBO entity for every configured realm."""

    primary_keys: t.ClassVar[list[str]] = ["realm_id", "Id"]
    replication_key = "last_updated_at"
    is_sorted = False
    # Records are parsed JSON, already typed like the schema (str, Decimal, int, bool, None): the SDK's
    # recursive conformance (~60% of a run's CPU) is skipped and `_emit` drops unknown top-level fields.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: TapQuickBooksCDC, facts: StreamFacts) -> None:
        super().__init__(tap, schema=STREAM_SCHEMAS[facts.name], name=facts.name)
        self.facts = facts
        self._qbo_tap = tap
        self._unknown_fields: set[str] = set()
        self._fully_selected = False
        self._progress = (0.0, 0.0, 0)  # this partition's (start, last progress line, records emitted)
        # With a webhook inbox: versions emitted at or after `_recent_floor` (None: the new cursor) this
        # partition, kept in the state as `recent_versions` (`webhook_drain`).
        self._recent: Versions | None = None
        self._recent_floor: str | None = None
        self._pages: PagePrefetch | None = None  # this stream's query reads running ahead (`parallel`)

    @override
    def get_record_counter(
        self, *, endpoint: str | None = None, log_interval: float = metrics.DEFAULT_LOG_INTERVAL
    ) -> metrics.Counter:
        """The SDK's record counter, logging each realm's count under its own context."""
        tags: dict[str, t.Any] = {metrics.Tag.STREAM: self.name}
        if endpoint:
            tags[metrics.Tag.ENDPOINT] = endpoint
        return PartitionRecordCounter(metrics.Metric.RECORD_COUNT, tags, log_interval=log_interval)

    @override
    def get_sync_timer(self) -> metrics.Timer:
        return StreamSyncTimer(metrics.Metric.SYNC_DURATION, {metrics.Tag.STREAM: self.name})

    @property
    def entity(self) -> str:
        return self.facts.entity

    @property
    def cdc_capable(self) -> bool:
        """Whether Intuit's CDC endpoint serves the entity (else every run queries by LastUpdatedTime)."""
        return self.facts.cdc

    @property
    @override
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

    def future_bound(self, realm_id: str, now: datetime.datetime) -> str | None:
        """Why this stream's lower bound for `realm_id` is later than `now` (Intuit's clock), or None."""
        start = self._qbo_tap.settings.start_date
        limit = now + CLOCK_SKEW_ALLOWED
        if start is not None and start > limit:
            return (
                f"start_date {to_utc_text(start)} is later than Intuit's clock ({to_utc_text(now)}): a sync "
                "would read nothing and write a cursor past every change until then; set start_date to a "
                "past date."
            )
        state = self._partition_state(realm_id)
        key = CURSOR_KEY if state.get(CURSOR_KEY) else "replication_key_value"
        cursor = state.get(key)
        if cursor and parse_time(str(cursor)) > limit:
            return (
                f"the state's {key} {to_utc_text(parse_time(str(cursor)))} of stream '{self.name}' is later "
                f"than Intuit's clock ({to_utc_text(now)}): reading from it would skip every change up to it "
                "for good; set it to the time of the last good sync (or remove it for a backfill) with "
                "`meltano state edit`, then run again."
            )
        return None

    @override
    def compare_start_date(self, value: str, start_date_value: str) -> str:
        """The SDK's informational starting value; `plan` decides the real lower bound (and unlike the
        SDK's version this never parses a bookmark that `realm_state_problem` has refused)."""
        return value

    @override  # type: ignore[misc]  # `sync` is final only in typing
    def sync(self, context: Context | None = None) -> None:
        """The SDK's, unless every realm has already failed this run: then the stream is skipped without a
        line (each realm's failure was its one ERROR line), so a wrong client secret is not followed by a
        screen of "skipped" and zero-count lines per stream. (`Stream.sync` is typed final; the SDK
        offers no hook before its per-stream lines, and `Tap.sync_all` is final too.)"""
        tap = self._qbo_tap
        if context is None and tap.realms.all_failed(tap.realm_ids()):
            self.logger.debug("%s: skipped (every realm failed)", self.name)
            return
        tap.prefetch_cdc(self)
        self._pages = self._start_query_reads()
        try:
            super().sync(context)
        finally:
            self._pages.close()
            self._pages = None
        # The SDK wrote (and the writer flushed) the STATE after this stream's last record: the webhook
        # events whose records were emitted are covered now.
        drain = self._webhook_drain()
        if drain is not None:
            drain.commit(self.entity)

    def _start_query_reads(self) -> PagePrefetch:
        """This stream's query reads of the realms that will read by query, started in the run's pool
        (`parallel`); a realm the main thread then reads differently just drops its read."""
        tap = self._qbo_tap
        pages = PagePrefetch(tap.pool)
        for realm_id in tap.parallel_realms(self):
            session = tap.realms.session(realm_id)
            now = session.server_now()
            if not self._refresh_due(realm_id, now):
                continue
            mode, since = self.plan(realm_id, now)
            if mode is not Mode.CDC:  # a backfill, or a query by LastUpdatedTime
                pages.start(session, self.entity, since, self._query_parallelism())
        return pages

    def _query_parallelism(self) -> int:
        """Time slices read at once within one realm's query (its budget allows 10 requests at a time)."""
        return max(1, min(3, self._qbo_tap.settings.max_concurrent_requests - 1))

    def _webhook_drain(self) -> WebhookDrain | None:
        """The run's webhook drain; None without `webhook_inbox`, and in `--test` (a dry run stops after one
        record per stream, so it must not mark events done)."""
        if self.ABORT_AT_RECORD_COUNT is not None:
            return None
        tap = self._qbo_tap
        return drain_of(
            tap,
            tap.settings.webhook_inbox,
            lambda: {s.entity for s in tap.streams.values() if isinstance(s, QboStream) and s.selected},
            self.logger,
        )

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        realm_id = str((context or {}).get("realm_id", ""))
        registry = self._qbo_tap.realms
        session = registry.session(realm_id)
        if not session.state_checked:  # before the realm's first request
            session.state_checked = True
            problem = realm_state_problem(self.tap_state, realm_id)
            if problem is not None:
                registry.fail(realm_id, RealmError(realm_id, problem))
        if session.failure is not None:  # its one ERROR line said so (`RealmRegistry.fail`)
            failed = type(session.failure).__name__
            self.logger.debug("realm %s %s: skipped (%s)", realm_id, self.name, failed)
            return
        self._fully_selected = all(self.mask.values())
        started = time.monotonic()
        self._progress = (started, started, 0)
        drain = self._webhook_drain()
        old_cursor = self._partition_state(realm_id).get(CURSOR_KEY)
        memory = recent_versions(self._partition_state(realm_id)) if drain is not None else {}
        try:
            drain_only = drain is not None and self._drain_only(realm_id, session.server_now())
            reading = not drain_only and self._refresh_due(realm_id, session.server_now())
            if drain is not None:
                self._recent = {}
                self._recent_floor = None if reading else str(old_cursor)
                session.dedup(self.entity).seed({key: token_value(v[0]) for key, v in memory.items()})
                yield from self._drain_webhooks(session, drain, str(old_cursor) if old_cursor else None)
            if drain_only:
                if drain is not None and drain.first_time(f"drain-only {realm_id}"):
                    self.logger.info(
                        "realm %s: its last CDC pass is less than %g min old (cdc_min_interval_minutes): "
                        "this run only drains the webhook inbox",
                        realm_id,
                        self._qbo_tap.settings.cdc_min_interval_minutes,
                    )
            elif not reading:
                self.logger.info(
                    "realm %s %s: not in CDC; last read by query less than %g h ago "
                    "(query_only_refresh_hours)",
                    realm_id,
                    self.name,
                    self._qbo_tap.settings.query_only_refresh_hours,
                )
            else:
                yield from self._read(session)
                cursor, now = session.cursor(), session.server_now()
        except RealmError as exc:
            registry.fail(realm_id, exc)
            return
        state = self.get_context_state(context)
        if reading:
            # Every record of this partition has been emitted: the cursor may advance.
            state[CURSOR_KEY] = cursor
            if not self.cdc_capable:
                state[QUERIED_KEY] = to_utc_text(now)
        if self._recent is not None:
            kept = keep_recent({**memory, **self._recent}, state.get(CURSOR_KEY))
            if kept:
                state[RECENT_KEY] = kept
            else:
                state.pop(RECENT_KEY, None)
            self._recent = None

    def _drain_only(self, realm_id: str, now: datetime.datetime) -> bool:
        """Micro-batch: the partition's last CDC pass is more recent than `cdc_min_interval_minutes`."""
        settings = self._qbo_tap.settings
        cursor = self._partition_state(realm_id).get(CURSOR_KEY)
        if settings.cdc_min_interval_minutes <= 0 or not cursor:
            return False
        last_pass = parse_time(str(cursor)) + datetime.timedelta(seconds=settings.cdc_cursor_margin_seconds)
        return now - last_pass < datetime.timedelta(minutes=settings.cdc_min_interval_minutes)

    def _drain_webhooks(
        self, session: RealmSession, drain: WebhookDrain, cursor: str | None
    ) -> Iterator[dict[str, t.Any]]:
        """The notified changes of this entity, through the same de-duplication as CDC; a version older
        than the cursor was emitted by the pass that set it (`webhook_drain.already_covered`)."""
        realm_id = session.realm_id
        objects = drain.take(session.client, self.entity)
        if objects:
            fresh = [
                obj
                for obj in objects
                if not (self.cdc_capable and already_covered(obj, realm_id, self.entity, cursor))
            ]
            self.logger.info(
                "realm %s %s: %d change(s) from webhooks (%d older than the CDC cursor: already emitted)",
                realm_id,
                self.name,
                len(objects),
                len(objects) - len(fresh),
            )
            yield from self._emit(session, [fresh], sort=True)
        drain.emitted(realm_id, self.entity)

    def _refresh_due(self, realm_id: str, now: datetime.datetime) -> bool:
        """CDC streams always read; a query-only stream re-reads once per `query_only_refresh_hours`,
        and at once when its `queried_at` lies in the future (it would otherwise never be re-read)."""
        if self.cdc_capable:
            return True
        queried_at = self._partition_state(realm_id).get(QUERIED_KEY)
        if not queried_at:
            return True
        interval = datetime.timedelta(hours=self._qbo_tap.settings.query_only_refresh_hours)
        last = parse_time(str(queried_at))
        return now - last >= interval or last > now + CLOCK_SKEW_ALLOWED

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
        pages = self._pages.take(session.realm_id, since) if self._pages is not None else None
        if pages is None:
            pages = read_pages(session.client, self.entity, since, parallel=self._query_parallelism())
        yield from self._emit(session, pages)

    def _emit(
        self, session: RealmSession, batches: Iterable[list[dict[str, t.Any]]], *, sort: bool = False
    ) -> Iterator[dict[str, t.Any]]:
        dedup = session.dedup(self.entity)
        realm_id = session.realm_id
        entity = self.entity
        known = self.effective_schema.get("properties", {})
        for batch in batches:
            if not session.bounds_checked:  # the first response of the realm has told Intuit's clock
                session.bounds_checked = True
                self._refuse_future_bounds(session)
            if sort:
                self._warn_untimed(realm_id, batch)
            records = [self._known_fields(make_record(obj, realm_id, entity), known) for obj in batch]
            if sort:
                records.sort(key=lambda r: r["last_updated_at"] or "")
            admitted = 0
            recent = self._recent
            floor = (self._recent_floor or session.cursor()) if recent is not None else ""
            for record in records:
                if dedup.admit(record):
                    session.records_emitted += 1
                    admitted += 1
                    if recent is not None and (changed := record["last_updated_at"]) and changed >= floor:
                        recent[record["Id"]] = [token_text(record), changed]
                    yield record
            self._report_progress(realm_id, admitted)

    def _report_progress(self, realm_id: str, emitted: int) -> None:
        """Count a page's records; every `progress_interval_seconds`, log the partition's records so far and
        its rate (a long backfill otherwise says nothing between its first and last line)."""
        started, last, count = self._progress
        count += emitted
        now = time.monotonic()
        interval = self._qbo_tap.settings.progress_interval_seconds
        if interval > 0 and now - last >= interval:
            last = now
            rate = count / (now - started) if now > started else 0.0
            self.logger.info(
                "realm %s %s: %d records so far, %.0f records/s", realm_id, self.name, count, rate
            )
        self._progress = (started, last, count)

    def _refuse_future_bounds(self, session: RealmSession) -> None:
        """Fail the realm (before any of its records is emitted) if a selected stream would read from
        later than Intuit's clock."""
        now = session.server_now()
        for stream in self._qbo_tap.streams.values():
            if isinstance(stream, QboStream) and stream.selected:
                problem = stream.future_bound(session.realm_id, now)
                if problem is not None:
                    raise ApiError(session.realm_id, problem)

    def _warn_untimed(self, realm_id: str, batch: list[dict[str, t.Any]]) -> None:
        untimed = [obj.get("Id") for obj in batch if OBSERVED_AT_KEY in obj]
        if untimed:
            self.logger.warning(
                "realm %s %s: %d change(s) without MetaData.LastUpdatedTime (first Id %s) are kept, "
                "stamped with the CDC response time",
                realm_id,
                self.name,
                len(untimed),
                untimed[0],
            )

    def _known_fields(self, record: dict[str, t.Any], known: dict[str, t.Any]) -> dict[str, t.Any]:
        """Drop top-level fields the schema does not list (warned once per field)."""
        unknown = [key for key in record if key not in known]
        for key in unknown:
            if key not in self._unknown_fields:
                self._unknown_fields.add(key)
                self.logger.warning("%s: field %r is not in the schema; it is dropped", self.name, key)
            del record[key]
        return record

    @override
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
