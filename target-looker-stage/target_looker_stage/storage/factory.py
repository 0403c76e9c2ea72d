"""``stage_uri`` -> the StageStorage that publishes there (remote backends imported only when used)."""

from __future__ import annotations

from urllib.parse import urlsplit

from target_looker_stage.errors import ConfigError
from target_looker_stage.settings import TargetSettings
from target_looker_stage.storage.base import StageStorage


def open_storage(settings: TargetSettings) -> StageStorage | None:
    """None when ``stage_uri`` is empty (staging skipped); ConfigError for an unknown scheme."""
    uri = settings.stage_uri.strip()
    if not uri:
        return None
    scheme = urlsplit(uri).scheme.lower() if "://" in uri else ""
    if scheme in ("", "file"):
        from target_looker_stage.storage.local import LocalStorage  # noqa: PLC0415 (driver loaded only when used)

        return LocalStorage(uri.removeprefix("file://") if scheme else uri)
    if scheme == "s3":
        from target_looker_stage.storage.s3 import S3Storage  # noqa: PLC0415 (driver loaded only when used)

        return S3Storage(uri, settings)
    if scheme == "sftp":
        from target_looker_stage.storage.sftp import SftpStorage  # noqa: PLC0415 (driver loaded only when used)

        return SftpStorage(uri, settings)
    msg = f"stage_uri scheme '{scheme}://' is not supported; use a local folder, s3://bucket/prefix or sftp://user@host/path"
    raise ConfigError(msg)
