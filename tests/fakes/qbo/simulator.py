"""``QboSimulator``: several simulated QBO companies behind one real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from tests.fakes.qbo.app import DATA_KINDS, QboApp
from tests.fakes.qbo.batch import BATCHES_PER_MINUTE
from tests.fakes.qbo.catalog import BY_LOWER
from tests.fakes.qbo.config import SimConfig
from tests.fakes.qbo.limits import FaultInjector, RateLimiter
from tests.fakes.qbo.oauth import TokenAuthority
from tests.fakes.qbo.prefetch import Prefetcher
from tests.fakes.qbo.render import make_company
from tests.fakes.qbo.service import DataService
from tests.fakes.qbo.store import INACTIVE, CompanyStore
from tests.fakes.qbo.webhooks import WebhookEmitter, WebhookEvent, deliver


@dataclass(frozen=True)
class RequestRecord:
    """One request the server answered. ``kind``: token, query, cdc, read, write, admin (or other)."""

    method: str
    path: str
    realm_id: str | None
    kind: str
    status: int  # 0: the connection was dropped on purpose


class _QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def log(self, type: str, message: str, *args: Any) -> None:
        """No per-request logging: the request log is ``QboSimulator.requests``."""


def realm_id_for(index: int) -> str:
    """Company ``index`` (0-based) -> ``"9341453000000001"`` style realm id."""
    return f"9341453{index + 1:09d}"


def _plain(body: bytes) -> dict[str, Any]:
    """The record as a JSON client sees it, amounts as Decimal, sharing nothing with internal state."""
    parsed: dict[str, Any] = json.loads(body, parse_float=Decimal)
    return parsed


class QboSimulator:
    """The simulated QuickBooks Online service. Use as a context manager or call ``start``/``stop``."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config = config or SimConfig()
        self.clock_offset = timedelta(0)
        self.latency = config.latency
        anchor = config.anchor or datetime.fromtimestamp(time.time() // 3600 * 3600, UTC)
        self.realm_ids = [realm_id_for(i) for i in range(config.companies)]
        self.stores: dict[str, CompanyStore] = {
            realm: CompanyStore(
                cache_bytes=config.render_cache_mb * 1_000_000 // max(config.companies, 1),
                company=make_company(
                    config.seed,
                    realm,
                    index=i,
                    records=config.records_per_company,
                    anchor=anchor,
                    history_days=config.history_days,
                    multi_ar_departments=config.multi_ar_departments,
                ),
            )
            for i, realm in enumerate(self.realm_ids)
        }
        self.client_id = f"ABqboSim{config.seed:04d}ClientId"
        self.client_secret = secrets.token_hex(20)
        self.authority = TokenAuthority(self.client_id, self.client_secret, config.access_token_ttl, self.now)
        for realm in self.realm_ids:
            self.authority.enroll(realm)
        self.service = DataService(self.stores, self.now)
        if config.prefetch:
            self.service.prefetcher = Prefetcher()
        self.batch_limiter = RateLimiter(BATCHES_PER_MINUTE, config.max_concurrent)
        self.limiter = RateLimiter(
            config.requests_per_minute, config.max_concurrent, config.requests_per_second
        )
        self.injector = FaultInjector(
            config.seed, config.random_fault_probability, config.xml_throttle_probability
        )
        self.requests: list[RequestRecord] = []
        self.webhook_emitter: WebhookEmitter | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        self.token_url = ""

    # ---- lifecycle ---------------------------------------------------------------------------------
    def start(self, port: int = 0) -> None:
        """Serve on 127.0.0.1:``port`` (0: any free port) from a background thread."""
        if self._server is not None:
            raise RuntimeError("simulator already started")
        server = make_server("127.0.0.1", port, QboApp(self), threaded=True, request_handler=_QuietHandler)
        self._server = server
        self.base_url = f"http://127.0.0.1:{server.port}"
        self.token_url = f"{self.base_url}/oauth2/v1/tokens/bearer"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="qbo-sim", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self.webhook_emitter is not None:
            self.webhook_emitter.close()
            self.webhook_emitter = None
        if self.service.prefetcher is not None:
            self.service.prefetcher.close()
            self.service.prefetcher = None

    def __enter__(self) -> QboSimulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---- clock and credentials ---------------------------------------------------------------------
    def now(self) -> float:
        """The simulator's clock: wall clock plus ``clock_offset`` (epoch seconds)."""
        return time.time() + self.clock_offset.total_seconds()

    def company_url(self, realm_id: str) -> str:
        return f"{self.base_url}/v3/company/{realm_id}"

    def current_refresh_token(self, realm_id: str) -> str:
        return self.authority.current_refresh_token(realm_id)

    def revoke(self, realm_id: str) -> None:
        """Disconnect a company: its refresh token -> invalid_grant, its access tokens -> 401."""
        self.authority.revoke(realm_id)

    def credentials(self) -> dict[str, Any]:
        """What a connector needs: URLs, client credentials and each company's refresh token."""
        return {
            "base_url": self.base_url,
            "token_url": self.token_url,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "companies": [
                {
                    "realm_id": realm,
                    "refresh_token": self.current_refresh_token(realm),
                    "utc_offset": self.stores[realm].company.clock.suffix,
                }
                for realm in self.realm_ids
            ],
        }

    # ---- records -----------------------------------------------------------------------------------
    @staticmethod
    def _entity(entity: str) -> str:
        name = BY_LOWER.get(entity.lower())
        if name is None:
            raise KeyError(f"unknown entity {entity!r}")
        return name

    def _index(self, realm_id: str, entity: str, record_id: str) -> int:
        table = self.stores[realm_id].tables[entity]
        text = str(record_id)
        if not text.isdigit() or not table.exists(int(text) - 1):
            raise KeyError(f"{entity} {record_id} does not exist in {realm_id}")
        return int(text) - 1

    def create(self, realm_id: str, entity: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
        """Create a record stamped now: a generated body overlaid with ``fields``."""
        name = self._entity(entity)
        idx = self.service.create(realm_id, name, dict(fields or {}))
        return self._render(realm_id, name, idx)

    def update(self, realm_id: str, entity: str, id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Sparse update without SyncToken check: bumps SyncToken, LastUpdatedTime = now."""
        name = self._entity(entity)
        store = self.stores[realm_id]
        with store.lock:
            idx = self._index(realm_id, name, id)
            self.service.update(realm_id, name, idx, fields)
            return self._render(realm_id, name, idx)

    def delete(self, realm_id: str, entity: str, id: str) -> None:
        name = self._entity(entity)
        with self.stores[realm_id].lock:
            self.service.delete(realm_id, name, self._index(realm_id, name, id))

    def void(self, realm_id: str, entity: str, id: str) -> dict[str, Any]:
        """Void a transaction as QuickBooks does (amounts zero, document kept; paid invoices re-balanced)."""
        name = self._entity(entity)
        with self.stores[realm_id].lock:
            idx = self._index(realm_id, name, id)
            self.service.void(realm_id, name, idx)
            return self._render(realm_id, name, idx)

    def tamper(self, realm_id: str, entity: str, id: str, changes: dict[str, Any]) -> None:
        """Serve record ``id`` (and its CDC delete stub) malformed: these top-level keys replaced, or removed
        where the value is ``store.DROP`` (e.g. ``{"Id": DROP}``, ``{"Id": 7}``, ``{"MetaData": {}}``).
        The server still files the record under its real Id and time; only the served body changes."""
        name = self._entity(entity)
        with self.stores[realm_id].lock:
            table = self.stores[realm_id].tables[name]
            text = str(id)
            if not text.isdigit() or not 0 <= int(text) - 1 < len(table.lut):
                raise KeyError(f"{name} {id} does not exist in {realm_id}")
            table.tamper(int(text) - 1, changes)

    def get(self, realm_id: str, entity: str, id: str) -> dict[str, Any] | None:
        name = self._entity(entity)
        with self.stores[realm_id].lock:
            try:
                idx = self._index(realm_id, name, id)
            except KeyError:
                return None
            return self._render(realm_id, name, idx)

    def _render(self, realm_id: str, entity: str, idx: int) -> dict[str, Any]:
        return _plain(self.stores[realm_id].tables[entity].render_bytes(idx))

    def count(self, realm_id: str, entity: str, include_inactive: bool = True) -> int:
        table = self.stores[realm_id].tables[self._entity(entity)]
        with self.stores[realm_id].lock:
            return len(table.view(hide_inactive=not include_inactive))

    def iter_records(self, realm_id: str, entity: str) -> Iterator[dict[str, Any]]:
        """Current, non-deleted records (inactive included) in LastUpdatedTime order."""
        name = self._entity(entity)
        store = self.stores[realm_id]
        with store.lock:
            indexes = list(store.tables[name].view(hide_inactive=False))
        for idx in indexes:
            with store.lock:
                record = self._render(realm_id, name, idx) if store.tables[name].exists(idx) else None
            if record is not None:  # rendered under the lock, handed out without it
                yield record

    def is_active(self, realm_id: str, entity: str, id: str) -> bool:
        idx = self._index(realm_id, self._entity(entity), id)
        return not self.stores[realm_id].tables[self._entity(entity)].flags[idx] & INACTIVE

    # ---- faults, limits, request log ---------------------------------------------------------------
    def inject(
        self, fault: str, times: int = 1, path_contains: str | None = None, delay: float = 0.0
    ) -> None:
        """Answer the next ``times`` matching requests with ``fault`` (see ``limits.FAULTS``)."""
        self.injector.add(fault, times, path_contains, delay)

    def set_limits(
        self, requests_per_minute: int, max_concurrent: int, requests_per_second: int | None = None
    ) -> None:
        """New throttling budget per company (counting starts afresh)."""
        self.limiter.requests_per_minute = requests_per_minute
        self.limiter.max_concurrent = max_concurrent
        if requests_per_second is not None:
            self.limiter.requests_per_second = requests_per_second
        self.limiter.reset()

    def record(self, method: str, path: str, realm_id: str | None, kind: str, status: int) -> None:
        self.requests.append(RequestRecord(method, path, realm_id, kind, status))

    def reset_requests(self) -> None:
        self.requests.clear()

    def data_requests(self, realm_id: str | None = None) -> int:
        """Query, CDC, read and batch requests (all outcomes), optionally for one company."""
        reads = DATA_KINDS - {"write"}  # query, cdc, read and batch
        return sum(1 for r in list(self.requests) if r.kind in reads and realm_id in {None, r.realm_id})

    # ---- webhooks ----------------------------------------------------------------------------------
    def send_webhook(  # noqa: PLR0917 - the published API keeps these positional
        self,
        url: str,
        verifier_token: str,
        events: list[WebhookEvent],
        format: str = "legacy",
        duplicate: bool = False,
        reorder: bool = False,
    ) -> int:
        """POST a signed notification; returns the receiver's HTTP status."""
        return deliver(url, verifier_token, events, fmt=format, duplicate=duplicate, reorder=reorder)

    def configure_webhooks(
        self,
        url: str | None,
        verifier_token: str = "",
        format: str = "legacy",
        retry_delays: tuple[float, ...] = (),
    ) -> None:
        """Emit a notification for every later mutation to ``url`` (None: stop); a delivery not answered
        with 200 is retried after each of ``retry_delays`` seconds."""
        if self.webhook_emitter is not None:
            self.service.listeners.remove(self.webhook_emitter)
            self.webhook_emitter.close()
            self.webhook_emitter = None
        if url:
            self.webhook_emitter = WebhookEmitter(url, verifier_token, format, retry_delays)
            self.service.listeners.append(self.webhook_emitter)
