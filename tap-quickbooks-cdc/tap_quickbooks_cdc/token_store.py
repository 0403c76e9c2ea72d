"""Durable storage for rotated refresh tokens: a locked local JSON file, or an S3 object.

Per realm the store keeps the newest refresh token and the sha256 fingerprint of the config seed it
descends from. `TokenStore.transaction(realm)` holds an exclusive lock for the whole
read-refresh-write cycle so two runs never spend the same token.

A write can fail after Intuit already rotated the token (full disk, EIO, quota, S3 denial), and then the
spent token is dead. So the write path is proven before a token is spent (a file store reserves a fsynced
temp file in its folder, big enough for the write that follows; an S3 store rewrites the object it read),
a failed write is retried, a conflicting S3 write re-applies this realm's entry to the newer object, and a
token that still cannot be stored goes to a rescue file (`token_rescue`) that every read merges back in.

A store also records where it was created (`store`: a random id, the absolute path or s3 URL, the host).
Two stores holding one company's token spend each other's rotations (the loser gets `invalid_grant`), so a
store read from another location than it records is a copy or a move and is refused before anything is
spent, unless `adopt` (the `token_store_adopt` setting) says it was moved on purpose.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import random
import secrets
import socket
import tempfile
import threading
import time
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout
from typing_extensions import override

from tap_quickbooks_cdc.errors import TokenStoreError
from tap_quickbooks_cdc.token_rescue import Rescue, dump, rescue_paths, updated_at, write_atomic

if t.TYPE_CHECKING:
    from collections.abc import Collection, Iterator

LOCK_TIMEOUT_SECONDS = 300.0
WRITE_ATTEMPTS = 3
RETRY_PAUSE_SECONDS = 0.2
S3_CONFLICT_ATTEMPTS = 8
#: Room reserved beyond the current store's size: a realm entry takes about 250 bytes.
RESERVE_BYTES = 64 * 1024


@dataclass(frozen=True)
class StoredToken:
    """The newest refresh token of a realm and the fingerprint of the seed it descends from; when and on
    which host it was stored (filled on read, for messages: not part of the token's identity)."""

    refresh_token: str
    seed_fingerprint: str
    updated_at: str = field(default="", compare=False)
    host: str = field(default="", compare=False)

    @override
    def __repr__(self) -> str:
        return f"StoredToken(seed_fingerprint={self.seed_fingerprint[:12]!r})"


class TokenStore(t.Protocol):
    """Storage backend for refresh tokens."""

    #: The store's absolute path or s3:// URL, as it names itself in messages and in its identity.
    location: str

    def transaction(self, realm_id: str) -> contextlib.AbstractContextManager[TokenSlot]:
        """Lock the store for one realm's read-refresh-write cycle; fails before anything is spent."""
        ...

    def read(self, realm_id: str) -> StoredToken | None:
        """Read one realm's token without locking (inspection, tests)."""
        ...


class TokenSlot(t.Protocol):
    """One realm's entry while the store is locked."""

    #: The rescue file the entry came from (a store write failed earlier), else None.
    rescued_from: str | None
    #: The location a moved store recorded before `adopt` made it this store's (the move is recorded
    #: with the next write), else None.
    adopted_from: str | None

    def get(self) -> StoredToken | None:
        """The stored entry, if any."""
        ...

    def put(self, token: StoredToken) -> None:
        """Persist durably before returning (else rescue it and raise TokenStoreError saying where)."""
        ...

    def adopt(self, seed_fingerprint: str, exclude: Collection[str]) -> tuple[str, StoredToken] | None:
        """The newest entry of another realm (none in `exclude`) descending from the same seed:
        (that realm, its token); the next `put` moves it to this realm. None when there is none."""
        ...


def _entry(payload: dict[str, t.Any], realm_id: str) -> StoredToken | None:
    realm = payload.get("realms", {}).get(realm_id)
    if not isinstance(realm, dict) or not realm.get("refresh_token"):
        return None
    return StoredToken(
        str(realm["refresh_token"]),
        str(realm.get("seed_fingerprint", "")),
        str(realm.get("updated_at", "")),
        str(realm.get("host", "")),
    )


def _now() -> str:
    # Microseconds: the newest of a store entry and a rescued one wins when both exist.
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds")


def _new_entry(token: StoredToken) -> dict[str, t.Any]:
    return {
        "refresh_token": token.refresh_token,
        "seed_fingerprint": token.seed_fingerprint,
        "updated_at": _now(),
        "host": socket.gethostname(),  # named when a copy of the store spent the token elsewhere
    }


def _with_entry(
    payload: dict[str, t.Any],
    realm_id: str,
    entry: dict[str, t.Any],
    moved_from: tuple[str, str] | None = None,
) -> dict[str, t.Any]:
    """`payload` with the realm's new entry; `moved_from` (realm, token) is dropped if it still holds that
    token (an adopted entry moves to the realm it belongs to)."""
    realms = dict(payload.get("realms", {}))
    realms[realm_id] = entry
    if moved_from is not None:
        old_realm, old_token = moved_from
        old = realms.get(old_realm)
        if isinstance(old, dict) and old.get("refresh_token") == old_token:
            del realms[old_realm]
    return {**payload, "version": 1, "realms": realms}


def _same_lineage(
    payload: dict[str, t.Any], realm_id: str, seed_fingerprint: str, exclude: Collection[str]
) -> tuple[str, StoredToken] | None:
    """The newest entry of another realm with this seed fingerprint (see `TokenSlot.adopt`)."""
    found = [
        (updated_at(entry), other)
        for other, entry in payload.get("realms", {}).items()
        if other != realm_id
        and other not in exclude
        and isinstance(entry, dict)
        and entry.get("refresh_token")
        and entry.get("seed_fingerprint") == seed_fingerprint
    ]
    if not seed_fingerprint or not found:
        return None
    other = max(found)[1]
    token = _entry(payload, other)
    return (other, token) if token is not None else None


def _own(payload: dict[str, t.Any], location: str, adopt: bool) -> tuple[dict[str, t.Any], str | None]:
    """`payload` stamped with this store's identity, and the location it was adopted from (if it was).

    A store that records another location is a copy or a move: refused, unless `adopt`."""
    identity = payload.get("store")
    host = socket.gethostname()
    if not isinstance(identity, dict) or not identity.get("location"):  # new, or older than identities
        stamp = {"id": secrets.token_hex(8), "location": location, "host": host, "created_at": _now()}
        return {**payload, "store": stamp}, None
    recorded = str(identity["location"])
    if recorded == location:
        return payload, None
    if not adopt:
        raise TokenStoreError(
            f"Token store {location} is a copy or a move of {recorded} (created on host "
            f"{identity.get('host', '?')}): one company needs one token store, or the copies spend each "
            f"other's refresh tokens (invalid_grant); point 'token_store' at {recorded}, or if you moved it "
            "on purpose run once with token_store_adopt: true. No refresh token was spent."
        )
    moved = {**identity, "location": location, "host": host, "moved_from": recorded, "moved_at": _now()}
    return {**payload, "store": moved}, recorded


def _parse(text: str | bytes, where: str) -> dict[str, t.Any]:
    """The store's JSON, or a TokenStoreError naming the store and the fix."""
    try:
        payload = json.loads(text)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        raise TokenStoreError(
            f"Token store {where} is not valid JSON: restore it from a backup or delete it and "
            "reconnect the companies."
        ) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("realms", {}), dict):
        raise TokenStoreError(
            f"Token store {where} has an unknown layout (not an object with 'realms'): restore it from a "
            "backup or delete it and reconnect the companies."
        )
    return payload


