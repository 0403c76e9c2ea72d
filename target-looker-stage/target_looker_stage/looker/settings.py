"""The ``looker_*`` settings, parsed once into frozen values.

Why our own parser on top of the JSON schema: the schema catches wrong types, but not a datagroup without
its model (``qbo_etl`` instead of ``finance::qbo_etl``), a plan with both a crontab and a datagroup, or a
``looker_refresh: after_load`` without a base URL. Each of those is a one-line error naming the setting and
the fix, raised before any record is read, never echoing a secret value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from target_looker_stage.errors import ConfigError

#: after_load: the target refreshes once at the end of its run. after_transform: the target does not; the
#: job runs `target-looker-stage-looker-refresh` after dbt has rebuilt the models Looker reads. never: off.
REFRESH_MODES = ("after_load", "after_transform", "never")
FAILURE_MODES = ("warn", "fail")
WORKSPACES = ("production", "dev")
DESTINATION_TYPES = ("email", "webhook", "s3", "sftp")
PLAN_CONTENT_KEYS = ("dashboard_id", "look_id", "lookml_dashboard_id")
#: Every setting this module reads; any of them set means the user meant to configure Looker.
SETTING_NAMES = (
    "looker_base_url",
    "looker_client_id",
    "looker_client_secret",
    "looker_verify_ssl",
    "looker_timeout_seconds",
    "looker_datagroups",
    "looker_pdts",
    "looker_pdt_timeout_seconds",
    "looker_scheduled_plans",
    "looker_refresh",
    "looker_failure",
    "looker_refresh_when_idle",
    "looker_sql_runner_connection",
)


@dataclass(frozen=True)
class DatagroupSpec:
    model: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.model}::{self.name}"


@dataclass(frozen=True)
class PdtSpec:
    model: str
    view: str
    force_rebuild: bool = False
    workspace: str = "production"

    @property
    def label(self) -> str:
        return f"{self.model}/{self.view}"


@dataclass(frozen=True)
class DestinationSpec:
    type: str
    format: str
    address: str
    #: Sorted (key, value) pairs: hashable and order-independent, like the JSON object Looker stores.
    parameters: tuple[tuple[str, Any], ...] = ()
    secret_parameters: tuple[tuple[str, Any], ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class PlanSpec:
    name: str
    content_key: str
    content_id: str
    crontab: str | None = None
    datagroup: str | None = None
    timezone: str | None = None
    enabled: bool | None = None
    run_once_after_load: bool = False
    force_update: bool = False
    destinations: tuple[DestinationSpec, ...] = ()


@dataclass(frozen=True)
class LookerSettings:
    enabled: bool
    #: Why the refresh is off (logged once), or "" when it is on.
    off_reason: str = ""
    #: One of REFRESH_MODES; the target refreshes at the end of its run only for after_load.
    mode: str = "after_load"
    base_url: str = ""
    client_id: str = field(default="", repr=False)
    client_secret: str = field(default="", repr=False)
    verify_ssl: bool = True
    timeout_seconds: int = 120
    datagroups: tuple[DatagroupSpec, ...] = ()
    pdts: tuple[PdtSpec, ...] = ()
    pdt_timeout_seconds: int = 1800
    scheduled_plans: tuple[PlanSpec, ...] = ()
    failure: str = "warn"
    refresh_when_idle: bool = False
    sql_runner_connection: str | None = None

    @property
    def has_work(self) -> bool:
        return bool(self.datagroups or self.pdts or self.scheduled_plans)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values never to appear in a log line or an error (redacted wherever Looker text is shown)."""
        values = [self.client_secret]
        for plan in self.scheduled_plans:
            for destination in plan.destinations:
                values.extend(str(v) for _, v in destination.secret_parameters)
        return tuple(v for v in values if v and len(v) >= 4)


