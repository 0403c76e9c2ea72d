"""Durable storage for rotated refresh tokens: a locked local JSON file, or an S3 object.

Per realm the store keeps the newest refresh token and the sha256 fingerprint of the config seed it
descends from. `TokenStore.transaction(realm)` holds an exclusive lock for the whole
read-refresh-write cycle so two runs never spend the same token.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import tempfile
import typing as t
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from tap_quickbooks_cdc.errors import TokenStoreError

if t.TYPE_CHECKING:
    from collections.abc import Iterator

LOCK_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class StoredToken:
    """The newest refresh token of a realm and the fingerprint of the seed it descends from."""

    refresh_token: str
    seed_fingerprint: str

    def __repr__(self) -> str:
        return f"StoredToken(seed_fingerprint={self.seed_fingerprint[:12]!r})"


class TokenStore(t.Protocol):
    """Storage backend for refresh tokens."""

    def transaction(self, realm_id: str) -> contextlib.AbstractContextManager[TokenSlot]:
        """Lock the store for one realm's read-refresh-write cycle."""
        ...

    def read(self, realm_id: str) -> StoredToken | None:
        """Read one realm's token without locking (inspection, tests)."""
        ...


class TokenSlot(t.Protocol):
    """One realm's entry while the store is locked."""

    def get(self) -> StoredToken | None:
        """The stored entry, if any."""
        ...

    def put(self, token: StoredToken) -> None:
        """Persist durably before returning."""
        ...


def _entry(payload: dict[str, t.Any], realm_id: str) -> StoredToken | None:
    realm = payload.get("realms", {}).get(realm_id)
    if not isinstance(realm, dict) or not realm.get("refresh_token"):
        return None
    return StoredToken(str(realm["refresh_token"]), str(realm.get("seed_fingerprint", "")))


