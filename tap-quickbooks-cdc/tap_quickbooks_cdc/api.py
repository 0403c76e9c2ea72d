"""HTTP client for one realm: auth header, rate limit, retries with backoff, Fault detection.

Every response body is parsed with msgspec, JSON numbers with a fraction as Decimal (from their exact text),
so money stays exact.
"""

from __future__ import annotations

import decimal
import logging
import random
import re
import threading
import time
import typing as t

import backoff
import msgspec
import requests
from singer_sdk import metrics

from tap_quickbooks_cdc.errors import (
    AccessTokenRejectedError,
    ApiError,
    CdcWindowError,
    RealmAccessError,
    RetryableError,
    StaleObjectError,
    ThrottledError,
)
from tap_quickbooks_cdc.registry import STREAM_FOR_ENTITY
from tap_quickbooks_cdc.request_metrics import log_request

if t.TYPE_CHECKING:
    from tap_quickbooks_cdc.auth import RealmAuth
    from tap_quickbooks_cdc.settings import Settings
    from tap_quickbooks_cdc.throttle import RateLimiter

THROTTLE_CODES = {"3001", "003001"}
AUTH_CODES = {"3200", "100", "120"}
NOT_AUTHORIZED_CODES = {"3201", "3100"}
TRANSIENT_CODES = {"6002", "6000"}
STALE_OBJECT_CODE = "5010"
_JSON_DECODER = msgspec.json.Decoder(float_hook=decimal.Decimal)
_JSON_ENCODER = msgspec.json.Encoder(decimal_format="number")  # money leaves as exact JSON numbers
_QUERIED_ENTITY = re.compile(r"\bfrom\s+(\w+)", re.IGNORECASE)


