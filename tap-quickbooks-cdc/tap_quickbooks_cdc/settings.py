"""The tap's settings: their JSON schema (shown by `--about`) and their validated, typed form.

Every way settings arrive is checked here with one-line errors that never show a secret: the `--config`
file's JSON (`load_config_text`), `TAP_QUICKBOOKS_CDC_*` environment variables (`environment_config`),
the JSON-schema validation the SDK runs in the Tap constructor (`config_errors`, whose messages hide the
value of every setting the schema marks `secret`, or that holds one, like `companies`), and the typed
checks of `parse_settings`.
"""

from __future__ import annotations

import datetime
import decimal
import difflib
import hashlib
import math
import typing as t
from dataclasses import dataclass
from pathlib import Path

import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs
from singer_sdk import typing as th
from singer_sdk.configuration._dict_config import parse_environment_config
from singer_sdk.helpers._util import load_json
from typing_extensions import override

from tap_quickbooks_cdc.errors import ConfigError
from tap_quickbooks_cdc.shards import parse_shard, select

if t.TYPE_CHECKING:
    from collections.abc import Iterable


class ValidationError(t.Protocol):
    """What this module reads of a `jsonschema.ValidationError`."""

    validator: str
    validator_value: t.Any
    message: str
    absolute_path: t.Iterable[str | int]


PRODUCTION_API = "https://quickbooks.api.intuit.com"
SANDBOX_API = "https://sandbox-quickbooks.api.intuit.com"
INTUIT_TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"  # noqa: S105 - a URL
DEFAULT_TOKEN_STORE = ".secrets/qbo_tokens.json"  # noqa: S105 - a path

COMPANY = th.ObjectType(
    th.Property("realm_id", th.StringType, required=True, description="The company's realmId."),
    th.Property(
        "refresh_token",
        th.StringType,
        secret=True,
        description=(
            "Seed refresh token from connecting the company; the token store keeps the rotated ones. "
            "Not needed for a company connected with tap-quickbooks-cdc-connect."
        ),
    ),
)