#: Serialises token-store transactions between the threads of one process (the file lock serialises
#: processes; whether it also excludes threads depends on filelock's thread-local mode, so this says it).
_THREADS = threading.RLock()


def _acquire(lock: FileLock, where: str) -> None:
    try:
        lock.acquire()
    except Timeout:
        raise TokenStoreError(
            f"Token store {where} stayed locked for {LOCK_TIMEOUT_SECONDS:.0f} s: another run is "
            "refreshing; retry when it ends."
        ) from None
    except OSError as exc:
        raise TokenStoreError(
            f"Cannot lock token store {where}: lock file {lock.lock_file} ({exc.strerror}); make its "
            "folder writable or set 'token_store' to a writable path."
        ) from None


def _rescue_error(
    rescue: Rescue, realm_id: str, entry: dict[str, t.Any], where: str, problem: str
) -> TokenStoreError:
    """Save a rotated token the store refused to a rescue file; the error says where (never the token)."""
    saved, problems = rescue.save(realm_id, entry)
    if saved is not None:
        return TokenStoreError(
            f"Writing token store {where} failed ({problem}); the rotated refresh token was saved to "
            f"{saved} (mode 0600) and the next run reads it from there: fix the store's disk or access "
            "rights, then run again."
        )
    return TokenStoreError(
        f"Writing token store {where} failed ({problem}) and no rescue file took the rotated refresh token "
        f"({'; '.join(problems)}): fix the store, reconnect the company in the Intuit app and put the new "
        "refresh token in 'companies'."
    )


