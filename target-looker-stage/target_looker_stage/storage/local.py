"""The stage in a local folder: each file is written under a hidden temporary name and renamed into place."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from target_looker_stage.errors import StageError


class LocalStorage:
    """A folder on this machine (``stage_uri`` without a scheme, or ``file://``)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.display_uri = str(self.root)

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".probe-{uuid.uuid4().hex}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            reason = exc.strerror or exc
            msg = f"stage folder {self.display_uri} is not writable ({reason}); fix stage_uri or permissions"
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
            final.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local_path, temporary)
            with temporary.open("rb") as handle:
                os.fsync(handle.fileno())
            os.replace(temporary, final)
            _fsync_dir(final.parent)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            msg = f"cannot write {key} to stage folder {self.display_uri}: {exc.strerror or exc}"
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


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
