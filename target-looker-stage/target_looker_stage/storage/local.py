"""The stage in a local folder: each file is written under a hidden temporary name and renamed into place.

Files are created 0600 and the folders the stage creates 0700 (``base.FILE_MODE``/``FOLDER_MODE``). Cleanup
after a failure never raises: the error a user sees is the one that stopped the write (e.g. a read-only or
full file system), not a failing removal of the temporary file.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
import uuid
from pathlib import Path

from target_looker_stage.errors import StageError
from target_looker_stage.storage.base import FILE_MODE, FOLDER_MODE


class LocalStorage:
    """A folder on this machine (``stage_uri`` without a scheme, or ``file://``)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.display_uri = str(self.root)

    def check(self) -> None:
        probe = self.root / f".probe-{uuid.uuid4().hex}"
        try:
            _make_folders(self.root)
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
            probe.unlink()
        except OSError as exc:
            with contextlib.suppress(OSError):
                probe.unlink(missing_ok=True)
            msg = f"stage folder {self.display_uri} is not writable ({_reason(exc)}); {_fix(exc)}"
            raise StageError(msg) from None

    def _path(self, key: str) -> Path:
        parts = [p for p in key.split("/") if p]
        if not parts or any(p in (".", "..") for p in parts):
            msg = f"invalid stage key {key!r}"
            raise StageError(msg)
        return self.root.joinpath(*parts)

    def put_file(self, local_path: Path, key: str) -> None:
        final = self._path(key)
        temporary = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
        try:
            _make_folders(final.parent)
            with local_path.open("rb") as source, _create(temporary) as target:
                shutil.copyfileobj(source, target, 1024 * 1024)
                target.flush()
                os.fsync(target.fileno())
            os.replace(temporary, final)
            _fsync_dir(final.parent)
        except OSError as exc:
            with contextlib.suppress(OSError):  # never created, or the file system refuses even that
                temporary.unlink(missing_ok=True)
            msg = f"cannot write {key} to stage folder {self.display_uri}: {_reason(exc)}; {_fix(exc)}"
            raise StageError(msg) from None

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except OSError as exc:
            msg = f"cannot read {key} from stage folder {self.display_uri}: {exc.strerror or exc}"
            raise StageError(msg) from None

    def list_keys(self, prefix: str = "") -> list[str]:
        if not self.root.is_dir():
            return []
        keys = []
        for path in self.root.rglob("*"):
            relative = path.relative_to(self.root)
            if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                key = relative.as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def close(self) -> None:
        """Nothing to release."""


def _create(path: Path) -> io.FileIO:
    """A new file open for writing, mode FILE_MODE from the start (no window where others could read it)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "wb", buffering=0)


def _make_folders(path: Path) -> None:
    """``mkdir -p`` where every folder created gets FOLDER_MODE (``Path.mkdir`` gives parents the default)."""
    missing = []
    while not path.is_dir():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # created meanwhile is fine (a file there fails below)
            folder.mkdir(mode=FOLDER_MODE)
        if not folder.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _fix(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "free space (or raise the quota) on that file system, or point stage_uri elsewhere"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "make the folder writable (permissions, a read-only mount) or point stage_uri elsewhere"
    return "fix stage_uri or the folder's permissions"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