def _stored_again(rescue: Rescue, realm_ids: set[str]) -> None:
    """The store holds these realms' newest entries again: their rescued copies go."""
    for realm_id in sorted(realm_ids):
        rescue.discard(realm_id)


def _pause(attempt: int) -> None:
    time.sleep(RETRY_PAUSE_SECONDS * (attempt + 1))


def _fsync_folder(folder: Path) -> None:
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class _Reservation:
    """A private temp file in the store's folder, written and fsynced at a size the next store fits in.

    It is made before a token is spent, so the write after a refresh overwrites blocks the file system
    already gave us instead of asking a disk that may have filled meanwhile; then it is renamed over
    the store.
    """

    def __init__(self, target: Path, size: int) -> None:
        self._target = target
        fd, self._tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        self._fd = fd
        try:
            os.fchmod(fd, 0o600)
            _write_all(fd, b" " * size)
            os.fsync(fd)
        except BaseException:
            self.discard()
            raise

    def commit(self, data: bytes) -> None:
        """Replace the store by `data` through this file; the file is gone afterwards either way."""
        try:
            os.lseek(self._fd, 0, os.SEEK_SET)
            _write_all(self._fd, data)
            os.ftruncate(self._fd, len(data))
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1
            os.replace(self._tmp, self._target)
        except BaseException:
            self.discard()
            raise
        _fsync_folder(self._target.parent)

    def discard(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1
        with contextlib.suppress(OSError):
            os.unlink(self._tmp)


class FileTokenStore:
    """A JSON file, replaced atomically (temp file + fsync + rename, mode 0600) under a file lock."""

    def __init__(self, path: str | os.PathLike[str], adopt: bool = False) -> None:
        self.path = Path(path)
        self.location = str(self.path.resolve())
        self.adopt = adopt
        self._lock = FileLock(str(self.path) + ".lock", timeout=LOCK_TIMEOUT_SECONDS)
        self.rescue = Rescue(rescue_paths(str(self.path.absolute()), beside=self.path))

    def _load_stored(self) -> dict[str, t.Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"version": 1, "realms": {}}
        except OSError as exc:
            raise TokenStoreError(
                f"Cannot read token store {self.path} ({exc.strerror}): check its permissions and disk."
            ) from None
        return _parse(text, str(self.path))

    def _load(self) -> tuple[dict[str, t.Any], dict[str, Path]]:
        """The store with rescued entries merged in, and which realms came from which rescue file."""
        payload = self._load_stored()
        return payload, self.rescue.merge_into(payload)

    def read(self, realm_id: str) -> StoredToken | None:
        return _entry(self._load()[0], realm_id)

    @contextlib.contextmanager
    def transaction(self, realm_id: str) -> Iterator[TokenSlot]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise TokenStoreError(
                f"Cannot create token store folder {self.path.parent} ({exc.strerror}): "
                "set 'token_store' to a writable path."
            ) from None
        with _THREADS:  # realms refreshed by parallel workers of one run (`parallel`) take turns too
            _acquire(self._lock, str(self.path))
            try:
                self._drop_leftovers()
                slot = _FileSlot(self, realm_id)
                try:
                    yield slot
                finally:
                    slot.close()
            finally:
                self._lock.release()

    def _drop_leftovers(self) -> None:
        """Temp files of a run killed mid-write (only the lock holder writes here, and that is us)."""
        for leftover in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                leftover.unlink()


class _FileSlot:
    def __init__(self, store: FileTokenStore, realm_id: str) -> None:
        self._store = store
        self._realm_id = realm_id
        payload, rescued = store._load()
        self._payload, self.adopted_from = _own(payload, store.location, store.adopt)
        self._moved_from: tuple[str, str] | None = None
        self.rescued_from = str(rescued[realm_id]) if realm_id in rescued else None
        self._rescued = set(rescued)  # the next write puts these entries back into the store
        try:
            self._reserved: _Reservation | None = _Reservation(
                store.path, len(dump(self._payload)) + RESERVE_BYTES
            )
        except OSError as exc:
            raise TokenStoreError(
                f"Cannot write token store {store.path} ({exc.strerror}): free space on its disk or make "
                f"{store.path.parent} writable (or set 'token_store' to another path); no refresh token "
                "was spent."
            ) from None

    def get(self) -> StoredToken | None:
        return _entry(self._payload, self._realm_id)

    def adopt(self, seed_fingerprint: str, exclude: Collection[str]) -> tuple[str, StoredToken] | None:
        found = _same_lineage(self._payload, self._realm_id, seed_fingerprint, exclude)
        self._moved_from = (found[0], found[1].refresh_token) if found else None
        return found

    def put(self, token: StoredToken) -> None:
        entry = _new_entry(token)
        payload = _with_entry(self._payload, self._realm_id, entry, self._moved_from)
        data = dump(payload)
        problem = ""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                if self._reserved is not None:
                    reserved, self._reserved = self._reserved, None
                    reserved.commit(data)
                else:
                    write_atomic(self._store.path, data)
            except OSError as exc:
                problem = exc.strerror or type(exc).__name__
                if attempt + 1 < WRITE_ATTEMPTS:
                    _pause(attempt)
                continue
            self._payload = payload
            self.rescued_from = None
            _stored_again(self._store.rescue, self._rescued | {self._realm_id})
            return
        raise _rescue_error(self._store.rescue, self._realm_id, entry, str(self._store.path), problem)

    def close(self) -> None:
        if self._reserved is not None:
            self._reserved.discard()
            self._reserved = None


class _Conflict(Exception):
    """The S3 object changed since it was read (its ETag no longer matches)."""


class _WriteFailed(Exception):
    """S3 refused or failed a write for another reason (`args[0]`: the error code)."""


_CONFLICT_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})


