"""The target's settings (names are part of the public contract: meltano.yml and docs use them)."""

from __future__ import annotations

from typing import Any

from singer_sdk import typing as th

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
).to_dict()
