"""API3 credentials and access tokens: ``/login`` issues a token that really expires, ``/logout`` ends it."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass


@dataclass
class _Token:
    expires_at: float  # monotonic seconds
    revoked: bool = False


def token_from_header(authorization: str | None, query_token: str | None = None) -> str | None:
    """The token a request carries: ``Authorization: Bearer X`` or ``token X`` (or ``?access_token=X``)."""
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() in {"bearer", "token"} and value.strip():
            return value.strip()
        return None
    return query_token or None


class TokenBook:
    """Thread-safe record of issued tokens, judged on the monotonic clock."""

    def __init__(self, client_id: str, client_secret: str, lifetime_seconds: float) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.lifetime_seconds = lifetime_seconds
        self._tokens: dict[str, _Token] = {}
        self._lock = threading.Lock()
        self.logins = 0

    def login(self, client_id: str | None, client_secret: str | None) -> tuple[str, int] | None:
        """A new token and its ``expires_in``, or None when the credentials are wrong."""
        good = secrets.compare_digest(client_id or "", self.client_id) and secrets.compare_digest(
            client_secret or "", self.client_secret
        )
        if not good:
            return None
        token = secrets.token_urlsafe(30)
        with self._lock:
            self._tokens[token] = _Token(time.monotonic() + self.lifetime_seconds)
            self.logins += 1
        return token, round(self.lifetime_seconds)

    def is_live(self, token: str | None) -> bool:
        """True when the token was issued here, is not logged out and has not expired."""
        if token is None:
            return False
        with self._lock:
            entry = self._tokens.get(token)
        return entry is not None and not entry.revoked and time.monotonic() < entry.expires_at

    def logout(self, token: str) -> None:
        with self._lock:
            entry = self._tokens.get(token)
            if entry is not None:
                entry.revoked = True

    def expire_all(self) -> None:
        """Make every issued token stop working now (as a server restart or a revoked API key would)."""
        with self._lock:
            for entry in self._tokens.values():
                entry.expires_at = min(entry.expires_at, time.monotonic())