CONFIG_SCHEMA: dict[str, t.Any] = th.PropertiesList(
    th.Property("client_id", th.StringType, description="Required: the Intuit app's client ID."),
    th.Property(
        "client_secret", th.StringType, secret=True, description="Required: the Intuit app's client secret."
    ),
    th.Property(
        "companies",
        th.ArrayType(COMPANY),
        description=(
            "Required unless companies_file or realm_id is set: the companies to sync, "
            "[{realm_id, refresh_token}]; each realm is one state partition."
        ),
    ),
    th.Property(
        "companies_file",
        th.StringType,
        description=(
            "A JSON or YAML file listing companies like 'companies' (a list, or {companies: [...]}); "
            "connected companies need no refresh_token, so the file holds no secret. Adds to 'companies'."
        ),
    ),
    th.Property(
        "company_shard",
        th.CustomType({"type": ["string", "array"], "items": {"type": "string"}}),  # "K/N" or realm IDs
        description=(
            'Sync only a shard of the companies: "K/N" (shard K of N by a hash of the realm ID: adding a '
            "company moves no other) or a list of realm IDs; give each shard its own --state-id-suffix."
        ),
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
        "token_store_adopt",
        th.BooleanType,
        default=False,
        description=(
            "Once, after moving the token store on purpose: accept a store that records another location "
            "(a copy is refused: one company needs one token store)."
        ),
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
        "max_parallel_companies",
        th.IntegerType,
        default=8,
        description=(
            "Companies whose network work (CDC call, token refresh, query pages) runs at once in a run "
            "(Intuit's limits are per company); 1 reads one company after another."
        ),
    ),
    th.Property(
        "webhook_inbox",
        th.StringType,
        secret=True,  # a postgresql:// inbox carries its password
        description=(
            "Where the webhook receiver stores verified events: a SQLite file path or postgresql://... "
            "(several receivers share one inbox)."
        ),
    ),
    th.Property(
        "cdc_min_interval_minutes",
        th.NumberType,
        default=0,
        description=(
            "With webhook_inbox: a run whose realm had a CDC pass less than this many minutes ago only "
            "drains the inbox (micro-batch); 0 = every run also reads CDC."
        ),
    ),
    th.Property(
        "webhook_verifier_token",
        th.StringType,
        secret=True,
        description="The Intuit app's webhook verifier token: checks each delivery's intuit-signature.",
    ),
    th.Property(
        "webhook_max_body_bytes",
        th.IntegerType,
        default=1048576,
        description="Largest webhook body the receiver reads (default 1 MiB); a larger one is answered 413.",
    ),
    th.Property(
        "progress_interval_seconds",
        th.NumberType,
        default=10,
        description=(
            "Seconds between progress lines (records so far and records/s per stream and realm) during "
            "long reads; 0 turns them off."
        ),
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

    @override
    def __repr__(self) -> str:
        return f"Company(realm_id={self.realm_id!r})"


#: Workers of `parallel.RealmPool`. Their time is spent waiting on Intuit (the main thread does the CPU
#: work), so more than cores helps: 8 turn an idle 200-company run from 200 round trips into 25
#: (bench/companies_parallel.py); each realm still keeps to its own 500/min and 10-at-once budget.
DEFAULT_PARALLEL_COMPANIES = 8
MAX_PARALLEL_COMPANIES = 64


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
    token_store_adopt: bool = False
    progress_interval_seconds: float = 10.0
    webhook_inbox: str | None = None
    cdc_min_interval_minutes: float = 0.0
    max_parallel_companies: int = DEFAULT_PARALLEL_COMPANIES

    @override
    def __repr__(self) -> str:
        realms = [c.realm_id for c in self.companies]
        return f"Settings(realms={realms}, api_base_url={self.api_base_url!r})"


def load_config_text(text: str, source: str) -> dict[str, t.Any]:
    """Parse a config document (JSON object, fractions as Decimal); ConfigError names `source` and the
    position of a syntax error, never the text (it holds secrets)."""
    try:
        config: object = load_json(text)  # the SDK's parser: simplejson, fractions as Decimal
    except ValueError as exc:  # simplejson.JSONDecodeError; str(exc) would be fine, exc.doc is not
        where = f" at line {getattr(exc, 'lineno', '?')} column {getattr(exc, 'colno', '?')}"
        raise ConfigError(
            f"{source} is not valid JSON ({getattr(exc, 'msg', 'syntax error')}{where}): fix it."
        ) from None
    if not isinstance(config, dict):
        raise ConfigError(f'{source} is not a JSON object: write the settings as {{"name": value, ...}}.')
    return config


def read_config_files(sources: Iterable[str]) -> dict[str, t.Any]:
    """The `--config` files merged in order (`ENV` entries skipped: the caller adds the variables); an
    unreadable or malformed file is a ConfigError line. Shared by the tap and the webhook receiver."""
    config: dict[str, t.Any] = {}
    for path in sources:
        if path == "ENV":
            continue
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"--config file {path} cannot be read ({exc.strerror}): check the path."
            ) from None
        config |= load_config_text(text, f"--config file {path}")
    return config


_COMPANIES_EXAMPLE = """TAP_QUICKBOOKS_CDC_COMPANIES='[{"realm_id": "123", "refresh_token": "..."}]'"""


def environment_config(schema: dict[str, t.Any], prefix: str) -> dict[str, t.Any]:
    """Settings from `<prefix><NAME>` environment variables, parsed as the SDK does; a value that does not
    parse (e.g. `companies` JSON with a typo) is a ConfigError naming the variable, not the value."""
    config: dict[str, t.Any] = {}
    for key, prop in schema.get("properties", {}).items():
        name = prefix + key.upper().replace("-", "_")
        try:
            config.update(parse_environment_config({"properties": {key: prop}}, prefix))
        except (ValueError, TypeError):
            fix = (
                "write a whole number"
                if "integer" in _types(prop)
                else "write JSON, e.g. " + _COMPANIES_EXAMPLE
            )
            raise ConfigError(
                f"Environment variable {name} (setting '{key}') does not parse: {fix}."
            ) from None
    return config


def _types(prop: t.Mapping[str, t.Any]) -> set[str]:
    kind = prop.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def _holds_secret(prop: object) -> bool:
    """True if this schema, or any schema nested in it, is marked `secret`."""
    if not isinstance(prop, dict):
        return False
    if prop.get("secret") is True:
        return True
    nested: list[object] = [*prop.get("properties", {}).values(), prop.get("items")]
    for combinator in ("anyOf", "oneOf", "allOf"):
        nested.extend(prop.get(combinator, []))
    return any(_holds_secret(child) for child in nested)


def _is_sensitive(schema: t.Mapping[str, t.Any], path: Iterable[str | int]) -> bool:
    """True if the value at `path` is, or sits inside, a setting that holds a secret (or is the whole
    config): its value must not be shown."""
    node: object = schema
    steps = list(path)
    if not steps:
        return True
    for step in steps:
        if not isinstance(node, dict):
            return False
        node = node.get("items") if isinstance(step, int) else node.get("properties", {}).get(step)
        if _holds_secret(node):
            return True
    return False


def _redacted(error: ValidationError) -> str:
    """What `error` says, without the offending value."""
    rule, expected = error.validator, error.validator_value
    if rule in {"required", "additionalProperties", "dependentRequired"}:
        return str(error.message)  # names keys only
    if rule == "type":
        kinds = [expected] if isinstance(expected, str) else list(expected)
        return f"is not of type {', '.join(repr(k) for k in kinds)}"
    if rule == "enum":
        return f"is not one of {expected!r}"
    return f"does not satisfy the schema's {rule!r} rule"


def config_errors(errors: Iterable[ValidationError], schema: t.Mapping[str, t.Any]) -> list[str]:
    """One message per JSON-schema validation error, like the SDK's, but the value of a setting that holds
    a secret is never shown (the SDK's messages print it: a `companies` string prints every token)."""
    messages = []
    for error in errors:
        path = list(error.absolute_path)
        where = "config" + "".join(f"[{step!r}]" for step in path)
        if _is_sensitive(schema, path):
            messages.append(f"{where} {_redacted(error)} (value not shown: it holds a secret)")
        else:
            messages.append(f"{error.message} in {where}")
    return messages


def _text(config: t.Mapping[str, t.Any], key: str, fix: str) -> str:
    value = config.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"Missing setting '{key}': {fix}")
    return value.strip()


