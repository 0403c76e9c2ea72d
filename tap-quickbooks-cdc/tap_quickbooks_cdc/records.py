"""Turning QBO objects into records: UTC `last_updated_at`, `realm_id`, delete stubs, de-duplication.

A record that would be wrong downstream is refused (an `ApiError`, so only its realm fails) rather than
emitted or dropped: an object without an `Id` (it would collapse with every other one in the upsert), an
`Id` or `SyncToken` that is neither a string nor an integer, and a `LastUpdatedTime` that is not an ISO
date-time with an offset (Intuit always sends the company's offset; without one the instant is unknown).
An integer `Id`/`SyncToken` is turned into its decimal string, the type the schema and the target use.
"""

from __future__ import annotations

import datetime
import sys
import typing as t

from tap_quickbooks_cdc.errors import ApiError

DELETED_SYNC_TOKEN = sys.maxsize  # a delete is final: nothing may follow it for the same Id
#: Set by the CDC reader on an object whose MetaData has no LastUpdatedTime: the response's server time,
#: the latest instant the change can have happened at. Popped by `make_record`.
OBSERVED_AT_KEY = "_qbo_observed_at"


class TimeFormatError(ValueError):
    """A timestamp that is not ISO 8601 with a UTC offset."""


def to_utc_text(value: datetime.datetime) -> str:
    """The one bookmark format: "2026-11-20T17:00:00+00:00" (string order == time order)."""
    return value.astimezone(datetime.UTC).replace(microsecond=0).isoformat()


def parse_time(text: str) -> datetime.datetime:
    """Parse an ISO timestamp from state or settings (any offset, optional Z / fraction); naive means UTC."""
    parsed = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


_utc_cache: dict[str, str] = {}


def normalise_time(text: str) -> str:
    """QBO LastUpdatedTime (company-local offset) -> UTC bookmark text; memoised (values repeat).

    Raises TimeFormatError when `text` is not an ISO date-time or has no offset: QBO always prints the
    company's offset, and reading a bare time as UTC would shift it by that offset without a word.
    """
    if type(text) is not str:
        raise TimeFormatError("is not a string")
    cached = _utc_cache.get(text)
    if cached is None:
        try:
            parsed = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise TimeFormatError("is not an ISO 8601 date-time") from None
        if parsed.tzinfo is None:
            raise TimeFormatError("has no UTC offset")
        try:
            utc = to_utc_text(parsed)
        except OverflowError:
            raise TimeFormatError("is out of range") from None
        if len(_utc_cache) > 100_000:
            _utc_cache.clear()
        cached = _utc_cache[text] = utc
    return cached


def _refused(realm_id: str, what: str) -> ApiError:
    return ApiError(
        realm_id,
        f"{what}; the realm stops here (state does not advance): report it to Intuit with the "
        "response's intuit_tid.",
    )


def record_id(obj: t.Mapping[str, t.Any], realm_id: str, entity: str) -> str:
    """The object's `Id` as a string; an integer becomes its decimal string, anything else fails the realm."""
    value = obj.get("Id")
    if type(value) is str and value:
        return value
    if type(value) is int:
        return str(value)
    problem = "has no Id" if value is None or value == "" else f"has an Id of type {type(value).__name__}"
    raise _refused(realm_id, f"{entity} object {problem}, so it cannot be keyed or de-duplicated")


def _meta_time(obj: t.Mapping[str, t.Any], field: str, realm_id: str, entity: str) -> str | None:
    """UTC text of `MetaData.<field>`; None when absent; fails the realm, naming entity and Id, when
    it is unreadable or has no offset."""
    meta = obj.get("MetaData")
    value = meta.get(field) if isinstance(meta, dict) else None
    if value is None or value == "":
        return None
    try:
        return normalise_time(value)
    except TimeFormatError as exc:
        raise _refused(realm_id, f"{entity} Id {obj.get('Id')!s}: MetaData.{field} {exc}") from None


def changed_at(obj: t.Mapping[str, t.Any], realm_id: str, entity: str) -> str | None:
    """UTC text of the object's `MetaData.LastUpdatedTime` (None when it has none)."""
    return _meta_time(obj, "LastUpdatedTime", realm_id, entity)


def make_record(obj: dict[str, t.Any], realm_id: str, entity: str = "record") -> dict[str, t.Any]:
    """Add `realm_id`, `last_updated_at` and, for a CDC delete stub, `_sdc_deleted_at`.

    `last_updated_at` is LastUpdatedTime, else the CDC response time stamped by the reader (a change
    without a time is still a change: it is kept, never dropped), else CreateTime. Raises ApiError for a
    record that cannot be emitted correctly (see the module docstring)."""
    obj["Id"] = record_id(obj, realm_id, entity)
    token = obj.get("SyncToken")
    if type(token) is int:
        obj["SyncToken"] = str(token)
    elif token is not None and type(token) is not str:
        raise _refused(realm_id, f"{entity} Id {obj['Id']}: SyncToken of type {type(token).__name__}")
    observed = obj.pop(OBSERVED_AT_KEY, None)
    updated = changed_at(obj, realm_id, entity) or observed or _meta_time(obj, "CreateTime", realm_id, entity)
    deleted = obj.get("status") == "Deleted"
    if deleted and updated is None:
        raise _refused(realm_id, f"deleted {entity} Id {obj['Id']} comes without any time to mark it deleted")
    obj["realm_id"] = realm_id
    obj["last_updated_at"] = updated
    obj["_sdc_deleted_at"] = updated if deleted else None
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

    def seed(self, versions: t.Mapping[str, int]) -> None:
        """Versions emitted by an earlier run (the state's `recent_versions`): not emitted again."""
        for record_id, token in versions.items():
            if token > self._seen.get(record_id, -1):
                self._seen[record_id] = token

    def __len__(self) -> int:
        return len(self._seen)
