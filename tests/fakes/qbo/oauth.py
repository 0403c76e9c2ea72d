"""The OAuth 2.0 authority: rotating refresh tokens per company and short-lived access tokens."""

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


@dataclass
class _Refresh:
    realm_id: str
    expires_at: float
    hard_expires_at: float


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

    def exchange(self, authorization: str | None, form: dict[str, str], include_hard: bool) -> TokenResult:
        """Handle ``grant_type=refresh_token``: rotate the refresh token and mint an access token."""
        if not self._client_ok(authorization):
            return TokenResult(401, {"error": "invalid_client"})
        if form.get("grant_type") != "refresh_token":
            return TokenResult(400, {"error": "unsupported_grant_type"})
        with self._lock:
            now = self._now()
            record = self._refresh.get(form.get("refresh_token", ""))
            if record is None or record.expires_at <= now:
                return TokenResult(
                    400, {"error": "invalid_grant", "error_description": "Incorrect or invalid refresh token"}
                )
            new_refresh = self._issue_refresh(record.realm_id, now, record.hard_expires_at)
            access = f"eyJsim.{secrets.token_urlsafe(32)}"
            self._access[access] = (record.realm_id, now + self.access_ttl)
            body: dict[str, Any] = {
                "token_type": "bearer",
                "access_token": access,
                "expires_in": int(self.access_ttl),
                "refresh_token": new_refresh,
                "x_refresh_token_expires_in": REFRESH_TTL,
            }
            if include_hard:
                body["x_refresh_token_hard_expires_in"] = int(record.hard_expires_at - now)
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
