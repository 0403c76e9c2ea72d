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
