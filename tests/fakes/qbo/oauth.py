"""The OAuth 2.0 authority: connecting a company (authorization codes), rotating refresh tokens per company
and short-lived access tokens."""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

REFRESH_TTL = 8_726_400  # about 101 days, extended on every use
HARD_TTL = 5 * 365 * 86_400
CODE_TTL = 600  # Intuit: an authorization code lives about 10 minutes and works once


@dataclass
class _Refresh:
    realm_id: str
    expires_at: float
    hard_expires_at: float


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    realm_id: str
    expires_at: float
    used: bool = False


@dataclass
class TokenResult:
    """HTTP status and JSON body of a token endpoint answer."""

    status: int
    body: dict[str, Any]


class TokenAuthority:
    """Issues and checks tokens. ``now`` is the simulator clock (wall clock plus any offset)."""

    def __init__(
        self, client_id: str, client_secret: str, access_ttl: float, now: Callable[[], float]
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_ttl = access_ttl
        self._now = now
        self._lock = threading.Lock()
        self._refresh: dict[str, _Refresh] = {}
        self._current: dict[str, str] = {}
        self._access: dict[str, tuple[str, float]] = {}
        self._codes: dict[str, _Code] = {}
        # The redirect URIs registered on the Intuit app; None accepts any (Intuit needs an exact match).
        self.redirect_uris: set[str] | None = None

    def enroll(self, realm_id: str) -> str:
        """Connect a company: issue its first refresh token."""
        with self._lock:
            now = self._now()
            return self._issue_refresh(realm_id, now, now + HARD_TTL)

    def _issue_refresh(self, realm_id: str, now: float, hard_expires_at: float) -> str:
        token = f"RT1-{secrets.token_urlsafe(24)}"
        old = self._current.get(realm_id)
        if old is not None:
            self._refresh.pop(old, None)
        self._refresh[token] = _Refresh(realm_id, min(now + REFRESH_TTL, hard_expires_at), hard_expires_at)
        self._current[realm_id] = token
        return token

    def current_refresh_token(self, realm_id: str) -> str:
        with self._lock:
            return self._current[realm_id]

    def revoke(self, realm_id: str) -> None:
        """Disconnect a company: every refresh and access token of it stops working."""
        with self._lock:
            for token in [t for t, r in self._refresh.items() if r.realm_id == realm_id]:
                del self._refresh[token]
            for token in [t for t, (realm, _) in self._access.items() if realm == realm_id]:
                del self._access[token]
            self._current[realm_id] = f"revoked-{secrets.token_hex(4)}"

    def _client_ok(self, authorization: str | None) -> bool:
        if not authorization or not authorization.lower().startswith("basic "):
            return False
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        client_id, _, secret = decoded.partition(":")
        return secrets.compare_digest(client_id, self.client_id) and secrets.compare_digest(
            secret, self.client_secret
        )

    def authorize(self, client_id: str, redirect_uri: str, realm_id: str) -> str:
        """The user clicked Connect for ``realm_id``: a single-use code bound to client and redirect URI."""
        code = f"AB11sim{secrets.token_urlsafe(24)}"
        with self._lock:
            now = self._now()
            for stale in [c for c, entry in self._codes.items() if entry.expires_at <= now]:
                del self._codes[stale]
            self._codes[code] = _Code(client_id, redirect_uri, realm_id, now + CODE_TTL)
        return code

    def client_known(self, client_id: str) -> bool:
        return secrets.compare_digest(client_id, self.client_id)

    def redirect_allowed(self, redirect_uri: str) -> bool:
        return self.redirect_uris is None or redirect_uri in self.redirect_uris

    def exchange(self, authorization: str | None, form: dict[str, str], include_hard: bool) -> TokenResult:
        """Handle ``grant_type=refresh_token`` (rotate the refresh token) and ``authorization_code``
        (connect: the code's first refresh token); both mint an access token."""
        if not self._client_ok(authorization):
            return TokenResult(401, {"error": "invalid_client"})
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return self._exchange_code(form, include_hard)
        if grant != "refresh_token":
            return TokenResult(400, {"error": "unsupported_grant_type"})
        with self._lock:
            now = self._now()
            record = self._refresh.get(form.get("refresh_token", ""))
            if record is None or record.expires_at <= now:
                return TokenResult(
                    400, {"error": "invalid_grant", "error_description": "Incorrect or invalid refresh token"}
                )
            new_refresh = self._issue_refresh(record.realm_id, now, record.hard_expires_at)
            return self._grant(record.realm_id, new_refresh, now, record.hard_expires_at, include_hard)

    def _exchange_code(self, form: dict[str, str], include_hard: bool) -> TokenResult:
        """A code works once, for ``CODE_TTL`` seconds, with the client and redirect URI it was issued to."""
        code, redirect_uri = form.get("code", ""), form.get("redirect_uri", "")
        if not code or not redirect_uri:
            return TokenResult(
                400, {"error": "invalid_request", "error_description": "code and redirect_uri are required"}
            )
        with self._lock:
            now = self._now()
            entry = self._codes.get(code)
            if entry is None or entry.used or entry.expires_at <= now:
                return TokenResult(400, {"error": "invalid_grant", "error_description": "Invalid code"})
            entry.used = True
            if entry.client_id != self.client_id or entry.redirect_uri != redirect_uri:
                return TokenResult(
                    400, {"error": "invalid_grant", "error_description": "redirect_uri does not match"}
                )
            hard_expires_at = now + HARD_TTL
            new_refresh = self._issue_refresh(entry.realm_id, now, hard_expires_at)
            return self._grant(entry.realm_id, new_refresh, now, hard_expires_at, include_hard)

    def _grant(
        self, realm_id: str, refresh_token: str, now: float, hard_expires_at: float, include_hard: bool
    ) -> TokenResult:
        """Mint an access token and answer like Intuit's token endpoint (caller holds the lock)."""
        access = f"eyJsim.{secrets.token_urlsafe(32)}"
        self._access[access] = (realm_id, now + self.access_ttl)
        body: dict[str, Any] = {
            "token_type": "bearer",
            "access_token": access,
            "expires_in": int(self.access_ttl),
            "refresh_token": refresh_token,
            "x_refresh_token_expires_in": REFRESH_TTL,
        }
        if include_hard:
            body["x_refresh_token_hard_expires_in"] = int(hard_expires_at - now)
        return TokenResult(200, body)

    def check_access(self, authorization: str | None, realm_id: str) -> str:
        """``"ok"``, ``"invalid"`` (unknown or expired: 401) or ``"wrong_realm"`` (403)."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return "invalid"
        with self._lock:
            entry = self._access.get(authorization[7:].strip())
            if entry is None or entry[1] <= self._now():
                return "invalid"
            return "ok" if entry[0] == realm_id else "wrong_realm"
