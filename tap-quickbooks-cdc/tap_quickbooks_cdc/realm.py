"""Per-realm run context: the API client, its CDC coordinator, de-duplication, cursor and failures."""

from __future__ import annotations

import datetime
import time
import typing as t

import requests

from tap_quickbooks_cdc.api import QboClient
from tap_quickbooks_cdc.auth import RealmAuth
from tap_quickbooks_cdc.cdc import CdcCoordinator
from tap_quickbooks_cdc.errors import ApiError, ConfigError, RealmError
from tap_quickbooks_cdc.records import Deduplicator, TimeFormatError, normalise_time, parse_time, to_utc_text
from tap_quickbooks_cdc.throttle import RateLimiter
from tap_quickbooks_cdc.token_store import open_token_store

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable

    from tap_quickbooks_cdc.settings import Company, Settings
    from tap_quickbooks_cdc.token_store import FileTokenStore, S3TokenStore


class RealmSession:
    """Everything one realm needs during a run."""

    def __init__(
        self,
        company: Company,
        settings: Settings,
        store: FileTokenStore | S3TokenStore,
        logger: logging.Logger,
        plan: Callable[[], dict[str, str]],
    ) -> None:
        self.realm_id = company.realm_id
        self._settings = settings
        self._local_start = datetime.datetime.now(datetime.UTC)
        session = requests.Session()
        session.headers["User-Agent"] = "tap-quickbooks-cdc"
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=settings.max_concurrent_requests + 2)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        self.auth = RealmAuth(company, settings, store, session, logger)
        self.limiter = RateLimiter(settings.requests_per_minute, settings.max_concurrent_requests)
        self.client = QboClient(settings, self.auth, self.limiter, session, logger)
        self.cdc = CdcCoordinator(self.client, plan)
        self._dedup: dict[str, Deduplicator] = {}
        self.failure: RealmError | None = None
        self.records_emitted = 0
        self.state_checked = False  # this realm's bookmarks were checked (before its first request)
        self.bounds_checked = False  # its lower bounds were compared with Intuit's clock (first response)

    def dedup(self, entity: str) -> Deduplicator:
        return self._dedup.setdefault(entity, Deduplicator())

    def cursor(self) -> str:
        """The realm's next CDC cursor: server time of this run's first response minus the margin."""
        start = self._server_time() or self._local_start
        return to_utc_text(start - datetime.timedelta(seconds=self._settings.cdc_cursor_margin_seconds))

    def server_now(self) -> datetime.datetime:
        """Best known 'now' on Intuit's clock (local clock before the first response)."""
        return self._server_time() or datetime.datetime.now(datetime.UTC)

    def _server_time(self) -> datetime.datetime | None:
        """The first response's `time`; an unreadable one fails the realm (cursors are built on it)."""
        server = self.client.first_server_time
        if not server:
            return None
        try:
            return parse_time(normalise_time(server))
        except TimeFormatError as exc:
            raise ApiError(
                self.realm_id,
                f"the response time {exc}, so no cursor can be built on it; report it to Intuit with the "
                "response's intuit_tid (state does not advance).",
            ) from None


class RealmRegistry:
    """Creates realm sessions on first use and keeps the per-realm outcome for the run summary."""

    def __init__(
        self,
        settings: Settings,
        logger: logging.Logger,
        plan_for: Callable[[str], dict[str, str]],
    ) -> None:
        self._settings = settings
        self._logger = logger
        self._plan_for = plan_for
        self._companies = {c.realm_id: c for c in settings.companies}
        self._store = open_token_store(
            settings.token_store, settings.token_store_s3_endpoint_url, settings.token_store_adopt
        )
        self._sessions: dict[str, RealmSession] = {}
        self._started = time.monotonic()

    @property
    def realm_ids(self) -> list[str]:
        return list(self._companies)

    def session(self, realm_id: str) -> RealmSession:
        if realm_id not in self._companies:
            raise ConfigError(
                f"State or context names realm {realm_id}, which is not in 'companies': add it or drop it."
            )
        if realm_id not in self._sessions:
            self._sessions[realm_id] = RealmSession(
                self._companies[realm_id],
                self._settings,
                self._store,
                self._logger,
                lambda: self._plan_for(realm_id),
            )
        return self._sessions[realm_id]

    def fail(self, realm_id: str, error: RealmError) -> None:
        """Record the realm's first failure and log it as the one ERROR line of that realm: the problem and
        the fix, at once (later streams skip the realm without a line of their own)."""
        session = self.session(realm_id)
        if session.failure is None:
            session.failure = error
            others = ", the other realms continue" if len(self._companies) > 1 else ""
            self._logger.error(
                "%s; its remaining streams are skipped this run%s.", str(error).rstrip("."), others
            )

    def failures(self) -> dict[str, RealmError]:
        return {r: s.failure for r, s in self._sessions.items() if s.failure is not None}

    def all_failed(self, realm_ids: t.Iterable[str]) -> bool:
        """True if every realm of `realm_ids` (and at least one) has failed this run."""
        listed = list(realm_ids)
        return bool(listed) and all(
            (session := self._sessions.get(realm)) is not None and session.failure is not None
            for realm in listed
        )

    def outcome(self) -> str | None:
        """The run's closing line when a realm failed (None when none did): how many of how many failed,
        how many synced, and the fix itself when every failure has the same one."""
        failures = self.failures()
        if not failures:
            return None
        total = len(self._companies)
        synced = sum(1 for s in self._sessions.values() if s.failure is None)
        realms = ", ".join(sorted(failures))
        noun = "realm" if total == 1 else "realms"
        head = f"{len(failures)} of {total} {noun} failed ({realms})"
        if synced == 0:
            head += "; none synced"
        else:
            head += f"; {synced} synced"
        if total - len(failures) - synced > 0:
            head += f", {total - len(failures) - synced} not reached"
        details = {failure.detail for failure in failures.values()}
        if len(details) == 1:
            return f"{head}: {details.pop()}"
        return f"{head}: see the summary above for the fix per realm."

    def totals_line(self) -> str:
        """The run in one line: records emitted, data requests sent, seconds and records per second."""
        records = sum(s.records_emitted for s in self._sessions.values())
        requests_sent = sum(s.client.request_count for s in self._sessions.values())
        seconds = time.monotonic() - self._started
        rate = records / seconds if seconds > 0 else 0.0
        return (
            f"{records} records, {requests_sent} data requests, {seconds:.2f} s, {rate:.0f} records/s "
            f"({len(self._companies)} {'realm' if len(self._companies) == 1 else 'realms'})"
        )

    def summary_lines(self) -> list[str]:
        lines = []
        for realm_id in self._companies:
            session = self._sessions.get(realm_id)
            if session is None:
                lines.append(f"realm {realm_id}: not synced (no selected stream reached it)")
            elif session.failure is not None:
                lines.append(f"realm {realm_id}: FAILED - {session.failure.detail}")
            else:
                lines.append(
                    f"realm {realm_id}: ok - {session.records_emitted} records, "
                    f"{session.client.request_count} data requests"
                )
        return lines
