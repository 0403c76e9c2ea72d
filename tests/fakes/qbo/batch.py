"""``POST /v3/company/{realm}/batch``: up to 30 queries and writes in one request.

    {"BatchItemRequest": [{"bId": "1", "Query": "select * from Invoice where Id = '7'"},
                          {"bId": "2", "operation": "update", "Invoice": {"Id": "7", "SyncToken": "0", ...}},
                          {"bId": "3", "operation": "delete", "Bill": {"Id": "3", "SyncToken": "1"}}]}
    -> {"BatchItemResponse": [{"QueryResponse": {...}, "bId": "1"}, {"Invoice": {...}, "bId": "2"},
                              {"Fault": {"Error": [...], "type": "ValidationFault"}, "bId": "3"}],
        "time": ...}

A failing item answers with its own Fault; the others still run. More than 30 items is a 400 Fault.
"""

from __future__ import annotations

from typing import Any

import orjson

from tests.fakes.qbo.catalog import BY_LOWER
from tests.fakes.qbo.faults import FaultResponse, fault_dict, validation
from tests.fakes.qbo.render import dumps
from tests.fakes.qbo.service import DataService

MAX_ITEMS = 30
BATCHES_PER_MINUTE = 40
OPERATIONS = frozenset({"create", "update", "delete"})


def run_batch(service: DataService, realm_id: str, payload: Any) -> bytes:
    """The whole batch answer, or a Fault for a malformed or oversized batch."""
    items = payload.get("BatchItemRequest") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items:
        raise validation("BatchItemRequest must be a non-empty list", "2020")
    if len(items) > MAX_ITEMS:
        raise validation(f"Batch size {len(items)} exceeds the maximum of {MAX_ITEMS} items", "2010")
    answers = [_run_item(service, realm_id, item) for item in items]
    time_text = service.time_text(realm_id).encode()
    return b'{"BatchItemResponse":[' + b",".join(answers) + b'],"time":"' + time_text + b'"}'


def _run_item(service: DataService, realm_id: str, item: Any) -> bytes:
    if not isinstance(item, dict):
        item = {}
    bid = orjson.dumps(str(item.get("bId", "")))
    try:
        part = _item_part(service, realm_id, item)
    except FaultResponse as fault:
        body = fault_dict(fault.code, fault.message, fault.detail, fault.fault_type, "")["Fault"]
        part = b'"Fault":' + dumps(body)
    return b"{" + part + b',"bId":' + bid + b"}"


def _item_part(service: DataService, realm_id: str, item: dict[str, Any]) -> bytes:
    if "Query" in item:
        return service.query_part(realm_id, str(item["Query"]))
    operation = str(item.get("operation", "")).lower()
    entities = [key for key in item if key.lower() in BY_LOWER]
    if operation not in OPERATIONS or len(entities) != 1:
        raise validation("A batch item needs a Query, or an operation and exactly one entity object", "2020")
    [entity] = entities
    record = item[entity]
    if operation == "create" and isinstance(record, dict) and "Id" in record:
        raise validation("create must not carry an Id", "2020")
    if operation in {"update", "delete"} and not (isinstance(record, dict) and "Id" in record):
        raise validation(f"{operation} needs the Id and SyncToken", "2020")
    return service.write_part(realm_id, entity, record, "delete" if operation == "delete" else None)
