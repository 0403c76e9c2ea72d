"""The official looker-sdk (API 4.0), configured from code, with responses classified and retried by us.

Why each piece:
- ``CodeSettings``: ``init40`` only takes an ``ApiSettings``; keyword arguments are ignored, and
  ``read_config()`` silently drops non-string values (``False``, ``120``), so every value is a string. No
  ``looker.ini`` is read and no ``LOOKERSDK_*`` variable overrides the target's settings.
- ``LookerTransport``: ``SDKError`` keeps no HTTP status, so our transport raises ``LookerCallError``
  (status, kind, Looker's message) for every non-2xx answer before the SDK sees it. That also means the
  SDK's ``ErrorDocHelper`` never runs: it GETs a page from Looker's CDN with no timeout on every error,
  which hangs offline runners.
- ``urllib3.Retry`` on the SDK's ``requests`` session: bounded, jittered retries of 5xx and connection
  errors, and 429 back-off honouring ``Retry-After`` (capped). Non-idempotent POSTs (create a plan, run a
  plan once) are retried only on 429 and connection failures, never after a 5xx that may have done the work.
- ``LookerSession``: one batch of calls with a fresh SDK (so a fresh login: API tokens cannot be refreshed
  and the SDK never retries a 401), a token check before each poll round, and a logout at the end.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
from collections.abc import Collection, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import looker_sdk
import requests
from looker_sdk.rtl import api_settings, transport
from looker_sdk.rtl.auth_session import AuthSession
from looker_sdk.rtl.auth_token import AuthToken
from looker_sdk.rtl.requests_transport import NullAuth, RequestsTransport
from looker_sdk.sdk.api40.methods import Looker40SDK
from requests.adapters import HTTPAdapter
from typing_extensions import override
from urllib3.util.retry import Retry

from target_looker_stage.looker.settings import LookerSettings

LOGGER = logging.getLogger("target_looker_stage.looker")
API_PREFIX = "/api/4.0"
LOGIN_PATH = f"{API_PREFIX}/login"
#: POST endpoints whose repetition is harmless, so a 5xx may be retried (a login only mints a token).
SAFE_POST_PREFIXES = (LOGIN_PATH,)
#: PDT calls: Looker answers its generic 500 "An error has occurred." for a view that is not a persisted
#: derived table, so a 5xx there is retried once, not four times (a status poll is repeated next round).
PDT_PREFIX = f"{API_PREFIX}/derived_table/"
PDT_STATUS_RETRIES = 1
USER_AGENT_SOURCE = "target-looker-stage"


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds for retries; the defaults ride out a Looker restart (~30 s) without stalling a run for long."""

    retries: int = 4
    connect_retries: int = 2
    backoff_factor: float = 1.0
    backoff_max: float = 15.0
    jitter: float = 1.0
    retry_after_max: int = 60


DEFAULT_RETRY = RetryPolicy()


class LookerRetry(Retry):
    """``urllib3.Retry`` that also retries 429 on every method: a throttled request was not processed."""

    @override
    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 429:
            return bool(self.total)
        return super().is_retry(method, status_code, has_retry_after)

    @override
    def parse_retry_after(self, retry_after: str) -> float:
        """Also fractional seconds (``0.5``), which urllib3 would reject as an invalid header."""
        try:
            return min(max(float(retry_after), 0.0), float(self.retry_after_max))
        except ValueError:
            return super().parse_retry_after(retry_after)


def _retry(policy: RetryPolicy, methods: Collection[str]) -> LookerRetry:
    return LookerRetry(
        total=policy.retries,
        connect=policy.connect_retries,
        read=1,
        status=policy.retries,
        other=0,
        allowed_methods=frozenset(methods),
        status_forcelist=frozenset({429, 500, 502, 503, 504}),
        backoff_factor=policy.backoff_factor,
        backoff_max=policy.backoff_max,
        backoff_jitter=policy.jitter,
        respect_retry_after_header=True,
        retry_after_max=policy.retry_after_max,
        raise_on_status=False,
        raise_on_redirect=False,
    )


@dataclass
class CallStats:
    """What a batch cost: HTTP requests sent (retries included), successful logins, retries, 429s."""

    calls: int = 0
    logins: int = 0
    retries: int = 0
    throttled: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "calls": self.calls,
            "logins": self.logins,
            "retries": self.retries,
            "throttled": self.throttled,
        }


