"""OAuth 2.0 for one realm: refresh the access token, persisting every rotated refresh token first.

Which refresh token to spend: the store's, unless the config seed changed since the stored token's
lineage began (a reconnect), in which case the new seed wins. A company listed without a seed (connected
with `tap-quickbooks-cdc-connect`) always spends the store's. Intuit's token answer does not say which
company a token belongs to, so a lineage is also found by its seed fingerprint: a realm without its own
entry for the config seed adopts another realm's entry from the same seed (the seed was first spent under
a mistyped realm ID, which only the data call's Fault 3201 revealed) instead of spending the dead seed
again. The store stays locked across
read-refresh-write, and a returned refresh token is written durably *before* the new access token
is used, so a crash in between cannot strand the company. The store proves it can be written before
the token is spent, and SIGTERM/SIGINT wait until the refresh and its write are done (`signals`).
"""

from __future__ import annotations

import threading
import time
import typing as t
from urllib.parse import urlsplit

import requests

from tap_quickbooks_cdc import signals
from tap_quickbooks_cdc.errors import (
    RealmAccessError,
    RealmTokenStoreError,
    ReconnectRequiredError,
    TokenStoreError,
)
from tap_quickbooks_cdc.request_metrics import log_request
from tap_quickbooks_cdc.token_store import StoredToken

if t.TYPE_CHECKING:
    import logging

    from tap_quickbooks_cdc.settings import Company, Settings
    from tap_quickbooks_cdc.token_store import TokenSlot, TokenStore

TOKEN_ATTEMPTS = 3
HARD_EXPIRY_WARNING_DAYS = 30
CONNECT = "`tap-quickbooks-cdc-connect` (or `meltano invoke tap-quickbooks-cdc:connect`)"


def hard_expiry_warning(realm_id: str, body: t.Mapping[str, t.Any]) -> str | None:
    """A warning when the refresh token's hard (about five-year) lifetime is about to end."""
    seconds = body.get("x_refresh_token_hard_expires_in")
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        return None
    days = seconds / 86_400
    if days > HARD_EXPIRY_WARNING_DAYS:
        return None
    return (
        f"realm {realm_id}: the connection's hard lifetime ends in {days:.0f} days; reconnect the "
        f"company in the Intuit app before then with {CONNECT}."
    )