def read_companies_file(path: str) -> list[t.Any]:
    """The company entries of a `companies_file`: JSON, or YAML (.yml/.yaml), holding a list or an object
    with a `companies` list. Errors are one line naming the file and where, never its content (a seed
    refresh token may be in it)."""
    source = f"companies_file {path}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{source} cannot be read ({exc.strerror}): check the path.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{source} is not UTF-8 text: write it as JSON or YAML.") from None
    document: object
    if path.lower().endswith((".yml", ".yaml")):
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
            raise ConfigError(f"{source} is not valid YAML{where}: fix it.") from None
    else:
        try:
            document = load_json(text)
        except ValueError as exc:
            where = f" at line {getattr(exc, 'lineno', '?')} column {getattr(exc, 'colno', '?')}"
            raise ConfigError(
                f"{source} is not valid JSON{where}: fix it (or name it .yaml for YAML)."
            ) from None
    if isinstance(document, dict) and "companies" in document:
        document = document["companies"]
    if not isinstance(document, list):
        raise ConfigError(
            f'{source} holds no list of companies: write [{{"realm_id": "123", "name": "..."}}, ...] '
            "(or an object with a 'companies' list)."
        )
    # YAML reads an unquoted realm ID as a number: it is the same ID.
    return [
        {**item, "realm_id": str(item["realm_id"])}
        if isinstance(item, dict) and type(item.get("realm_id")) is int
        else item
        for item in document
    ]