class Redactor:
    """Replaces every known secret in text shown to a user (Looker may echo a request in an error)."""

    def __init__(self, secrets: Collection[str]) -> None:
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


@dataclass
class LookerCallError(Exception):
    """A classified Looker failure. ``kind``: auth, forbidden, not_found, throttled, server, unreachable,
    rejected (other 4xx). ``detail`` is Looker's own message, one line, secrets redacted."""

    kind: str
    method: str
    path: str
    status: int | None = None
    detail: str = ""
    retries: int = 0
    fields: tuple[str, ...] = field(default=())

    @override
    def __str__(self) -> str:
        return self.describe()

    @property
    def aborts_batch(self) -> bool:
        """A failure every later call would repeat: stop the batch and say it once."""
        return self.kind in ("auth", "unreachable")

    def describe(self, subject: str = "") -> str:
        """One line: what happened and what to do. ``subject`` names the item for a 404."""
        retried = (
            f" after {self.retries} {'retry' if self.retries == 1 else 'retries'}" if self.retries else ""
        )
        detail = f": {self.detail}" if self.detail else ""
        if self.kind == "auth" and self.path == LOGIN_PATH:
            return (
                f"Looker rejected the API credentials (HTTP {self.status} on login){detail}; "
                "check looker_client_id and looker_client_secret (the API keys of a Looker user)"
            )
        if self.kind == "auth":
            return f"Looker did not accept the session token (HTTP {self.status}){detail}; run again"
        if self.kind == "forbidden":
            return (
                f"forbidden (HTTP 403){detail}; give the Looker user of looker_client_id the permission "
                "(PDT builds need 'develop' and 'Enable PDT API Control' on the connection)"
            )
        if self.kind == "not_found":
            what = f" {subject}" if subject else ""
            return f"not found in Looker (HTTP 404){detail};{what or ' check the name in the settings'}"
        if self.kind == "throttled":
            return f"Looker kept throttling (HTTP 429){retried}, honouring Retry-After; run again later"
        if self.kind == "server":
            return f"Looker answered HTTP {self.status}{retried}{detail}"
        if self.kind == "unreachable":
            return f"cannot reach Looker{retried}{detail}; check looker_base_url and the network"
        extra = f" ({'; '.join(self.fields)})" if self.fields else ""
        return f"Looker rejected the request (HTTP {self.status}){detail}{extra}"


def classify(status: int, path: str) -> str:
    if status in (401, 403) and path == LOGIN_PATH:
        return "auth"
    if status == 404 and path == LOGIN_PATH:
        return "auth"  # Looker answers 404 "Not found" for unknown API keys on /login
    if status == 401:
        return "auth"
    if status == 403:
        return "forbidden"
    if status == 404:
        return "not_found"
    if status == 429:
        return "throttled"
    if status >= 500:
        return "server"
    return "rejected"


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else f"{line[: limit - 3]}..."


def _error_body(content: bytes) -> tuple[str, tuple[str, ...]]:
    """Looker's ``message`` and its 422 ``errors`` (``field: message``); not the raw body."""
    try:
        body = json.loads(content.decode("utf-8", "replace"))
    except ValueError:
        return "", ()
    if not isinstance(body, dict):
        return "", ()
    message = str(body.get("message") or "")
    fields = tuple(
        f"{e.get('field', '')}: {e.get('message', '')}".strip(": ")
        for e in body.get("errors") or ()
        if isinstance(e, dict)
    )
    return message, fields


def _unreachable_reason(exc: requests.RequestException, timeout: int) -> str:
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS certificate not trusted (looker_verify_ssl: false only for a test instance)"
    if isinstance(exc, requests.exceptions.Timeout):
        return f"no answer within looker_timeout_seconds ({timeout}s)"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "connection failed (refused, reset or unknown host)"
    return type(exc).__name__


