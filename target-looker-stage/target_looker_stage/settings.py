"""The target's settings (names are part of the public contract: meltano.yml and docs use them).

``CONFIG_SCHEMA`` is the one place a setting's default is written; ``TargetSettings`` is the target's own
settings parsed once from the config, with defaults read from the schema (the ``looker_*`` settings have
their own parse, ``looker.settings``). A value of the wrong kind is one line naming the setting and the fix,
raised before any input is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from singer_sdk import typing as th

from target_looker_stage.errors import ConfigError

CONFIG_SCHEMA: dict[str, Any] = th.PropertiesList(
    th.Property(
        "stage_uri",
        th.StringType,
        default="output/stage",
        description=(
            "Where Parquet files are staged: a local folder, s3://bucket/prefix or "
            "sftp://user@host:port/path. Empty to skip staging."
        ),
    ),
    th.Property("s3_endpoint_url", th.StringType, description="S3-compatible endpoint (MinIO, moto, ...)."),
    th.Property("s3_region", th.StringType, description="S3 region; default: the AWS credential chain's."),
    th.Property(
        "aws_access_key_id",
        th.StringType,
        secret=True,
        description="Optional; otherwise the usual AWS credential chain is used.",
    ),
    th.Property(
        "aws_secret_access_key", th.StringType, secret=True, description="Optional, with aws_access_key_id."
    ),
    th.Property("sftp_private_key_path", th.StringType, description="Private key file for sftp:// stages."),
    th.Property("sftp_password", th.StringType, secret=True, description="Password for sftp:// stages."),
    th.Property(
        "sftp_known_hosts_path",
        th.StringType,
        default="~/.ssh/known_hosts",
        description="known_hosts file used to verify the SFTP server's host key.",
    ),
    th.Property(
        "sftp_skip_host_key_check",
        th.BooleanType,
        default=False,
        description="Explicit opt-out of SFTP host key verification (not for production).",
    ),
    # -- the once-per-run Looker refresh (target_looker_stage.looker; off without looker_base_url)
    th.Property(
        "looker_base_url",
        th.StringType,
        description="Looker instance URL (https://x.cloud.looker.com), no /api/4.0. Unset: no refresh.",
    ),
    th.Property("looker_client_id", th.StringType, description="API client id of a Looker user (API keys)."),
    th.Property("looker_client_secret", th.StringType, secret=True, description="Its API client secret."),
    th.Property("looker_verify_ssl", th.BooleanType, default=True, description="Verify Looker's TLS."),
    th.Property(
        "looker_timeout_seconds", th.IntegerType, default=120, description="Timeout of each Looker API call."
    ),
    th.Property(
        "looker_datagroups",
        th.ArrayType(th.StringType),
        description="Datagroups to trigger after the load, each 'model::datagroup' (e.g. finance::qbo_etl).",
    ),
    th.Property(
        "looker_pdts",
        th.ArrayType(
            th.ObjectType(
                th.Property("model", th.StringType, required=True),
                th.Property("view", th.StringType, required=True),
                th.Property("force_rebuild", th.BooleanType),
                th.Property("workspace", th.StringType, allowed_values=["production", "dev"]),
            )
        ),
        description="PDTs to rebuild after the load: {model, view, force_rebuild?, workspace?}.",
    ),
    th.Property(
        "looker_pdt_timeout_seconds",
        th.IntegerType,
        default=1800,
        description="Longest wait for each PDT build; a build still running then is stopped and reported.",
    ),
    th.Property(
        "looker_scheduled_plans",
        th.ArrayType(th.ObjectType(additional_properties=True)),
        secret=True,
        description=(
            "Scheduled Plans made to exist by name: {name, dashboard_id | look_id | lookml_dashboard_id, "
            "crontab | datagroup, timezone?, enabled?, run_once_after_load?, force_update?, destinations: "
            "[{type, format, address, parameters?, secret_parameters?}]}. Secret (destination secrets)."
        ),
    ),
    th.Property(
        "looker_refresh",
        th.StringType,
        allowed_values=["after_load", "after_transform", "never"],
        description=(
            "after_load (the default when looker_base_url is set): refresh once at the end of the load; "
            "after_transform: the target does not refresh, the job runs target-looker-stage-looker-refresh "
            "after dbt; never."
        ),
    ),
    th.Property(
        "looker_failure",
        th.StringType,
        default="warn",
        allowed_values=["warn", "fail"],
        description="warn: a failed refresh is reported, exit 0; fail: exit 1 (the data stays committed).",
    ),
    th.Property(
        "looker_refresh_when_idle",
        th.BooleanType,
        default=False,
        description="Refresh Looker even when the input had no records (an idle incremental run).",
    ),
    th.Property(
        "looker_sql_runner_connection",
        th.StringType,
        description="Opt-in: also upsert every committed batch through SQL Runner on this Looker connection.",
    ),
    th.Property(
        "warehouse_uri",
        th.StringType,
        default="duckdb:///output/warehouse.duckdb",
        secret=True,
        description=(
            "duckdb:///relative/path.duckdb (duckdb:////absolute/path) or postgresql://user:pass@host/db. "
            "Empty to skip the warehouse. Marked secret because it may carry a password."
        ),
    ),
    th.Property(
        "duckdb_memory_limit",
        th.StringType,
        default="1GB",
        description=(
            "Most memory DuckDB may use (DuckDB units such as '1GB' or '512MiB', or a share of RAM such as "
            "'25%'); past it DuckDB spills to duckdb_temp_directory, and batches larger than 1/16 of it are "
            "merged in parts. Raise it when a run stops with 'ran out of memory'."
        ),
    ),
    th.Property(
        "duckdb_temp_directory",
        th.StringType,
        description=(
            "Folder where DuckDB spills what does not fit in duckdb_memory_limit; default: the database "
            "file's name plus '.tmp', next to it."
        ),
    ),
    th.Property(
        "postgres_connect_timeout",
        th.IntegerType,
        default=10,
        description="Seconds to wait for a PostgreSQL connection before the run fails with one line.",
    ),
    th.Property(
        "default_target_schema",
        th.StringType,
        default="quickbooks",
        description="Warehouse schema (dataset) that receives one table per stream.",
    ),
    th.Property(
        "load_method",
        th.StringType,
        default="upsert",
        allowed_values=["upsert", "append", "append-only"],
        description=(
            "upsert: one row per key, newest version wins (by version_column); append: every record is a row "
            "(at-least-once: a replay after a crash can repeat rows)."
        ),
    ),
    th.Property(
        "hard_delete",
        th.BooleanType,
        default=False,
        description="Delete rows whose record carries _sdc_deleted_at instead of marking them (soft delete).",
    ),
    th.Property(
        "double_columns",
        th.ArrayType(th.StringType),
        default=[],
        description=(
            "Number columns stored as DOUBLE (float64) instead of exact DECIMAL(38,9), for other taps' "
            "floats (0.30000000000000004, 6.02e23): patterns 'stream' or 'stream.column' with * wildcards "
            "('*': all). A property whose schema has multipleOf stays DECIMAL. Default: none (money is never "
            "rounded)."
        ),
    ),
    th.Property(
        "version_column",
        th.StringType,
        default="SyncToken",
        description="Integer field that orders versions of a row (_sdc_sync_version) when a record has it.",
    ),
    th.Property(
        "log_record_values",
        th.BooleanType,
        default=False,
        description=(
            "Debugging only: errors about a record value also show a short, marked sample of it. Off, errors "
            "name the stream, column and primary key but never a record's values (customer data)."
        ),
    ),
    # The SDK declares batch_size_rows without a default (its sinks then take 10,000); declared here, it keeps
    # the SDK's meaning with this target's default, which --about and `meltano config` show.
    th.Property(
        "batch_size_rows",
        th.IntegerType,
        default=5_000,
        description=(
            "Records per batch: a stream's batch is committed when it holds this many, and every stream's at "
            "the first STATE after this many records."
        ),
    ),
).to_dict()


LoadMethod = Literal["upsert", "append"]
#: ``load_method`` as written -> as the target runs it (``append-only`` is the SDK's name for append).
LOAD_METHODS: dict[str, LoadMethod] = {"upsert": "upsert", "append": "append", "append-only": "append"}
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})


def schema_default(name: str, schema: Mapping[str, Any] = CONFIG_SCHEMA) -> Any:
    """The default ``schema`` declares for the setting ``name`` (None when it declares none)."""
    return schema["properties"][name].get("default")


@dataclass(frozen=True)
class TargetSettings:
    """The target's settings as the target uses them. Empty text of an optional setting is None; an empty
    ``stage_uri``/``warehouse_uri`` skips that destination. Secrets (and ``warehouse_uri``, which may hold a
    password) are left out of ``repr``."""

    stage_uri: str
    s3_endpoint_url: str | None
    s3_region: str | None
    aws_access_key_id: str | None = field(repr=False)
    aws_secret_access_key: str | None = field(repr=False)
    sftp_private_key_path: str | None
    sftp_password: str | None = field(repr=False)
    sftp_known_hosts_path: str
    sftp_skip_host_key_check: bool
    warehouse_uri: str = field(repr=False)
    duckdb_memory_limit: str
    duckdb_temp_directory: str | None
    postgres_connect_timeout: int
    default_target_schema: str
    load_method: LoadMethod
    hard_delete: bool
    double_columns: tuple[str, ...]
    version_column: str
    log_record_values: bool
    batch_size_rows: int
    #: The batch-native path (``raw_batch``) may run: records need not pass the SDK's mapper one by one (no
    #: ``stream_maps``, no ``flattening_enabled``; ``add_record_metadata`` is decided per sink).
    fast_path: bool

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], schema: Mapping[str, Any] = CONFIG_SCHEMA
    ) -> TargetSettings:
        """``schema``: where the defaults come from (``CONFIG_SCHEMA``; a test passes a changed copy)."""
        read = _Reader(config, schema)
        method = read.text_or_default("load_method")
        if method not in LOAD_METHODS:
            msg = f"load_method '{method}' is not one of {', '.join(LOAD_METHODS)}; fix load_method"
            raise ConfigError(msg)
        return cls(
            stage_uri=read.uri("stage_uri"),
            s3_endpoint_url=read.optional_text("s3_endpoint_url"),
            s3_region=read.optional_text("s3_region"),
            aws_access_key_id=read.optional_text("aws_access_key_id"),
            aws_secret_access_key=read.optional_text("aws_secret_access_key"),
            sftp_private_key_path=read.optional_text("sftp_private_key_path"),
            sftp_password=read.optional_text("sftp_password"),
            sftp_known_hosts_path=read.text_or_default("sftp_known_hosts_path"),
            sftp_skip_host_key_check=read.flag("sftp_skip_host_key_check"),
            warehouse_uri=read.uri("warehouse_uri"),
            duckdb_memory_limit=read.text_or_default("duckdb_memory_limit"),
            duckdb_temp_directory=read.optional_text("duckdb_temp_directory"),
            postgres_connect_timeout=read.positive_integer("postgres_connect_timeout"),
            default_target_schema=read.text_or_default("default_target_schema"),
            load_method=LOAD_METHODS[method],
            hard_delete=read.flag("hard_delete"),
            double_columns=read.texts("double_columns"),
            version_column=read.text_or_default("version_column"),
            log_record_values=read.flag("log_record_values"),
            batch_size_rows=read.positive_integer("batch_size_rows"),
            fast_path=not config.get("stream_maps") and not config.get("flattening_enabled"),
        )


class _Reader:
    """Reads one setting at a time: a missing or null value is the schema's default."""

    def __init__(self, config: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
        self._config = config
        self._schema = schema

    def _value(self, name: str) -> Any:
        value = self._config.get(name)
        return schema_default(name, self._schema) if value is None else value

    def _text(self, name: str, value: Any) -> str:
        if not isinstance(value, str):
            msg = f"{name} must be text, not {type(value).__name__}; fix {name}"
            raise ConfigError(msg)
        return value

    def uri(self, name: str) -> str:
        """Missing: the default; null or empty: '' (the destination is skipped)."""
        value = self._config[name] if name in self._config else schema_default(name, self._schema)
        return "" if value is None else self._text(name, value)

    def optional_text(self, name: str) -> str | None:
        value = self._value(name)
        return None if value is None else self._text(name, value) or None

    def text_or_default(self, name: str) -> str:
        value = self._value(name)
        text = self._text(name, value) if value is not None else ""
        return text or self._text(name, schema_default(name, self._schema))

    def flag(self, name: str) -> bool:
        """A JSON boolean, or the text an environment variable carries (true/false, 1/0, yes/no, on/off)."""
        value = self._value(name)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        msg = f"{name} must be true or false; fix {name}"
        raise ConfigError(msg)

    def positive_integer(self, name: str) -> int:
        value = self._value(name)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            msg = f"{name} must be a whole number of at least 1; fix {name}"
            raise ConfigError(msg)
        return int(value)

    def texts(self, name: str) -> tuple[str, ...]:
        value = self._value(name)
        if isinstance(value, str) or not isinstance(value, list | tuple):
            msg = f"{name} must be a list of text; fix {name}"
            raise ConfigError(msg)
        return tuple(self._text(name, item) for item in value)