def _with_entry(payload: dict[str, t.Any], realm_id: str, token: StoredToken) -> dict[str, t.Any]:
    realms = dict(payload.get("realms", {}))
    realms[realm_id] = {
        "refresh_token": token.refresh_token,
        "seed_fingerprint": token.seed_fingerprint,
        "updated_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    return {"version": 1, "realms": realms}


class FileTokenStore:
    """A JSON file, replaced atomically (temp file + fsync + rename, mode 0600) under a file lock."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = FileLock(str(self.path) + ".lock", timeout=LOCK_TIMEOUT_SECONDS)

    def _load(self) -> dict[str, t.Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"version": 1, "realms": {}}
        except OSError as exc:
            raise TokenStoreError(
                f"Cannot read token store {self.path} ({exc.strerror}): check its permissions."
            ) from None
        try:
            payload = json.loads(text)
        except json.JSONDecodeError:
            raise TokenStoreError(
                f"Token store {self.path} is not valid JSON: restore it from backup or delete it "
                "and reconnect the companies."
            ) from None
        if not isinstance(payload, dict):
            raise TokenStoreError(f"Token store {self.path} has an unknown layout: delete it and reconnect.")
        return payload

    def _write(self, payload: dict[str, t.Any]) -> None:
        data = json.dumps(payload, indent=2, sort_keys=True).encode()
        fd, tmp = tempfile.mkstemp(prefix=".qbo_tokens.", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def read(self, realm_id: str) -> StoredToken | None:
        return _entry(self._load(), realm_id)

    @contextlib.contextmanager
    def transaction(self, realm_id: str) -> Iterator[TokenSlot]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise TokenStoreError(
                f"Cannot create token store folder {self.path.parent} ({exc.strerror}): "
                "set 'token_store' to a writable path."
            ) from None
        try:
            with self._lock:
                yield _FileSlot(self, realm_id)
        except Timeout:
            raise TokenStoreError(
                f"Token store {self.path} stayed locked for {LOCK_TIMEOUT_SECONDS:.0f} s: "
                "another run is refreshing; retry when it ends."
            ) from None


class _FileSlot:
    def __init__(self, store: FileTokenStore, realm_id: str) -> None:
        self._store = store
        self._realm_id = realm_id

    def get(self) -> StoredToken | None:
        return _entry(self._store._load(), self._realm_id)

    def put(self, token: StoredToken) -> None:
        self._store._write(_with_entry(self._store._load(), self._realm_id, token))


class S3TokenStore:
    """A JSON object in S3: a local file lock serialises runs on this host; conditional writes
    (If-Match on the ETag read) refuse to overwrite a token another host rotated meanwhile."""

    def __init__(self, url: str, endpoint_url: str | None = None) -> None:
        import boto3  # noqa: PLC0415 - only needed for s3:// stores

        bucket, _, key = url.removeprefix("s3://").partition("/")
        if not bucket or not key:
            raise TokenStoreError(f"token_store {url!r} is not s3://bucket/key: give both bucket and key.")
        self.bucket, self.key = bucket, key
        self._client = boto3.client("s3", endpoint_url=endpoint_url)
        digest = hashlib.sha256(url.encode()).hexdigest()[:16]
        lock_path = Path(tempfile.gettempdir()) / f"tap-quickbooks-cdc-{digest}.lock"
        self._lock = FileLock(str(lock_path), timeout=LOCK_TIMEOUT_SECONDS)

    def _load(self) -> tuple[dict[str, t.Any], str | None]:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        try:
            response = self._client.get_object(Bucket=self.bucket, Key=self.key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return {"version": 1, "realms": {}}, None
            raise TokenStoreError(
                f"Cannot read token store s3://{self.bucket}/{self.key} "
                f"({exc.response.get('Error', {}).get('Code')}): check bucket, key and IAM rights."
            ) from None
        except BotoCoreError as exc:
            raise TokenStoreError(
                f"Cannot reach S3 for token store s3://{self.bucket}/{self.key} ({type(exc).__name__})."
            ) from None
        payload = json.loads(response["Body"].read())
        return payload, str(response["ETag"])

    def _write(self, payload: dict[str, t.Any], etag: str | None) -> str:
        from botocore.exceptions import ClientError  # noqa: PLC0415

        body = json.dumps(payload, indent=2, sort_keys=True).encode()
        try:
            if etag is None:
                response = self._client.put_object(
                    Bucket=self.bucket, Key=self.key, Body=body, IfNoneMatch="*"
                )
            else:
                response = self._client.put_object(Bucket=self.bucket, Key=self.key, Body=body, IfMatch=etag)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            raise TokenStoreError(
                f"Writing token store s3://{self.bucket}/{self.key} failed ({code}): another run changed "
                "it meanwhile; run again (one run per company at a time)."
            ) from None
        return str(response["ETag"])

    def read(self, realm_id: str) -> StoredToken | None:
        return _entry(self._load()[0], realm_id)

    @contextlib.contextmanager
    def transaction(self, realm_id: str) -> Iterator[TokenSlot]:
        try:
            with self._lock:
                yield _S3Slot(self, realm_id)
        except Timeout:
            raise TokenStoreError(
                f"Token store s3://{self.bucket}/{self.key} stayed locked: another run is refreshing."
            ) from None


class _S3Slot:
    def __init__(self, store: S3TokenStore, realm_id: str) -> None:
        self._store = store
        self._realm_id = realm_id
        self._payload, self._etag = store._load()

    def get(self) -> StoredToken | None:
        return _entry(self._payload, self._realm_id)

    def put(self, token: StoredToken) -> None:
        self._payload = _with_entry(self._payload, self._realm_id, token)
        self._etag = self._store._write(self._payload, self._etag)


def open_token_store(location: str, s3_endpoint_url: str | None = None) -> FileTokenStore | S3TokenStore:
    """A store for a `token_store` setting: s3://bucket/key or a file path."""
    if location.startswith("s3://"):
        return S3TokenStore(location, s3_endpoint_url)
    return FileTokenStore(Path(location).expanduser())
