"""The stage in an S3 bucket (AWS or any S3-compatible endpoint such as MinIO).

A PUT (or a completed multipart upload) is atomic in S3: readers see the previous object or the whole new one,
and an interrupted upload never appears under its key, so ``put_file`` needs no temporary name.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit, urlunsplit

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from target_looker_stage.errors import ConfigError, StageError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from target_looker_stage.settings import TargetSettings

CONNECT_TIMEOUT_S = 3
READ_TIMEOUT_S = 20  # uploads and reads
TOTAL_ATTEMPTS = 3
CHECK_READ_TIMEOUT_S = 5  # check(): an endpoint that is down or silent fails in well under 15 s
CHECK_ATTEMPTS = 2
_MULTIPART_THRESHOLD = 64 * 1024 * 1024


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    return urlunsplit(
        parts._replace(netloc=(parts.hostname or "") + (f":{parts.port}" if parts.port else ""))
    )


class S3Storage:
    """``s3://bucket/prefix``. Settings: ``s3_endpoint_url`` (S3-compatible servers), ``s3_region``, and
    ``aws_access_key_id`` + ``aws_secret_access_key`` (else boto3's default credential chain)."""

    page_size = 1000  # keys per LIST call (the S3 maximum)

    def __init__(self, uri: str, settings: TargetSettings) -> None:
        parts = urlsplit(uri)
        if parts.scheme != "s3" or not parts.netloc or parts.username or parts.password:
            shown = f"{parts.scheme}://{parts.hostname or ''}{parts.path}"
            raise ConfigError(
                f"stage_uri {shown} is not s3://bucket/prefix (no credentials in it); fix stage_uri"
            )
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        endpoint, region = settings.s3_endpoint_url, settings.s3_region
        key_id, secret = settings.aws_access_key_id, settings.aws_secret_access_key
        if (key_id is None) != (secret is None):
            raise ConfigError(
                "set both aws_access_key_id and aws_secret_access_key, or neither (to use the default AWS "
                "credential chain)"
            )
        # Defence in depth (messages are built without secrets); too-short values would only mangle the text.
        self._secrets = [s for s in (secret, urlsplit(endpoint or "").password) if s and len(s) >= 4]
        self._endpoint = endpoint
        where = f" at {_without_userinfo(endpoint)}" if endpoint else ""
        self.display_uri = f"s3://{self.bucket}/{self.prefix}".rstrip("/") + where
        session = boto3.session.Session(
            aws_access_key_id=key_id, aws_secret_access_key=secret, region_name=region
        )

        def client(read_timeout: int, attempts: int) -> S3Client:
            config = Config(
                connect_timeout=CONNECT_TIMEOUT_S,
                read_timeout=read_timeout,
                retries={"total_max_attempts": attempts, "mode": "standard"},
                s3={"addressing_style": "path"} if endpoint else None,
            )
            return session.client("s3", endpoint_url=endpoint, config=config)

        self._client = client(READ_TIMEOUT_S, TOTAL_ATTEMPTS)
        self._check_client = client(CHECK_READ_TIMEOUT_S, CHECK_ATTEMPTS)  # fails fast: <= ~2 x (3 s + 5 s)
        self._transfer = TransferConfig(multipart_threshold=_MULTIPART_THRESHOLD, use_threads=True)

    # ----------------------------------------------------------------------------------------- helpers

    def _object_key(self, key: str) -> str:
        parts = [p for p in key.split("/") if p]
        if not parts or any(p in (".", "..") for p in parts):
            raise StageError(f"invalid stage key {key!r}; keys are relative paths like stream=x/file.parquet")
        return "/".join([self.prefix, *parts]) if self.prefix else "/".join(parts)

    def _raise(self, action: str, exc: Exception) -> NoReturn:
        """One secret-free line: what failed, why, and how to fix it."""
        if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError):
            how = "timed out" if isinstance(exc, ConnectTimeoutError | ReadTimeoutError) else "no connection"
            reason = f"cannot reach the S3 endpoint {_without_userinfo(self._endpoint or 'AWS S3')} ({how})"
            fix = "check s3_endpoint_url and the network (is the endpoint reachable from here?)"
        elif isinstance(exc, NoCredentialsError):
            reason, fix = "no AWS credentials found", "set aws_access_key_id and aws_secret_access_key"
        elif isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            reason = f"{code or status} {error.get('Message', '')}".strip()
            if code in {"NoSuchBucket", "404"} or (status == 404 and action == "check"):
                reason, fix = (
                    f"bucket {self.bucket} does not exist",
                    "create it or fix the bucket in stage_uri",
                )
            elif (
                code in {"AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"}
                or status == 403
            ):
                reason = f"access denied ({reason})"
                fix = "check aws_access_key_id, aws_secret_access_key and the bucket policy"
            else:
                fix = "check the bucket, region (s3_region) and credentials"
        else:
            reason, fix = str(exc), "check the S3 settings and the network"
        message = f"S3 stage {self.display_uri}: cannot {action}: {reason}; {fix}"
        for secret in self._secrets:
            message = message.replace(secret, "***")
        raise StageError(_one_line(message)) from None

    # ----------------------------------------------------------------------------------------- protocol

    def check(self) -> None:
        try:
            self._check_client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            self._raise("check", exc)

    def put_file(self, local_path: Path, key: str) -> None:
        object_key = self._object_key(key)
        try:
            self._client.upload_file(str(local_path), self.bucket, object_key, Config=self._transfer)
        except (BotoCoreError, ClientError) as exc:
            self._raise(f"upload {key}", exc)
        except S3UploadFailedError as exc:  # wraps the ClientError (raised while handling it)
            cause = exc.__cause__ or exc.__context__
            self._raise(f"upload {key}", cause if isinstance(cause, (BotoCoreError, ClientError)) else exc)
        except OSError as exc:  # the local file
            self._raise(f"upload {key}", exc)

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._client.get_object(Bucket=self.bucket, Key=self._object_key(key))["Body"].read()
        except (BotoCoreError, ClientError) as exc:
            self._raise(f"read {key}", exc)

    def list_keys(self, prefix: str = "") -> list[str]:
        base = f"{self.prefix}/" if self.prefix else ""
        keys: list[str] = []
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=base + prefix, PaginationConfig={"PageSize": self.page_size}
            )
            for page in pages:
                keys.extend(item["Key"][len(base) :] for item in page.get("Contents", []))
        except (BotoCoreError, ClientError) as exc:
            self._raise(f"list {prefix or 'the stage'}", exc)
        return sorted(keys)

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self.bucket, Key=self._object_key(key))
        except (BotoCoreError, ClientError) as exc:
            self._raise(f"delete {key}", exc)

    def close(self) -> None:
        self._client.close()
        self._check_client.close()