class QboClient:
    """Sends GET requests to `/v3/company/{realm}/...` and returns the checked JSON body."""

    def __init__(
        self,
        settings: Settings,
        auth: RealmAuth,
        limiter: RateLimiter,
        session: requests.Session,
        logger: logging.Logger,
    ) -> None:
        self.realm_id = auth.realm_id
        self._settings = settings
        self._auth = auth
        self._limiter = limiter
        self._session = session
        self._logger = logger
        self._base = f"{settings.api_base_url}/v3/company/{self.realm_id}"
        self.request_count = 0
        self._count_lock = threading.Lock()  # pages of several time slices are fetched at once
        self.first_server_time: str | None = None
        retry_transient = backoff.on_exception(
            backoff.expo,
            RetryableError,
            factor=settings.retry_backoff_seconds,
            max_value=60,
            max_tries=settings.max_retries,
            jitter=backoff.full_jitter,
            on_backoff=self._log_backoff,
            logger=None,
        )
        retry_throttled = backoff.on_exception(
            backoff.runtime,
            ThrottledError,
            value=lambda exc: exc.wait_seconds,
            max_tries=settings.max_retries,
            jitter=None,
            on_backoff=self._log_backoff,
            logger=None,
        )
        self._send_with_retries = retry_throttled(retry_transient(self._send_authorized))

    def get(self, path: str, params: dict[str, str]) -> dict[str, t.Any]:
        """GET a data path (e.g. "query", "cdc"); raises a RealmError subclass when it cannot succeed."""
        return self._call(path, params, None)

    def post(self, path: str, document: dict[str, t.Any]) -> dict[str, t.Any]:
        """POST a JSON document to a data path (e.g. "batch", "invoice"), with the same retries and Fault
        checks as `get`. Retrying a write is safe for SyncToken-checked updates: a repeat of one that did
        commit is refused as stale (Fault 5010, `StaleObjectError`), never applied twice."""
        return self._call(path, {}, _JSON_ENCODER.encode(document))

    def _call(self, path: str, params: dict[str, str], payload: bytes | None) -> dict[str, t.Any]:
        try:
            body = self._send_with_retries(path, params, payload)
        except ThrottledError as exc:
            raise ApiError(
                self.realm_id,
                f"still throttled after {self._settings.max_retries} attempts ({exc}): lower "
                "'requests_per_minute' or run when other apps are idle.",
            ) from None
        except RetryableError as exc:
            raise ApiError(
                self.realm_id,
                f"{path} failed after {self._settings.max_retries} attempts ({exc}): Intuit may be "
                "degraded; run again later (state did not advance).",
            ) from None
        if self.first_server_time is None and isinstance(body.get("time"), str):
            self.first_server_time = body["time"]
        return body

    def _log_backoff(self, details: t.Any) -> None:
        exc = details.get("exception")
        self._logger.warning(
            "realm %s: %s; retry %d in %.1f s",
            self.realm_id,
            exc,
            details.get("tries", 0),
            details.get("wait", 0.0),
        )

    def _send_authorized(
        self, path: str, params: dict[str, str], payload: bytes | None = None
    ) -> dict[str, t.Any]:
        """One attempt; a rejected access token gets exactly one refresh and one more try."""
        token = self._auth.access_token()
        try:
            return self._send_once(path, params, token, payload)
        except AccessTokenRejectedError:
            self._auth.invalidate(token)
            self._logger.info("realm %s: access token rejected (401); refreshing once", self.realm_id)
        try:
            return self._send_once(path, params, self._auth.access_token(), payload)
        except AccessTokenRejectedError:
            raise RealmAccessError(
                self.realm_id,
                "the API rejects freshly refreshed access tokens (401): the app may have been "
                "disconnected from this company; reconnect it in the Intuit app.",
            ) from None

    def _send_once(
        self, path: str, params: dict[str, str], token: str, payload: bytes | None = None
    ) -> dict[str, t.Any]:
        query = {**params, "minorversion": str(self._settings.minorversion)}
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        with self._limiter.slot():
            with self._count_lock:
                self.request_count += 1
            started = time.perf_counter()
            try:
                response = self._session.request(
                    "GET" if payload is None else "POST",
                    f"{self._base}/{path}",
                    params=query,
                    data=payload,
                    headers=headers,
                    timeout=self._settings.request_timeout_seconds,
                )
            except requests.Timeout:
                self._log_request_metric(path, params, started, None)
                raise RetryableError(f"{path} timed out") from None
            except requests.ConnectionError:
                self._log_request_metric(path, params, started, None)
                raise RetryableError(f"{path}: connection dropped") from None
        self._log_request_metric(path, params, started, response.status_code)
        return self._check(path, response)

    def _log_request_metric(
        self, path: str, params: dict[str, str], started: float, status: int | None
    ) -> None:
        """One `http_request_duration` point (`request_metrics`); `entity` says what a query read,
        `entities` what a CDC call asked for."""
        extra: dict[str, str] = {}
        if path == "query" and (match := _QUERIED_ENTITY.search(params.get("query", ""))):
            extra["entity"] = match.group(1)
            if match.group(1) in STREAM_FOR_ENTITY:
                extra[metrics.Tag.STREAM] = STREAM_FOR_ENTITY[match.group(1)]
        elif "entities" in params:
            extra["entities"] = params["entities"]
        log_request(f"/v3/company/{{realm_id}}/{path}", self.realm_id, started, status, extra)

    def _check(self, path: str, response: requests.Response) -> dict[str, t.Any]:
        status = response.status_code
        if status == 429 or _is_xml_throttle(response):
            raise ThrottledError(self._retry_after(response), f"{path} throttled (HTTP {status})")
        if status == 401:
            raise AccessTokenRejectedError
        if status >= 500:
            raise RetryableError(f"{path} answered HTTP {status}")
        try:
            body = _JSON_DECODER.decode(response.content)
        except ValueError:  # msgspec.DecodeError is a ValueError
            if status == 200:
                raise RetryableError(f"{path} returned malformed JSON") from None
            body = {}
        if not isinstance(body, dict):
            raise RetryableError(f"{path} returned a non-object JSON body")
        if "Fault" in body:
            self._raise_fault(path, status, body["Fault"], response)
        if status == 403:
            raise RealmAccessError(
                self.realm_id, "access forbidden (HTTP 403): check the app's scopes and the realm_id."
            )
        if status != 200:
            raise ApiError(self.realm_id, f"{path} answered HTTP {status} without a Fault body.")
        return body

    def _raise_fault(self, path: str, status: int, fault: t.Any, response: requests.Response) -> t.NoReturn:
        errors = fault.get("Error", []) if isinstance(fault, dict) else []
        first = errors[0] if errors and isinstance(errors[0], dict) else {}
        code = str(first.get("code", ""))
        text = f"{first.get('Message', '')} {first.get('Detail', '')}".strip()
        summary = f"Fault {code or '?'} '{text[:200]}'"
        if code == STALE_OBJECT_CODE:
            raise StaleObjectError(self.realm_id, f"{path} refused a stale SyncToken ({summary}).")
        if code in THROTTLE_CODES:
            raise ThrottledError(self._retry_after(response), f"{path} throttled ({summary})")
        if path == "cdc" and ("older than" in text.lower() or "changedsince" in text.lower()):
            raise CdcWindowError(self.realm_id, f"CDC refused changedSince ({summary}).")
        if code in TRANSIENT_CODES or (code == "10000" and "application error" in text.lower()):
            raise RetryableError(f"{path}: {summary}")
        if code in AUTH_CODES or status == 401:
            raise AccessTokenRejectedError
        if code in NOT_AUTHORIZED_CODES:
            # The access token came from a refresh that worked, and its rotated refresh token was stored
            # first: it is valid, for another company (a mistyped realm ID, or a sandbox company on the
            # production host), and the token store finds it by its seed once the realm ID is fixed.
            where = "the realm ID"
            if code == "3100":
                where += " and 'environment' (sandbox or production)"
            raise RealmAccessError(
                self.realm_id,
                f"the refresh token is not authorised for this company (Fault {code}): check {where}; the "
                "rotated token is kept, so fixing 'realm_id' needs no reconnect.",
            )
        if status == 403:
            raise RealmAccessError(
                self.realm_id,
                f"{summary}: the app is not authorized for this company (unknown realm, or disconnected); "
                "check the realm_id and reconnect the company in the Intuit app.",
            )
        raise ApiError(self.realm_id, f"{path} failed with {summary} (HTTP {status}).")

    def _retry_after(self, response: requests.Response) -> float:
        header = response.headers.get("Retry-After", "")
        base = self._settings.throttle_wait_seconds
        if header.strip().isdigit():
            return min(float(header), base * 2)
        return base * (1 + random.random() * 0.1)


def _is_xml_throttle(response: requests.Response) -> bool:
    content_type = response.headers.get("Content-Type", "")
    if "xml" not in content_type and not response.content[:64].lstrip().startswith(b"<"):
        return False
    text = response.text
    return "3001" in text or "throttl" in text.lower()