def _companies(config: t.Mapping[str, t.Any]) -> tuple[Company, ...]:
    listed = config.get("companies") or []
    if not isinstance(listed, list):
        raise ConfigError(
            'Setting \'companies\' is not a list: use [{"realm_id": "...", "refresh_token": "..."}, ...].'
        )
    raw: list[t.Any] = list(listed)
    companies_file = _optional_text(config, "companies_file", None)
    if companies_file:
        raw.extend(read_companies_file(companies_file))
    if config.get("realm_id") or config.get("refresh_token"):
        raw.append({"realm_id": config.get("realm_id"), "refresh_token": config.get("refresh_token")})
    if not raw:
        raise ConfigError(
            "No company configured: set 'companies' to a list of {realm_id, refresh_token}, or "
            "'companies_file' to a file listing them (or 'realm_id' and 'refresh_token' for one company)."
        )
    companies: list[Company] = []
    for index, item in enumerate(raw):
        realm = item.get("realm_id") if isinstance(item, dict) else None
        token = item.get("refresh_token") if isinstance(item, dict) else None
        if not isinstance(realm, str) or not (realm.strip().isascii() and realm.strip().isdigit()):
            raise ConfigError(
                f"Company #{index + 1} has no valid 'realm_id': use the numeric realmId Intuit "
                "showed when the company was connected."
            )
        if token is not None and not isinstance(token, str):
            raise ConfigError(
                f"Company {realm} has a 'refresh_token' that is not text: paste the refresh token from "
                "connecting it, or leave it out for a company connected with tap-quickbooks-cdc-connect."
            )
        companies.append(Company(realm.strip(), (token or "").strip()))  # "": the token store's token
    realms = [c.realm_id for c in companies]
    duplicates = sorted({r for r in realms if realms.count(r) > 1})
    if duplicates:
        raise ConfigError(f"Realm(s) {', '.join(duplicates)} configured twice: list each company once.")
    return tuple(companies)


def _number(value: object) -> float | None:
    """`value` as a finite float, or None if it is not a finite JSON number (booleans are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)):
        return None
    try:
        number = float(value)
    except (OverflowError, ValueError):  # ValueError: a signalling Decimal NaN
        return None
    return number if math.isfinite(number) else None


def _positive(config: t.Mapping[str, t.Any], key: str, default: float) -> float:
    value = config.get(key, default)
    if value is None:
        return default
    number = _number(value)
    if number is None or number <= 0 or number > 1e9:
        raise ConfigError(f"Setting '{key}' must be a positive number, got {value!r}.")
    return number


def _count(config: t.Mapping[str, t.Any], key: str, default: int) -> int:
    """A positive whole number of something (requests, retries, a version)."""
    value = _positive(config, key, default)
    if value < 1:
        raise ConfigError(f"Setting '{key}' must be a whole number >= 1, got {config.get(key)!r}.")
    return int(value)


def _optional_text(config: t.Mapping[str, t.Any], key: str, default: str | None) -> str | None:
    value = config.get(key)
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise ConfigError(f"Setting '{key}' must be a string, got a {type(value).__name__}.")
    return value


def _start_date(config: t.Mapping[str, t.Any]) -> datetime.datetime | None:
    value = config.get("start_date")
    if not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)
        return parsed.astimezone(datetime.UTC)
    except (ValueError, OverflowError):
        raise ConfigError(
            f"Setting 'start_date' is not an ISO date-time ({str(value)[:40]!r}): use e.g. "
            "2024-01-01T00:00:00Z."
        ) from None


def _margin(config: t.Mapping[str, t.Any]) -> int:
    value = config.get("cdc_cursor_margin_seconds", 120)
    number = _number(value) if isinstance(value, (int, decimal.Decimal)) else None
    if number is None or not 0 <= number <= 3600:
        raise ConfigError(
            f"Setting 'cdc_cursor_margin_seconds' is {value!r}: use whole seconds from 0 to 3600 "
            "(a negative margin would move the CDC cursor past unread changes)."
        )
    return int(value)


def _non_negative(config: t.Mapping[str, t.Any], key: str, default: float, fix: str) -> float:
    """A number of hours or seconds from 0 (where 0 has a meaning of its own, said in `fix`)."""
    value = config.get(key, default)
    if value is None:
        return default
    number = _number(value)
    if number is None or not 0 <= number <= 1e6:
        raise ConfigError(f"Setting '{key}' is {value!r}: {fix}.")
    return number


def _refresh_hours(config: t.Mapping[str, t.Any]) -> float:
    fix = "use hours >= 0 (0 re-reads TaxCode every run)"
    return _non_negative(config, "query_only_refresh_hours", 24.0, fix)


def _progress_interval(config: t.Mapping[str, t.Any]) -> float:
    fix = "use seconds >= 0 (0 turns progress lines off)"
    return _non_negative(config, "progress_interval_seconds", 10.0, fix)


def numbers_from_text(config: t.Mapping[str, t.Any], schema: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The number settings given as text, as numbers (exact Decimal; the rest is left to validation).

    meltano.yml declares them `kind: string`: Meltano 4.4's `decimal` kind turns a value from an environment
    variable into a Decimal its config writer cannot serialise, so every run would fail."""
    converted: dict[str, t.Any] = {}
    for key, value in config.items():
        prop = schema.get("properties", {}).get(key)
        if isinstance(value, str) and isinstance(prop, dict) and "number" in _types(prop):
            try:
                number = decimal.Decimal(value.strip())
            except decimal.InvalidOperation:
                continue
            if number.is_finite():
                converted[key] = number
    return converted