class RealmAuth:
    """Holds one realm's access token and refreshes it shortly before expiry or on demand."""

    def __init__(
        self,
        company: Company,
        settings: Settings,
        store: TokenStore,
        session: requests.Session,
        logger: logging.Logger,
    ) -> None:
        self._company = company
        self._settings = settings
        self._store = store
        self._session = session
        self._logger = logger
        self._access_token: str | None = None
        self._expires_at = 0.0
        self._lifetime = 3600.0
        self._lock = threading.Lock()
        self._spending: StoredToken | None = None  # the stored entry being spent (None: the config seed)
        self.refresh_count = 0

    @property
    def realm_id(self) -> str:
        return self._company.realm_id

    def _margin(self) -> float:
        """Refresh this long before expiry: a request never starts with a token about to lapse."""
        return min(120.0, self._lifetime / 4)

    def access_token(self) -> str:
        """A valid access token, refreshing first when it expires within the safety margin.

        After SIGTERM/SIGINT it raises `signals.Terminated` instead: no new request starts."""
        signals.check()
        with self._lock:
            if self._access_token is None or time.monotonic() >= self._expires_at - self._margin():
                self._refresh()
            assert self._access_token is not None
            return self._access_token

    def invalidate(self, rejected_token: str) -> None:
        """The API refused `rejected_token` (401): the next `access_token()` refreshes."""
        with self._lock:
            if self._access_token == rejected_token:
                self._access_token = None

    def _refresh(self) -> None:
        realm = self.realm_id
        try:
            body, spend, source, new_refresh = self._refresh_and_persist()
        except TokenStoreError as exc:
            detail = str(exc)
            raise RealmTokenStoreError(realm, detail[:1].lower() + detail[1:]) from None
        if warning := hard_expiry_warning(realm, body):
            self._logger.warning("%s", warning)
        self._access_token = str(body["access_token"])
        self._lifetime = float(body.get("expires_in", 3600))
        self._expires_at = time.monotonic() + self._lifetime
        self.refresh_count += 1
        rotated = "rotated" if new_refresh != spend else "unchanged"
        self._logger.info(
            "realm %s: access token refreshed from %s (refresh token %s, expires in %.0f s)",
            realm,
            source,
            rotated,
            self._lifetime,
        )

    def _refresh_and_persist(self) -> tuple[dict[str, t.Any], str, str, str]:
        """Spend the right refresh token and store its successor: (token answer, spent, source, new)."""
        realm = self.realm_id
        with self._store.transaction(realm) as slot:  # fails before spending if the store cannot be written
            if slot.adopted_from:
                self._logger.warning(
                    "token store %s was created at %s; adopted here (token_store_adopt): remove the "
                    "setting now, so a copy of this store is refused again",
                    self._store.location,
                    slot.adopted_from,
                )
            spend, source, fingerprint = self._choose(slot)
            # A signal now waits until the token is stored: once Intuit rotated it, the old one is dead.
            with signals.critical():
                body = self._request_tokens(spend, source)
                new_refresh = str(body.get("refresh_token") or spend)
                slot.put(StoredToken(new_refresh, fingerprint))  # persist before use
        return body, spend, source, new_refresh

    def _choose(self, slot: TokenSlot) -> tuple[str, str, str]:
        """The refresh token to spend, where it comes from, and the seed fingerprint its successor keeps."""
        realm, company = self.realm_id, self._company
        stored = slot.get()
        self._spending = None
        if not company.seed_refresh_token:  # connected by tap-quickbooks-cdc-connect: only the store has one
            if stored is None:
                raise ReconnectRequiredError(
                    realm,
                    f"no refresh token: 'companies' lists this company without one and token store "
                    f"{self._store.location} has none for it: check the realm ID, or connect the company "
                    f"with {CONNECT}.",
                )
            return self._spend_stored(stored, slot), "token store", stored.seed_fingerprint
        fingerprint = company.seed_fingerprint
        if stored is not None and stored.seed_fingerprint == fingerprint:
            return self._spend_stored(stored, slot), "token store", fingerprint
        configured = {c.realm_id for c in self._settings.companies}  # never take a listed company's token
        adopted = slot.adopt(fingerprint, exclude=configured)
        if adopted is not None:
            other, token = adopted
            self._logger.warning(
                "realm %s: spending the refresh token stored under realm %s: it descends from this "
                "company's config seed (the realm ID was corrected); the entry moves to realm %s",
                realm,
                other,
                realm,
            )
            self._spending = token
            return token.refresh_token, f"token store (realm {other}'s entry)", fingerprint
        if stored is not None:
            self._logger.info("realm %s: config has a new seed refresh token (reconnected)", realm)
        return company.seed_refresh_token, "config seed", fingerprint

    def _spend_stored(self, stored: StoredToken, slot: TokenSlot) -> str:
        if slot.rescued_from:
            self._logger.warning(
                "realm %s: using the refresh token rescued to %s after a failed token store write; "
                "the store gets its successor now",
                self.realm_id,
                slot.rescued_from,
            )
        self._spending = stored
        return stored.refresh_token

    def _invalid_grant(self, source: str) -> str:
        """Why Intuit refused the token: for a stored one, when and where it was last rotated, since
        another copy of the token store spending it is the usual cause besides a disconnect."""
        spent = self._spending
        if spent is None:
            return (
                f"Intuit rejected the refresh token from the {source} (invalid_grant: revoked, expired or "
                f"already used): reconnect the company in the Intuit app with {CONNECT}; it stores the "
                "new token, so 'companies' needs no refresh token."
            )
        return (
            f"Intuit rejected the refresh token from the {source} (invalid_grant: revoked, expired or "
            f"already used); it was last rotated at {spent.updated_at or 'an unknown time'} on host "
            f"{spent.host or 'unknown'}, so unless the company was disconnected, another copy of this token "
            "store or another run with its own store spent it since (one company needs one token store): "
            f"reconnect the company in the Intuit app with {CONNECT}."
        )

    def _request_tokens(self, refresh_token: str, source: str) -> dict[str, t.Any]:
        realm = self.realm_id
        last_problem = ""
        # Each attempt is an `http_request_duration` point: the URL's path and the grant type only.
        endpoint, grant = urlsplit(self._settings.token_url).path or "/", {"grant_type": "refresh_token"}
        for attempt in range(TOKEN_ATTEMPTS):
            started = time.perf_counter()
            try:
                response = self._session.post(
                    self._settings.token_url,
                    data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                    auth=(self._settings.client_id, self._settings.client_secret),
                    headers={"Accept": "application/json", "x-include-refresh-token-hard-expires-in": "true"},
                    timeout=self._settings.request_timeout_seconds,
                )
            except requests.RequestException as exc:
                log_request(endpoint, realm, started, None, grant)
                last_problem = type(exc).__name__
                time.sleep(min(2.0**attempt, 10.0) * self._settings.retry_backoff_seconds)
                continue
            log_request(endpoint, realm, started, response.status_code, grant)
            if response.status_code >= 500 or response.status_code == 429:
                last_problem = f"HTTP {response.status_code}"
                time.sleep(min(2.0**attempt, 10.0) * self._settings.retry_backoff_seconds)
                continue
            body = _json_or_empty(response)
            if response.status_code == 200 and body.get("access_token"):
                return body
            error = str(body.get("error") or f"HTTP {response.status_code}")
            if error == "invalid_grant":
                raise ReconnectRequiredError(realm, self._invalid_grant(source))
            if error == "invalid_client" or response.status_code == 401:
                raise RealmAccessError(
                    realm,
                    f"Intuit rejected the app credentials ({error}): check 'client_id' and 'client_secret'.",
                )
            raise RealmAccessError(
                realm, f"token refresh failed ({error}): check the app and token settings."
            )
        raise RealmAccessError(
            realm,
            f"token endpoint unreachable after {TOKEN_ATTEMPTS} attempts ({last_problem}): check 'token_url' "
            "and the network, then run again.",
        )


def _json_or_empty(response: requests.Response) -> dict[str, t.Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