def parse_looker_settings(config: Mapping[str, Any]) -> LookerSettings:
    """The Looker part of the target's config, validated; ConfigError (one line) for a bad value."""
    refresh = _choice(config, "looker_refresh", REFRESH_MODES, None)
    base_url = str(config.get("looker_base_url") or "").strip().rstrip("/")
    connection = config.get("looker_sql_runner_connection")
    if connection and not base_url:
        _fail("looker_sql_runner_connection is set but looker_base_url is not: set both")
    if refresh == "never" and not connection:
        return LookerSettings(enabled=False, off_reason="looker_refresh is 'never'")
    if not base_url:
        # after_transform without a URL stays off: the load does nothing in that mode, and the refresh step
        # after dbt says it is off (an environment without Looker keeps one job definition).
        if refresh == "after_load":
            _fail(
                "looker_refresh is 'after_load' but looker_base_url is not set: set it (https://<instance>)"
            )
        return LookerSettings(enabled=False, off_reason="looker_base_url is not set")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        _fail("looker_base_url must be http(s)://host[:port] (the instance URL, without /api/4.0)")
    if parts.path.rstrip("/").endswith(("/api/4.0", "/api")):
        _fail("looker_base_url must not include /api/4.0: give the instance URL only")
    client_id = str(config.get("looker_client_id") or "")
    client_secret = str(config.get("looker_client_secret") or "")
    missing = [
        n for n, v in (("looker_client_id", client_id), ("looker_client_secret", client_secret)) if not v
    ]
    if missing:
        _fail(
            f"{' and '.join(missing)} not set: use the API keys (Admin > Users > Edit keys) of a Looker user"
        )
    return LookerSettings(
        enabled=refresh != "never",
        off_reason="looker_refresh is 'never'" if refresh == "never" else "",
        mode=refresh or "after_load",
        base_url=base_url,
        client_id=client_id,
        client_secret=client_secret,
        verify_ssl=_boolean(config, "looker_verify_ssl", default=True),
        timeout_seconds=_positive_int(config, "looker_timeout_seconds", 120),
        datagroups=tuple(_datagroup(item, i) for i, item in enumerate(_items(config, "looker_datagroups"))),
        pdts=tuple(_pdt(item, i) for i, item in enumerate(_items(config, "looker_pdts"))),
        pdt_timeout_seconds=_positive_int(config, "looker_pdt_timeout_seconds", 1800),
        scheduled_plans=_plans(_items(config, "looker_scheduled_plans")),
        failure=_choice(config, "looker_failure", FAILURE_MODES, "warn") or "warn",
        refresh_when_idle=_boolean(config, "looker_refresh_when_idle", default=False),
        sql_runner_connection=str(connection) if connection else None,
    )


def _fail(message: str) -> None:
    raise ConfigError(message)


def _choice(config: Mapping[str, Any], name: str, allowed: Sequence[str], default: str | None) -> str | None:
    value = config.get(name)
    if value is None or value == "":
        return default
    if value not in allowed:
        _fail(f"{name} must be one of {', '.join(allowed)} (got {str(value)[:40]!r})")
    return str(value)


def _boolean(config: Mapping[str, Any], name: str, *, default: bool) -> bool:
    value = config.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    _fail(f"{name} must be true or false")
    return default


def _positive_int(config: Mapping[str, Any], name: str, default: int) -> int:
    value = config.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if isinstance(value, bool) or number <= 0 or str(number) != str(value).strip():
        _fail(f"{name} must be a whole number of seconds above 0 (got {str(value)[:20]!r})")
    return number


def _items(config: Mapping[str, Any], name: str) -> list[Any]:
    """A list setting; a JSON string (from an environment variable) is accepted too."""
    value = config.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            _fail(f"{name} must be a list (YAML list in meltano.yml, or a JSON array)")
    if not isinstance(value, list):
        _fail(f"{name} must be a list (YAML list in meltano.yml, or a JSON array)")
    return list(value)


