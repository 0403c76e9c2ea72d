"""SyncToken-safe sparse updates: write a few fields of a QBO record without overwriting another writer.

Why: QBO refuses an update whose SyncToken is not the record's current one (Fault 5010, stale object), and
the usual fix, "retry with the latest token", silently overwrites whatever the other writer did to the same
fields. Here a stale write re-reads the record and retries with the fresh SyncToken only when the fields being
set still hold the values the caller read (the other writer changed something else); when one of them
changed, it refuses with one error naming those fields, and nothing is written. Retries are bounded.

The pipeline itself only reads: this backs the operator command `tap-quickbooks-cdc-update`.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from tap_quickbooks_cdc.errors import ApiError, StaleObjectError

if t.TYPE_CHECKING:
    from collections.abc import Mapping

    from tap_quickbooks_cdc.api import QboClient

MAX_ATTEMPTS = 3


class UpdateConflictError(ApiError):
    """Another writer changed a field this update sets, after the caller read the record."""


@dataclass(frozen=True)
class UpdateOutcome:
    """The record after the update, the SyncToken the caller read, and the writes it took."""

    record: dict[str, t.Any]
    read_sync_token: str
    attempts: int
    already_set: bool = False  # another writer (or a committed earlier attempt) had set the same values


def read_record(client: QboClient, entity: str, record_id: str) -> dict[str, t.Any]:
    """`GET /{entity}/{id}`: the record as QBO holds it now."""
    body = client.get(f"{entity.lower()}/{record_id}", {})
    record = body.get(entity)
    if not isinstance(record, dict) or "SyncToken" not in record:
        raise ApiError(
            client.realm_id, f"reading {entity} {record_id} returned no {entity} with a SyncToken."
        )
    return record


def sparse_update(
    client: QboClient,
    entity: str,
    record_id: str,
    fields: Mapping[str, t.Any],
    *,
    read: Mapping[str, t.Any] | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> UpdateOutcome:
    """Set `fields` on `entity` `record_id` with the SyncToken of `read` (the record as the caller read it;
    read now when None). Raises UpdateConflictError when another writer changed one of `fields` since, and
    ApiError when every one of `max_attempts` writes was stale."""
    base = dict(read) if read is not None else read_record(client, entity, record_id)
    read_token = str(base["SyncToken"])
    for attempt in range(1, max_attempts + 1):
        document = {**fields, "Id": record_id, "SyncToken": str(base["SyncToken"]), "sparse": True}
        try:
            body = client.post(entity.lower(), document)
        except StaleObjectError:
            fresh = read_record(client, entity, record_id)
            changed = sorted(name for name in fields if fresh.get(name) != base.get(name))
            if changed and all(fresh.get(name) == value for name, value in fields.items()):
                return UpdateOutcome(fresh, read_token, attempt, already_set=True)
            if changed:
                raise UpdateConflictError(
                    client.realm_id,
                    f"{entity} {record_id}: another writer changed {', '.join(changed)} after it was read "
                    f"(SyncToken {base['SyncToken']} -> {fresh['SyncToken']}); nothing was written: read the "
                    "record again and decide on the new values.",
                ) from None
            base = fresh
            continue
        record = body.get(entity)
        if not isinstance(record, dict):
            raise ApiError(client.realm_id, f"updating {entity} {record_id} returned no {entity}.")
        return UpdateOutcome(record, read_token, attempt)
    raise ApiError(
        client.realm_id,
        f"{entity} {record_id} was changed by another writer before each of {max_attempts} writes (stale "
        "SyncToken, Fault 5010); nothing was written: run it again when the other writer is done.",
    )