class S3TokenStore:
    """A JSON object in S3: a local file lock serialises runs on this host; conditional writes
    (If-Match on the ETag read) never overwrite a token another host rotated meanwhile: on a conflict
    the object is read again and only this realm's entry is applied to it."""

    def __init__(self, url: str, endpoint_url: str | None = None, adopt: bool = False) -> None:
        bucket, _, key = url.removeprefix("s3://").partition("/")
        if not bucket or not key:
            raise TokenStoreError(f"token_store {url!r} is not s3://bucket/key: give both bucket and key.")
        self.bucket, self.key = bucket, key
        self.url = self.location = f"s3://{bucket}/{key}"
        self.adopt = adopt
        self._endpoint_url = endpoint_url
        self._s3: t.Any = None
        digest = hashlib.sha256(url.encode()).hexdigest()[:16]
        lock_path = Path(tempfile.gettempdir()) / f"tap-quickbooks-cdc-{digest}.lock"
        self._lock = FileLock(str(lock_path), timeout=LOCK_TIMEOUT_SECONDS)
        self.rescue = Rescue(rescue_paths(self.url))

    @property
    def _client(self) -> t.Any:
        """The S3 client, made on first use from a session of its own: boto3's default session keeps
        the first credentials it resolved, so a process whose AWS_* changed would sign with stale keys."""
        if self._s3 is None:
            import boto3  # noqa: PLC0415 - only needed for s3:// stores

            self._s3 = boto3.session.Session().client("s3", endpoint_url=self._endpoint_url)
        return self._s3

    def _get(self) -> tuple[dict[str, t.Any], str | None]:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        try:
            response = self._client.get_object(Bucket=self.bucket, Key=self.key)
            body = response["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return {"version": 1, "realms": {}}, None
            raise TokenStoreError(
                f"Cannot read token store {self.url} ({exc.response.get('Error', {}).get('Code')}): "
                "check bucket, key and IAM rights (s3:GetObject)."
            ) from None
        except BotoCoreError as exc:
            raise TokenStoreError(
                f"Cannot reach S3 for token store {self.url} ({type(exc).__name__}): check "
                "'token_store_s3_endpoint_url' and the network."
            ) from None
        return _parse(body, self.url), str(response["ETag"])

    def _load(self) -> tuple[dict[str, t.Any], str | None, dict[str, Path]]:
        payload, etag = self._get()
        return payload, etag, self.rescue.merge_into(payload)

    def _put(self, payload: dict[str, t.Any], etag: str | None) -> str:
        """Write if the object is still at `etag` (absent when None); the new ETag."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        body = dump(payload)
        try:
            if etag is None:
                response = self._client.put_object(
                    Bucket=self.bucket, Key=self.key, Body=body, IfNoneMatch="*"
                )
            else:
                response = self._client.put_object(Bucket=self.bucket, Key=self.key, Body=body, IfMatch=etag)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code"))
            if code in _CONFLICT_CODES:
                raise _Conflict from None
            raise _WriteFailed(code) from None
        except BotoCoreError as exc:
            raise _WriteFailed(type(exc).__name__) from None
        return str(response["ETag"])

    def read(self, realm_id: str) -> StoredToken | None:
        return _entry(self._load()[0], realm_id)

    @contextlib.contextmanager
    def transaction(self, realm_id: str) -> Iterator[TokenSlot]:
        with _THREADS:
            _acquire(self._lock, self.url)
            try:
                yield _S3Slot(self, realm_id)
            finally:
                self._lock.release()


class _S3Slot:
    def __init__(self, store: S3TokenStore, realm_id: str) -> None:
        self._store = store
        self._realm_id = realm_id
        payload, self._etag, rescued = store._load()
        self._payload, self.adopted_from = _own(payload, store.location, store.adopt)
        self._moved_from: tuple[str, str] | None = None
        self.rescued_from = str(rescued[realm_id]) if realm_id in rescued else None
        self._prove()
        _stored_again(store.rescue, set(rescued))  # the proof wrote them back into the object

    def _prove(self) -> None:
        """Write the object back as read (rescued entries included) before a token is spent: a store
        that refuses writes fails now, while the stored token is still the live one."""
        for _ in range(S3_CONFLICT_ATTEMPTS):
            try:
                self._etag = self._store._put(self._payload, self._etag)
            except _Conflict:
                payload, self._etag, _ = self._store._load()
                self._payload, self.adopted_from = _own(payload, self._store.location, self._store.adopt)
                continue
            except _WriteFailed as exc:
                raise TokenStoreError(
                    f"Cannot write token store {self._store.url} ({exc.args[0]}): allow s3:PutObject on it "
                    "for these credentials; no refresh token was spent."
                ) from None
            return
        raise TokenStoreError(
            f"Token store {self._store.url} changed {S3_CONFLICT_ATTEMPTS} times while this run read it: "
            "too many runs share it at once; run again."
        )

    def get(self) -> StoredToken | None:
        return _entry(self._payload, self._realm_id)

    def adopt(self, seed_fingerprint: str, exclude: Collection[str]) -> tuple[str, StoredToken] | None:
        found = _same_lineage(self._payload, self._realm_id, seed_fingerprint, exclude)
        self._moved_from = (found[0], found[1].refresh_token) if found else None
        return found

    def put(self, token: StoredToken) -> None:
        entry = _new_entry(token)
        payload = _with_entry(self._payload, self._realm_id, entry, self._moved_from)
        failures = conflicts = 0
        problem = ""
        while failures < WRITE_ATTEMPTS and conflicts < S3_CONFLICT_ATTEMPTS:
            try:
                self._etag = self._store._put(payload, self._etag)
            except _Conflict:
                # Another host wrote meanwhile (other realms' tokens): re-apply only this realm's entry.
                conflicts += 1
                problem = "PreconditionFailed: the object kept changing"
                time.sleep(random.uniform(0.0, RETRY_PAUSE_SECONDS))
                try:
                    base, self._etag, _ = self._store._load()
                except TokenStoreError as exc:
                    failures += 1
                    problem = str(exc)
                    continue
                base.setdefault("store", self._payload.get("store"))
                payload = _with_entry(base, self._realm_id, entry, self._moved_from)
                continue
            except _WriteFailed as exc:
                problem = str(exc.args[0])
                _pause(failures)
                failures += 1
                continue
            self._payload = payload
            self.rescued_from = None
            _stored_again(self._store.rescue, {self._realm_id})
            return
        raise _rescue_error(self._store.rescue, self._realm_id, entry, self._store.url, problem)


def open_token_store(
    location: str, s3_endpoint_url: str | None = None, adopt: bool = False
) -> FileTokenStore | S3TokenStore:
    """A store for a `token_store` setting: s3://bucket/key or a file path. `adopt`: accept a store that
    records another location (moved on purpose) and record this one."""
    if location.startswith("s3://"):
        return S3TokenStore(location, s3_endpoint_url, adopt)
    return FileTokenStore(Path(location).expanduser(), adopt)
