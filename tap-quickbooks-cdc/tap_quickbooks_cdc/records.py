"""Turning QBO objects into records: UTC `last_updated_at`, `realm_id`, delete stubs, de-duplication."""

from __future__ import annotations

import datetime
import sys
import typing as t

DELETED_SYNC_TOKEN = sys.maxsize  # a delete is final: nothing may follow it for the same Id


def to_utc_text(value: datetime.datetime) -> str:
    """The one bookmark format: "2026-11-20T17:00:00+00:00" (string order == time order)."""
    return value.astimezone(datetime.UTC).replace(microsecond=0).isoformat()


def parse_time(text: str) -> datetime.datetime:
    """Parse a QBO/ISO timestamp (any offset, optional Z / fraction); naive means UTC."""
    parsed = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


_utc_cache: dict[str, str] = {}


def normalise_time(text: str) -> str:
    """QBO LastUpdatedTime (company-local offset) -> UTC bookmark text; memoised (values repeat)."""
    cached = _utc_cache.get(text)
    if cached is None:
        if len(_utc_cache) > 100_000:
            _utc_cache.clear()
        cached = _utc_cache[text] = to_utc_text(parse_time(text))
    return cached


def make_record(obj: dict[str, t.Any], realm_id: str) -> dict[str, t.Any]:
    """Add `realm_id`, `last_updated_at` and, for a CDC delete stub, `_sdc_deleted_at`."""
    meta = obj.get("MetaData") or {}
    updated = meta.get("LastUpdatedTime") or meta.get("CreateTime")
    obj["realm_id"] = realm_id
    obj["last_updated_at"] = normalise_time(updated) if updated else None
    obj["_sdc_deleted_at"] = obj["last_updated_at"] if obj.get("status") == "Deleted" else None
    return obj


def sync_token_of(record: t.Mapping[str, t.Any]) -> int:
    """SyncToken as an integer ("10" is newer than "9"); a delete stub outranks every version."""
    if record.get("status") == "Deleted":
        return DELETED_SYNC_TOKEN
    try:
        return int(record.get("SyncToken") or 0)
    except (TypeError, ValueError):
        return 0


class Deduplicator:
    """Remembers the highest SyncToken emitted per Id for one (realm, entity) within a run."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def admit(self, record: t.Mapping[str, t.Any]) -> bool:
        """True if `record` is newer than anything emitted for its Id (and remember it)."""
        record_id = str(record.get("Id"))
        token = sync_token_of(record)
        previous = self._seen.get(record_id)
        if previous is not None and token <= previous:
            return False
        self._seen[record_id] = token
        return True

    def __len__(self) -> int:
        return len(self._seen)
