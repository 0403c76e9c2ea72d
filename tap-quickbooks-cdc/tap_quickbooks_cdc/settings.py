"""The tap's settings: their JSON schema (shown by `--about`) and their validated, typed form."""

from __future__ import annotations

import datetime
import decimal
import hashlib
import typing as t
from dataclasses import dataclass

from singer_sdk import typing as th

from tap_quickbooks_cdc.errors import ConfigError

PRODUCTION_API = "https://quickbooks.api.intuit.com"
SANDBOX_API = "https://sandbox-quickbooks.api.intuit.com"
INTUIT_TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"  # noqa: S105 - a URL
DEFAULT_TOKEN_STORE = ".secrets/qbo_tokens.json"  # noqa: S105 - a path

COMPANY = th.ObjectType(
    th.Property("realm_id", th.StringType, required=True, description="The company's realmId."),
    th.Property(
        "refresh_token",
        th.StringType,
        required=True,
        secret=True,
        description="Seed refresh token from connecting the company; the token store keeps the rotated ones.",
    ),
)

CONFIG_SCHEMA: dict[str, t.Any] = th.PropertiesList(
    th.Property("client_id", th.StringType, description="Intuit app client ID (required)."),
    th.Property(
        "client_secret", th.StringType, secret=True, description="Intuit app client secret (required)."
    ),
    th.Property(
        "companies",
        th.ArrayType(COMPANY),
        description="Companies to sync: [{realm_id, refresh_token}]; each realm is one state partition.",
    ),
    th.Property(
        "realm_id", th.StringType, description="Single-company shorthand for `companies`: the realmId."
    ),
    th.Property(
        "refresh_token",
        th.StringType,
        secret=True,
        description="Single-company shorthand for `companies`: the seed refresh token.",
    ),
    th.Property(
        "environment",
        th.StringType,
        default="production",
        allowed_values=["production", "sandbox"],
        description="Intuit environment: production (default) or sandbox.",
    ),
    th.Property("api_base_url", th.StringType, description="Override the data API host (tests, proxies)."),
    th.Property("token_url", th.StringType, description="Override the OAuth token endpoint (tests)."),
    th.Property(
        "token_store",
        th.StringType,
        default=DEFAULT_TOKEN_STORE,
        description=(
            "Where rotated refresh tokens live: a local JSON file path (written atomically, mode 0600, "
            "file-locked) or s3://bucket/key. Never the config: Meltano deletes it after each run."
        ),
    ),
    th.Property(
        "token_store_s3_endpoint_url",
        th.StringType,
        description="Override the S3 endpoint for an s3:// token_store (MinIO, moto).",
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        description="Earliest LastUpdatedTime to backfill on a realm's first sync (default: everything).",
    ),
    th.Property("minorversion", th.IntegerType, default=75, description="API minorversion (default 75)."),
    th.Property(
        "requests_per_minute",
        th.IntegerType,
        default=450,
        description="Request budget per realm per minute (Intuit allows 500).",
    ),
    th.Property(
        "max_concurrent_requests",
        th.IntegerType,
        default=4,
        description="Concurrent requests per realm (Intuit allows 10).",
    ),
    th.Property(
        "webhook_inbox",
        th.StringType,
        description="Reserved for the webhook inbox (path); read by a later version, ignored today.",
    ),
    th.Property(
        "throttle_wait_seconds",
        th.NumberType,
        default=60,
        description="Advanced: wait after an HTTP 429 without Retry-After (Intuit asks 60 s).",
    ),
    th.Property(
        "max_retries",
        th.IntegerType,
        default=6,
        description="Advanced: attempts per request for 5xx, timeouts, dropped connections and 429s.",
    ),
    th.Property(
        "retry_backoff_seconds",
        th.NumberType,
        default=1.0,
        description="Advanced: base of the jittered exponential backoff for 5xx and dropped connections.",
    ),
    th.Property(
        "request_timeout_seconds",
        th.NumberType,
        default=120,
        description="Advanced: HTTP timeout per request (Intuit ends requests at 120 s).",
    ),
    th.Property(
        "cdc_cursor_margin_seconds",
        th.IntegerType,
        default=120,
        description="Advanced: the CDC cursor is the server time of the sync start minus this margin.",
    ),
    th.Property(
        "query_only_refresh_hours",
        th.NumberType,
        default=24,
        description=(
            "Entities Intuit's CDC does not serve (TaxCode) are re-read by query at most once per this many "
            "hours after their backfill, so a quiet incremental run stays one request per company; "
            "0 = every run."
        ),
    ),
).to_dict()


@dataclass(frozen=True)
class Company:
    """One company (realm) and the seed refresh token from config."""

    realm_id: str
    seed_refresh_token: str

    @property
    def seed_fingerprint(self) -> str:
        """sha256 of the seed: tells a reconnect (new seed) from a rotated token (same seed)."""
        return hashlib.sha256(self.seed_refresh_token.encode()).hexdigest()

    def __repr__(self) -> str:
        return f"Company(realm_id={self.realm_id!r})"


