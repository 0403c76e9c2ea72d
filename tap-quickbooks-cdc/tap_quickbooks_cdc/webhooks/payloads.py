"""Intuit's two webhook body formats, read into one `Event` shape with an identity and an action.

Legacy: `{"eventNotifications": [{"realmId", "dataChangeEvent": {"entities": [{"name", "id", "operation",
"lastUpdated"}]}}]}`. CloudEvents (mandatory for apps from 2026): a JSON array of `{"id", "type":
"qbo.invoice.updated.v1", "intuitaccountid", "intuitentityid", "time", ...}`.

Why every operation but Delete means "fetch the record": a notification never carries the record, and
fetching by Id is right for each of them. Create, Update and Emailed change the record; Void keeps the
transaction (QuickBooks zeroes its amounts and keeps it, so the warehouse must see the voided version, not
lose the row); Merge keeps the surviving record `id` (fetched) and removes the merged-away one, which Intuit
names in `deletedId` when it sends it (that one becomes a delete; otherwise CDC's delete stub catches it).
An unknown operation or CloudEvents verb (Intuit has not confirmed the void/merge verbs) is fetched too:
a fetch is never wrong, a skipped change would be. Only Delete skips the fetch (there is nothing left).

Why the identity: Intuit retries and duplicates deliveries; the inbox is unique on `key`, so a retry is
stored once. CloudEvents have their own `id`; a legacy entity has none, so its key is realm, entity, Id,
operation and lastUpdated (the same change notified twice has all five equal).
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass

import orjson

FETCH: t.Final = "fetch"
DELETE: t.Final = "delete"
Action = t.Literal["fetch", "delete"]

#: QBO entity names by their lower-case form (CloudEvents `type` is `qbo.<entity lower-case>.<verb>.v<n>`).
ENTITY_NAMES = {
    name.lower(): name
    for name in [
        *("Account", "Attachable", "Bill", "BillPayment", "Budget", "Class", "CompanyCurrency"),
        *("CreditCardPayment", "CreditMemo", "Currency", "Customer", "Department", "Deposit", "Employee"),
        *("Estimate", "Invoice", "Item", "JournalCode", "JournalEntry", "Payment", "PaymentMethod"),
        *("Preferences", "Purchase", "PurchaseOrder", "RefundReceipt", "SalesReceipt", "TaxAgency"),
        *("TaxCode", "TaxRate", "Term", "TimeActivity", "Transfer", "Vendor", "VendorCredit"),
    ]
}
#: CloudEvents verbs by legacy operation name.
VERB_OPERATIONS = {
    "created": "Create",
    "updated": "Update",
    "deleted": "Delete",
    "merged": "Merge",
    "voided": "Void",
    "emailed": "Emailed",
}
_CLOUD_TYPE = re.compile(r"^qbo\.([a-z][a-z0-9]*)\.([a-z][a-z0-9_]*)\.v[0-9]+$", re.IGNORECASE)
MAX_TEXT = 200  # longest identifier, name or time accepted (Intuit's are a few dozen characters)


class PayloadError(ValueError):
    """The body is not JSON, or not one of Intuit's two notification shapes (answered 400)."""


@dataclass(frozen=True)
class Event:
    """One change of one record: what to do (`action`) with `entity` `entity_id` of `realm_id`."""

    key: str  # identity: the inbox stores each key once
    realm_id: str
    entity: str  # QBO entity name, e.g. "Invoice"
    entity_id: str
    operation: str  # Create, Update, Delete, Merge, Void, Emailed (or the verb Intuit sent)
    action: Action
    occurred_at: str  # Intuit's lastUpdated / time, as sent
    source_format: t.Literal["legacy", "cloudevents"]


def action_of(operation: str) -> Action:
    """`delete` for Delete (nothing is left to fetch), `fetch` for everything else (module docstring)."""
    return DELETE if operation.lower() == "delete" else FETCH


def entity_name(name: str) -> str:
    """The canonical QBO name (`journalentry` -> `JournalEntry`); an unknown name keeps its letters, first one
    upper-cased, so the tap can name it when it drops it."""
    return ENTITY_NAMES.get(name.lower(), name[:1].upper() + name[1:])


def parse_body(raw: bytes) -> list[Event]:
    """The events of a (verified) body; PayloadError names what is wrong, never a value from the body."""
    try:
        document: object = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise PayloadError("the body is not JSON (or not UTF-8)") from None
    if isinstance(document, list):
        return [_cloud_event(item, index) for index, item in enumerate(document)]
    if isinstance(document, dict) and "eventNotifications" in document:
        return _legacy_events(document["eventNotifications"])
    raise PayloadError("the body is neither a CloudEvents array nor an object with 'eventNotifications'")


def _text(container: t.Mapping[str, object], key: str, where: str) -> str:
    value = container.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise PayloadError(f"{where} has no '{key}' text")
    return value.strip()


def _legacy_events(notifications: object) -> list[Event]:
    if not isinstance(notifications, list):
        raise PayloadError("'eventNotifications' is not a list")
    events: list[Event] = []
    for n, notification in enumerate(notifications):
        where = f"eventNotifications[{n}]"
        if not isinstance(notification, dict):
            raise PayloadError(f"{where} is not an object")
        realm = _text(notification, "realmId", where)
        change = notification.get("dataChangeEvent")
        entities = change.get("entities") if isinstance(change, dict) else None
        if not isinstance(entities, list):
            raise PayloadError(f"{where} has no 'dataChangeEvent.entities' list")
        for e, entity in enumerate(entities):
            at = f"{where}.dataChangeEvent.entities[{e}]"
            if not isinstance(entity, dict):
                raise PayloadError(f"{at} is not an object")
            name = entity_name(_text(entity, "name", at))
            record_id = _text(entity, "id", at)
            operation = _text(entity, "operation", at)
            stamp = _text(entity, "lastUpdated", at)
            key = "legacy|" + "|".join((realm, name, record_id, operation, stamp))
            events.append(
                Event(key, realm, name, record_id, operation, action_of(operation), stamp, "legacy")
            )
            merged_away = entity.get("deletedId")
            if operation.lower() == "merge" and isinstance(merged_away, str) and merged_away.strip():
                gone = merged_away.strip()[:MAX_TEXT]
                events.append(
                    Event(f"{key}|deleted|{gone}", realm, name, gone, operation, DELETE, stamp, "legacy")
                )
    return events


def _cloud_event(item: object, index: int) -> Event:
    where = f"event [{index}]"
    if not isinstance(item, dict):
        raise PayloadError(f"{where} is not an object")
    event_id = _text(item, "id", where)
    match = _CLOUD_TYPE.match(_text(item, "type", where))
    if match is None:
        raise PayloadError(f"{where} has a 'type' that is not qbo.<entity>.<verb>.v<n>")
    entity, verb = entity_name(match.group(1)), match.group(2).lower()
    operation = VERB_OPERATIONS.get(verb, verb[:1].upper() + verb[1:])
    realm = _text(item, "intuitaccountid", where)
    stamp = _text(item, "time", where)
    return Event(
        key=f"cloudevents|{realm}|{event_id}",
        realm_id=realm,
        entity=entity,
        entity_id=_text(item, "intuitentityid", where),
        operation=operation,
        action=action_of(operation),
        occurred_at=stamp,
        source_format="cloudevents",
    )
