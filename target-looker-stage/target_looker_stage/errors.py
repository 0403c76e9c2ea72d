"""Errors the target raises: each message is one line naming the problem and the fix, never a secret."""


class TargetError(Exception):
    """Base class: a clear, one-line, secret-free error that stops the target with a non-zero exit."""


class ConfigError(TargetError):
    """A setting is missing or malformed (e.g. an unknown URI scheme)."""


class StageError(TargetError):
    """The Parquet stage (local folder, S3, SFTP) cannot be reached or written."""


class WarehouseError(TargetError):
    """The warehouse (DuckDB, PostgreSQL) cannot be reached or a statement failed."""


class SchemaChangeError(TargetError):
    """An incoming schema is incompatible with the existing table (names stream, column, old and new type)."""


class LookerRefreshError(TargetError):
    """The Looker refresh after the load failed and ``looker_failure`` is ``fail`` (the data is committed)."""