@dataclass(frozen=True)
class Settings:
    """Validated settings for a sync run."""

    client_id: str
    client_secret: str
    companies: tuple[Company, ...]
    api_base_url: str
    token_url: str
    token_store: str
    token_store_s3_endpoint_url: str | None
    start_date: datetime.datetime | None
    minorversion: int
    requests_per_minute: int
    max_concurrent_requests: int
    throttle_wait_seconds: float
    max_retries: int
    retry_backoff_seconds: float
    request_timeout_seconds: float
    cdc_cursor_margin_seconds: int
    query_only_refresh_hours: float

    def __repr__(self) -> str:
        realms = [c.realm_id for c in self.companies]
        return f"Settings(realms={realms}, api_base_url={self.api_base_url!r})"


def _text(config: t.Mapping[str, t.Any], key: str, fix: str) -> str:
    value = config.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"Missing setting '{key}': {fix}")
    return value.strip()


def _companies(config: t.Mapping[str, t.Any]) -> tuple[Company, ...]:
    raw: list[t.Any] = list(config.get("companies") or [])
    if config.get("realm_id") or config.get("refresh_token"):
        raw.append({"realm_id": config.get("realm_id"), "refresh_token": config.get("refresh_token")})
    if not raw:
        raise ConfigError(
            "No company configured: set 'companies' to a list of {realm_id, refresh_token} "
            "(or 'realm_id' and 'refresh_token' for one company)."
        )
    companies: list[Company] = []
    for index, item in enumerate(raw):
        realm = item.get("realm_id") if isinstance(item, dict) else None
        token = item.get("refresh_token") if isinstance(item, dict) else None
        if not isinstance(realm, str) or not realm.strip().isdigit():
            raise ConfigError(
                f"Company #{index + 1} has no valid 'realm_id': use the numeric realmId Intuit "
                "showed when the company was connected."
            )
        if not isinstance(token, str) or not token.strip():
            raise ConfigError(
                f"Company {realm} has no 'refresh_token': paste the refresh token from connecting it."
            )
        companies.append(Company(realm.strip(), token.strip()))
    realms = [c.realm_id for c in companies]
    duplicates = sorted({r for r in realms if realms.count(r) > 1})
    if duplicates:
        raise ConfigError(f"Realm(s) {', '.join(duplicates)} configured twice: list each company once.")
    return tuple(companies)


def _positive(config: t.Mapping[str, t.Any], key: str, default: float) -> float:
    value = config.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)) or value <= 0:
        raise ConfigError(f"Setting '{key}' must be a positive number, got {value!r}.")
    return float(value)


def _start_date(config: t.Mapping[str, t.Any]) -> datetime.datetime | None:
    value = config.get("start_date")
    if not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"Setting 'start_date' is not an ISO date-time ({value!r}): use e.g. 2024-01-01T00:00:00Z."
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def _margin(config: t.Mapping[str, t.Any]) -> int:
    value = config.get("cdc_cursor_margin_seconds", 120)
    if isinstance(value, bool) or not isinstance(value, (int, decimal.Decimal)) or not 0 <= value <= 3600:
        raise ConfigError(
            f"Setting 'cdc_cursor_margin_seconds' is {value!r}: use whole seconds from 0 to 3600 "
            "(a negative margin would move the CDC cursor past unread changes)."
        )
    return int(value)


def _refresh_hours(config: t.Mapping[str, t.Any]) -> float:
    value = config.get("query_only_refresh_hours", 24)
    if value is None:
        return 24.0
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)) or value < 0:
        raise ConfigError(
            f"Setting 'query_only_refresh_hours' is {value!r}: use hours >= 0 (0 re-reads TaxCode every run)."
        )
    return float(value)


def parse_settings(config: t.Mapping[str, t.Any]) -> Settings:
    """Validate the config; raises ConfigError with a one-line problem + fix."""
    environment = config.get("environment") or "production"
    if environment not in {"production", "sandbox"}:
        raise ConfigError(f"Setting 'environment' is {environment!r}: use 'production' or 'sandbox'.")
    default_api = PRODUCTION_API if environment == "production" else SANDBOX_API
    rpm = int(_positive(config, "requests_per_minute", 450))
    concurrent = int(_positive(config, "max_concurrent_requests", 4))
    if rpm > 500:
        raise ConfigError(f"Setting 'requests_per_minute' is {rpm}: Intuit allows 500 per realm, use <= 500.")
    if concurrent > 10:
        raise ConfigError(
            f"Setting 'max_concurrent_requests' is {concurrent}: Intuit allows 10 per realm, use <= 10."
        )
    return Settings(
        client_id=_text(config, "client_id", "set it to your Intuit app's client ID."),
        client_secret=_text(config, "client_secret", "set it to your Intuit app's client secret."),
        companies=_companies(config),
        api_base_url=str(config.get("api_base_url") or default_api).rstrip("/"),
        token_url=str(config.get("token_url") or INTUIT_TOKEN_URL),
        token_store=str(config.get("token_store") or DEFAULT_TOKEN_STORE),
        token_store_s3_endpoint_url=config.get("token_store_s3_endpoint_url") or None,
        start_date=_start_date(config),
        minorversion=int(_positive(config, "minorversion", 75)),
        requests_per_minute=rpm,
        max_concurrent_requests=concurrent,
        throttle_wait_seconds=_positive(config, "throttle_wait_seconds", 60.0),
        max_retries=int(_positive(config, "max_retries", 6)),
        retry_backoff_seconds=_positive(config, "retry_backoff_seconds", 1.0),
        request_timeout_seconds=_positive(config, "request_timeout_seconds", 120.0),
        cdc_cursor_margin_seconds=_margin(config),
        query_only_refresh_hours=_refresh_hours(config),
    )