def unknown_settings(config: t.Mapping[str, t.Any], schema: t.Mapping[str, t.Any]) -> list[str]:
    """One message per top-level key the schema does not list, naming the closest known setting (a typo
    like 'companys' would otherwise be ignored and the run would fail later for the wrong reason)."""
    known = list(schema.get("properties", {}))
    messages = []
    for key in config:
        if key in known:
            continue
        name = str(key)[:60]
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else "remove it"
        messages.append(f"unknown setting '{name}'; {hint}")
    return messages


def parse_settings(config: t.Mapping[str, t.Any]) -> Settings:
    """Validate the config; raises ConfigError with a one-line problem + fix."""
    environment = config.get("environment") or "production"
    if environment not in ("production", "sandbox"):
        raise ConfigError(f"Setting 'environment' is {environment!r}: use 'production' or 'sandbox'.")
    default_api = PRODUCTION_API if environment == "production" else SANDBOX_API
    rpm = _count(config, "requests_per_minute", 450)
    concurrent = _count(config, "max_concurrent_requests", 4)
    if rpm > 500:
        raise ConfigError(f"Setting 'requests_per_minute' is {rpm}: Intuit allows 500 per realm, use <= 500.")
    if concurrent > 10:
        raise ConfigError(
            f"Setting 'max_concurrent_requests' is {concurrent}: Intuit allows 10 per realm, use <= 10."
        )
    return Settings(
        client_id=_text(config, "client_id", "set it to your Intuit app's client ID."),
        client_secret=_text(config, "client_secret", "set it to your Intuit app's client secret."),
        companies=select(_companies(config), parse_shard(config.get("company_shard"))),
        api_base_url=str(_optional_text(config, "api_base_url", default_api)).rstrip("/"),
        token_url=str(_optional_text(config, "token_url", INTUIT_TOKEN_URL)),
        token_store=str(_optional_text(config, "token_store", DEFAULT_TOKEN_STORE)),
        token_store_s3_endpoint_url=_optional_text(config, "token_store_s3_endpoint_url", None),
        start_date=_start_date(config),
        minorversion=_count(config, "minorversion", 75),
        requests_per_minute=rpm,
        max_concurrent_requests=concurrent,
        throttle_wait_seconds=_positive(config, "throttle_wait_seconds", 60.0),
        max_retries=_count(config, "max_retries", 6),
        retry_backoff_seconds=_positive(config, "retry_backoff_seconds", 1.0),
        request_timeout_seconds=_positive(config, "request_timeout_seconds", 120.0),
        cdc_cursor_margin_seconds=_margin(config),
        query_only_refresh_hours=_refresh_hours(config),
        token_store_adopt=config.get("token_store_adopt") is True,
        progress_interval_seconds=_progress_interval(config),
        webhook_inbox=_optional_text(config, "webhook_inbox", None),
        cdc_min_interval_minutes=_non_negative(
            config, "cdc_min_interval_minutes", 0.0, "use minutes >= 0 (0 reads CDC every run)"
        ),
        max_parallel_companies=_parallel_companies(config),
    )


def _parallel_companies(config: t.Mapping[str, t.Any]) -> int:
    workers = _count(config, "max_parallel_companies", DEFAULT_PARALLEL_COMPANIES)
    if workers > MAX_PARALLEL_COMPANIES:
        raise ConfigError(
            f"Setting 'max_parallel_companies' is {workers}: use at most {MAX_PARALLEL_COMPANIES} (more "
            "threads only wait on one another; split the companies with company_shard instead)."
        )
    return workers
