"""The tap's exceptions: each message is one line saying the problem and the fix, never a secret."""

from __future__ import annotations


class QboTapError(Exception):
    """Base class for every error this tap raises on purpose."""


class ConfigError(QboTapError):
    """A setting is missing or invalid."""


class TokenStoreError(QboTapError):
    """The refresh-token store cannot be read or written."""


class RealmError(QboTapError):
    """A problem confined to one company (realm): the other realms still sync."""

    def __init__(self, realm_id: str, message: str) -> None:
        super().__init__(f"realm {realm_id}: {message}")
        self.realm_id = realm_id
        self.detail = message


class ReconnectRequiredError(RealmError):
    """The refresh token was revoked, expired or already spent: the company must be reconnected."""


class RealmTokenStoreError(RealmError, TokenStoreError):
    """The token store failed a realm's refresh (unreadable, unwritable, or a rotated token was rescued)."""


class RealmAccessError(RealmError):
    """The API refuses this company (unknown realm, app not authorized, bad credentials after a refresh)."""


class ApiError(RealmError):
    """The API answered with a Fault, a malformed body, or kept failing after every retry."""


class StaleObjectError(ApiError):
    """QBO refused a write because its SyncToken is no longer the record's current one (Fault 5010)."""


class CdcWindowError(ApiError):
    """changedSince lies outside CDC's look-back window."""


class CdcOverflowError(Exception):
    """Internal: more than 1000 changes of one entity share one timestamp; CDC cannot page past them."""


class RetryableError(Exception):
    """Internal: a failure worth retrying with jittered backoff (5xx, 6002, dropped connection, bad JSON)."""


class ThrottledError(Exception):
    """Internal: HTTP 429 or a throttle Fault; retried after `wait_seconds`."""

    def __init__(self, wait_seconds: float, message: str) -> None:
        super().__init__(message)
        self.wait_seconds = wait_seconds


class AccessTokenRejectedError(Exception):
    """Internal: HTTP 401 / Fault 3200: the access token is no longer accepted."""