def _text(item: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    value = item.get(key)
    if value is None or value == "":
        if required:
            _fail(f"{where}: '{key}' is required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        _fail(f"{where}: '{key}' must be a string")
    return str(value).strip()


def _flag(item: Mapping[str, Any], key: str, where: str, default: bool | None) -> bool | None:
    value = item.get(key, default)
    if value is None or isinstance(value, bool):
        return value
    _fail(f"{where}: '{key}' must be true or false")
    return default


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        _fail(f"{where} must be a mapping (YAML object)")
    return value  # type: ignore[no-any-return]


def _datagroup(item: Any, index: int) -> DatagroupSpec:
    where = f"looker_datagroups[{index}]"
    if not isinstance(item, str) or item.count("::") != 1 or not all(p.strip() for p in item.split("::")):
        _fail(f"{where} must be 'model::datagroup' (e.g. 'finance::qbo_etl')")
    model, name = (p.strip() for p in str(item).split("::"))
    return DatagroupSpec(model, name)


def _pdt(item: Any, index: int) -> PdtSpec:
    where = f"looker_pdts[{index}]"
    item = _mapping(item, where)
    unknown = set(item) - {"model", "view", "force_rebuild", "workspace"}
    if unknown:
        _fail(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
            "known: model, view, force_rebuild, workspace"
        )
    workspace = _text(item, "workspace", where, required=False) or "production"
    if workspace not in WORKSPACES:
        _fail(f"{where}: 'workspace' must be production or dev")
    return PdtSpec(
        model=str(_text(item, "model", where)),
        view=str(_text(item, "view", where)),
        force_rebuild=bool(_flag(item, "force_rebuild", where, False)),
        workspace=workspace,
    )


def _plans(items: list[Any]) -> tuple[PlanSpec, ...]:
    plans = tuple(_plan(item, i) for i, item in enumerate(items))
    names = [p.name for p in plans]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        _fail(f"looker_scheduled_plans: name {duplicates[0]!r} is declared twice; plan names must be unique")
    return plans


_PLAN_KEYS = {
    *PLAN_CONTENT_KEYS,
    "name",
    "crontab",
    "datagroup",
    "timezone",
    "enabled",
    "run_once_after_load",
    "force_update",
    "destinations",
}


def _plan(item: Any, index: int) -> PlanSpec:
    where = f"looker_scheduled_plans[{index}]"
    item = _mapping(item, where)
    name = str(_text(item, "name", where))
    where = f"looker_scheduled_plans[{index}] ({name[:60]!r})"
    unknown = set(item) - _PLAN_KEYS
    if unknown:
        _fail(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    content = [k for k in PLAN_CONTENT_KEYS if item.get(k) not in (None, "")]
    if len(content) != 1:
        _fail(f"{where}: give exactly one of {', '.join(PLAN_CONTENT_KEYS)}")
    crontab = _text(item, "crontab", where, required=False)
    datagroup = _text(item, "datagroup", where, required=False)
    if bool(crontab) == bool(datagroup):
        _fail(f"{where}: give either 'crontab' or 'datagroup' (not both, not neither)")
    destinations = item.get("destinations")
    if not isinstance(destinations, list) or not destinations:
        _fail(f"{where}: 'destinations' must be a non-empty list")
    return PlanSpec(
        name=name,
        content_key=content[0],
        content_id=str(_text(item, content[0], where)),
        crontab=crontab,
        datagroup=datagroup,
        timezone=_text(item, "timezone", where, required=False),
        enabled=_flag(item, "enabled", where, None),
        run_once_after_load=bool(_flag(item, "run_once_after_load", where, False)),
        force_update=bool(_flag(item, "force_update", where, False)),
        destinations=tuple(_destination(d, f"{where} destinations[{i}]") for i, d in enumerate(destinations)),
    )


def _destination(item: Any, where: str) -> DestinationSpec:
    item = _mapping(item, where)
    unknown = set(item) - {"type", "format", "address", "parameters", "secret_parameters"}
    if unknown:
        _fail(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    kind = str(_text(item, "type", where))
    if kind not in DESTINATION_TYPES:
        _fail(f"{where}: 'type' must be one of {', '.join(DESTINATION_TYPES)}")
    return DestinationSpec(
        type=kind,
        format=str(_text(item, "format", where)),
        address=str(_text(item, "address", where)),
        parameters=_pairs(item.get("parameters"), f"{where} parameters"),
        secret_parameters=_pairs(item.get("secret_parameters"), f"{where} secret_parameters"),
    )


def _pairs(value: Any, where: str) -> tuple[tuple[str, Any], ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    mapping = _mapping(value, where)
    return tuple(sorted((str(k), v) for k, v in mapping.items()))
