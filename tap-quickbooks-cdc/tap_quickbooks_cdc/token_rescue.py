"""Where a rotated refresh token goes when the token store will not take it, and how the next run finds it.

When a store write fails after a refresh, Intuit has already retired the spent token: the new one must
land somewhere the next run looks, or the company has to be reconnected. A rescue file has the store's
layout (`{"version": 1, "realms": {...}}`, mode 0600, written atomically) and is tried, in order, next
to a file store (`<store>.rescue`, the folder the next run mounts), in
`$XDG_STATE_HOME/tap-quickbooks-cdc/` (default `~/.local/state/tap-quickbooks-cdc/`) and in the temp
folder, named after the store's location. Every read of the store merges in the newest entry per realm
(by `updated_at`), and a realm's rescued entry is dropped once the store holds it again.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import tempfile
import typing as t
from pathlib import Path

Realms = dict[str, dict[str, t.Any]]
_OLDEST = datetime.datetime.min.replace(tzinfo=datetime.UTC)


def state_home() -> Path:
    """`$XDG_STATE_HOME/tap-quickbooks-cdc`, or `~/.local/state/tap-quickbooks-cdc`."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "tap-quickbooks-cdc"


def rescue_paths(location: str, beside: Path | None = None) -> list[Path]:
    """Rescue files for the store at `location`, most findable first (the temp folder last: it may not
    survive a reboot, but it is often on another disk)."""
    paths = [beside.with_name(beside.name + ".rescue")] if beside is not None else []
    digest = hashlib.sha256(location.encode()).hexdigest()[:16]
    paths.append(state_home() / f"rescued-tokens-{digest}.json")
    paths.append(Path(tempfile.gettempdir()) / f"tap-quickbooks-cdc-rescued-tokens-{digest}.json")
    return paths


def updated_at(entry: t.Mapping[str, t.Any] | None) -> datetime.datetime:
    """When an entry was written (the oldest possible time when unknown)."""
    text = (entry or {}).get("updated_at")
    try:
        stamp = datetime.datetime.fromisoformat(str(text))
    except ValueError:
        return _OLDEST
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=datetime.UTC)


def _read(path: Path) -> Realms:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # missing (the usual case) or unreadable: nothing rescued there
    realms = payload.get("realms") if isinstance(payload, dict) else None
    return {k: v for k, v in realms.items() if isinstance(v, dict)} if isinstance(realms, dict) else {}


def dump(payload: dict[str, t.Any]) -> bytes:
    """The bytes of a store or rescue file."""
    return json.dumps(payload, indent=2, sort_keys=True).encode()


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` by `data`: private temp file in the same folder, fsync, rename, fsync the folder."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class Rescue:
    """The rescue files of one token store."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths

    def merge_into(self, payload: dict[str, t.Any]) -> dict[str, Path]:
        """Merge rescued entries newer than the store's into `payload`; {realm: the rescue file used}."""
        realms = payload.setdefault("realms", {})
        used: dict[str, Path] = {}
        for path in self.paths:
            for realm_id, entry in _read(path).items():
                if entry.get("refresh_token") and updated_at(entry) > updated_at(realms.get(realm_id)):
                    realms[realm_id] = entry
                    used[realm_id] = path
        return used

    def save(self, realm_id: str, entry: dict[str, t.Any]) -> tuple[Path | None, list[str]]:
        """Write `entry` to the first rescue file that takes it: (that file or None, problems met)."""
        problems = []
        for path in self.paths:
            try:
                realms = _read(path)
                realms[realm_id] = entry
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                write_atomic(path, dump({"version": 1, "realms": realms}))
            except OSError as exc:
                problems.append(f"{path}: {exc.strerror or type(exc).__name__}")
                continue
            return path, problems
        return None, problems

    def discard(self, realm_id: str) -> None:
        """Drop the realm's rescued entries (best effort: a leftover is older than the store's and loses)."""
        for path in self.paths:
            realms = _read(path)
            if realm_id not in realms:
                continue
            del realms[realm_id]
            with contextlib.suppress(OSError):
                if realms:
                    write_atomic(path, dump({"version": 1, "realms": realms}))
                else:
                    path.unlink()