class LookerTransport(RequestsTransport):
    """The SDK's requests transport, raising ``LookerCallError`` for every failure and counting calls."""

    def __init__(
        self,
        settings: transport.PTransportSettings,
        session: requests.Session,
        *,
        redact: Redactor,
        stats: CallStats,
        policy: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        super().__init__(settings, session)
        self.redact = redact
        self.stats = stats
        self.policy = policy
        #: The SDK's AuthSession, set by ``build_sdk``: cleared after a 401 so the next call logs in again.
        self.auth: AuthSession | None = None
        self._prefix_length = len(settings.base_url)

    @override
    def request(
        self,
        method: transport.HttpMethod,
        path: str,
        query_params: MutableMapping[str, str] | None = None,
        body: bytes | None = None,
        authenticator: transport.TAuthenticator = None,
        transport_options: transport.TransportOptions | None = None,
    ) -> transport.Response:
        headers: dict[str, str] = {}
        timeout: int = self.settings.timeout
        if authenticator:
            headers.update(authenticator(transport_options or {}))  # may log in first (its own request)
        if transport_options:
            headers.update(transport_options.get("headers") or {})
            timeout = transport_options.get("timeout") or timeout
        api_path = path[self._prefix_length :] if path.startswith(self.settings.base_url) else path
        send = (method.name, path, api_path, query_params, body, timeout)
        response = self._send(*send, headers)
        if response.status_code == 401 and authenticator and self.auth is not None and api_path != LOGIN_PATH:
            # Looker ended the token before its expires_in (a restart, a revoked key): one fresh login.
            LOGGER.info("looker: Looker refused the session token (HTTP 401); logging in again")
            self.auth.token = AuthToken()
            headers.update(authenticator(transport_options or {}))
            response = self._send(*send, headers)
        history = _history(response)
        if not response.ok:
            message, fields = _error_body(response.content)
            raise LookerCallError(
                classify(response.status_code, api_path),
                method.name,
                api_path,
                status=response.status_code,
                detail=_one_line(self.redact(message)),
                retries=len(history),
                fields=tuple(_one_line(self.redact(f), 120) for f in fields[:3]),
            )
        if api_path == LOGIN_PATH:
            self.stats.logins += 1
        result = transport.Response(
            True, response.content, transport.response_mode(response.headers.get("content-type"))
        )
        encoding = requests.utils.get_encoding_from_headers(response.headers)
        if encoding:
            result.encoding = encoding
        return result

    def _send(  # noqa: PLR0917 (one request, as the SDK hands it over)
        self,
        method: str,
        path: str,
        api_path: str,
        query_params: MutableMapping[str, str] | None,
        body: bytes | None,
        timeout: int,
        headers: dict[str, str],
    ) -> requests.Response:
        """One request through the retrying session; the tries it took are counted in ``stats``."""
        LOGGER.debug("looker: %s %s", method, api_path)
        self.stats.calls += 1
        try:
            response = self.session.request(
                method,
                path,
                auth=NullAuth(),
                params=query_params,
                data=body,
                headers=headers,
                timeout=timeout,
            )
        except requests.RequestException as exc:
            tries = 1 + _retries_before(exc, method, self.policy)
            self.stats.calls += tries - 1
            self.stats.retries += tries - 1
            reason = self.redact(_unreachable_reason(exc, timeout))
            raise LookerCallError("unreachable", method, api_path, detail=reason, retries=tries - 1) from None
        history = _history(response)
        self.stats.calls += len(history)
        self.stats.retries += len(history)
        self.stats.throttled += sum(1 for h in history if h.status == 429) + (response.status_code == 429)
        return response


def _history(response: requests.Response) -> tuple[Any, ...]:
    """urllib3's record of the failed tries behind this response (429s and 5xx that were retried)."""
    return tuple(getattr(getattr(response.raw, "retries", None), "history", ()) or ())


def _retries_before(exc: requests.RequestException, method: str, policy: RetryPolicy) -> int:
    """How many retries urllib3 made before raising (its MaxRetryError does not carry them): all connect
    retries for a refused or timed-out connection, the one read retry for an idempotent read timeout."""
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return 1 if method != "POST" else 0
    if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
        return policy.connect_retries
    return 0


class CodeSettings(api_settings.ApiSettings):
    """The SDK's settings from the target's config: every value a string, no ini file, no environment."""

    def __init__(self, settings: LookerSettings) -> None:
        self._looker = settings
        # filename "" : the SDK opens no looker.ini; env_prefix None: no LOOKERSDK_* overrides.
        super().__init__(filename="", sdk_version=looker_sdk.sdk.constants.sdk_version, env_prefix=None)

    @override
    def read_config(self) -> api_settings.SettingsConfig:
        config = super().read_config()
        config["base_url"] = self._looker.base_url
        config["client_id"] = self._looker.client_id
        config["client_secret"] = self._looker.client_secret
        config["verify_ssl"] = "true" if self._looker.verify_ssl else "false"
        config["timeout"] = str(self._looker.timeout_seconds)
        return config


def make_session(policy: RetryPolicy, base_url: str) -> requests.Session:
    """A requests session with the retry adapters mounted (the longest matching prefix wins)."""
    session = requests.Session()
    idempotent = {"GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}
    session.mount(base_url, HTTPAdapter(max_retries=_retry(policy, idempotent)))
    for prefix in SAFE_POST_PREFIXES:
        session.mount(f"{base_url}{prefix}", HTTPAdapter(max_retries=_retry(policy, {*idempotent, "POST"})))
    pdt = replace(policy, retries=min(policy.retries, PDT_STATUS_RETRIES))
    session.mount(f"{base_url}{PDT_PREFIX}", HTTPAdapter(max_retries=_retry(pdt, idempotent)))
    return session


def build_sdk(
    settings: LookerSettings, *, policy: RetryPolicy = DEFAULT_RETRY, stats: CallStats | None = None
) -> Looker40SDK:
    """A new SDK with no token yet: its first call logs in."""
    api = CodeSettings(settings)
    api.is_configured()  # type: ignore[no-untyped-call]
    http = LookerTransport(
        api,
        make_session(policy, settings.base_url),
        redact=Redactor(settings.secrets),
        stats=stats or CallStats(),
        policy=policy,
    )
    http.auth = AuthSession(api, http, looker_sdk.rtl.serialize.deserialize40, "4.0")
    return Looker40SDK(
        http.auth,
        looker_sdk.rtl.serialize.deserialize40,
        looker_sdk.rtl.serialize.serialize40,
        http,
        "4.0",
    )


class LookerSession:
    """One batch of calls: a fresh login, a token checked before it can expire, a logout at the end."""

    def __init__(
        self, settings: LookerSettings, *, policy: RetryPolicy = DEFAULT_RETRY, stats: CallStats | None = None
    ) -> None:
        self.settings = settings
        self.stats = stats or CallStats()
        self.sdk = build_sdk(settings, policy=policy, stats=self.stats)

    def ensure_fresh(self, margin_seconds: float = 60.0) -> None:
        """Before a round of calls that may come late (a PDT poll): if the token expires within the margin
        (or a quarter of its life, for short-lived tokens), log out so the next call logs in afresh."""
        token: AuthToken = self.sdk.auth.token
        if not token.access_token:
            return
        margin = min(margin_seconds, max(1.0, token.expires_in / 4))
        if token.expires_at - dt.datetime.now() <= dt.timedelta(seconds=margin):
            self.logout()

    def logout(self) -> None:
        """Revoke the token while it is still alive on Looker's side (the SDK's own ``logout`` skips a token
        its clock already counts as expired, i.e. within 10 s of the end, and so every short-lived one).
        Best effort: a failed logout only leaves a token that expires by itself."""
        token: AuthToken = self.sdk.auth.token
        self.sdk.auth.token = AuthToken()
        alive_until = token.expires_at + dt.timedelta(seconds=token.lag_time)
        if not token.access_token or alive_until <= dt.datetime.now():
            return
        try:
            self.sdk.transport.request(
                transport.HttpMethod.DELETE,
                f"{self.settings.base_url}/api/logout",
                authenticator=lambda _options: {"Authorization": f"Bearer {token.access_token}"},
            )
        except LookerCallError as exc:
            LOGGER.debug("looker: logout failed: %s", exc.describe())

    @contextmanager
    def batch(self) -> Iterator[Looker40SDK]:
        try:
            yield self.sdk
        finally:
            self.logout()


def jittered(seconds: float) -> float:
    """A poll delay with +-20% jitter, so parallel runs do not poll in lockstep."""
    return seconds * random.uniform(0.8, 1.2)
