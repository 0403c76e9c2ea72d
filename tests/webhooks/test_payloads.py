"""Both of Intuit's body formats read into events with an identity and an action."""

from __future__ import annotations

import contextlib
import json

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tap_quickbooks_cdc.webhooks.payloads import PayloadError, parse_body
from tests.fakes.qbo.webhooks import WebhookEvent, build_body

REALM = "9130350001"


@pytest.mark.parametrize(
    ("operation", "action"),
    [
        ("Create", "fetch"),
        ("Update", "fetch"),
        ("Emailed", "fetch"),
        ("Void", "fetch"),
        ("Merge", "fetch"),
        ("Delete", "delete"),
    ],
)
@pytest.mark.parametrize("fmt", ["legacy", "cloudevents"])
def test_each_operation_of_either_format_maps_onto_fetch_or_delete(
    fmt: str, operation: str, action: str
) -> None:
    body = build_body([WebhookEvent(REALM, "JournalEntry", "42", operation, "2026-11-20T10:00:00.000Z")], fmt)
    if (
        fmt == "cloudevents" and operation == "Emailed"
    ):  # the simulator has no verb for it: Intuit's is "emailed"
        body = body.replace(b".emailed.v1", b".emailed.v1")
    [event] = parse_body(body)
    assert (event.realm_id, event.entity, event.entity_id) == (REALM, "JournalEntry", "42")
    assert (event.operation, event.action, event.source_format) == (operation, action, fmt)


def test_a_legacy_merge_also_deletes_the_merged_away_record() -> None:
    body = orjson.dumps(
        {
            "eventNotifications": [
                {
                    "realmId": REALM,
                    "dataChangeEvent": {
                        "entities": [
                            {
                                "name": "Customer",
                                "id": "7",
                                "operation": "Merge",
                                "lastUpdated": "2026-11-20T10:00:00.000Z",
                                "deletedId": "9",
                            }
                        ]
                    },
                }
            ]
        }
    )
    survivor, gone = parse_body(body)
    assert (survivor.entity_id, survivor.action) == ("7", "fetch")
    assert (gone.entity_id, gone.action) == ("9", "delete")
    assert survivor.key != gone.key


def test_an_unknown_cloudevents_verb_is_fetched_and_an_unknown_entity_keeps_its_name() -> None:
    body = orjson.dumps(
        [
            {
                "id": "e-1",
                "type": "qbo.widgetthing.archived.v2",
                "intuitaccountid": REALM,
                "intuitentityid": "5",
                "time": "2026-11-20T10:00:00Z",
            }
        ]
    )
    [event] = parse_body(body)
    assert (event.entity, event.operation, event.action) == ("Widgetthing", "Archived", "fetch")


def test_identity_is_the_cloudevent_id_or_the_five_legacy_fields() -> None:
    event = WebhookEvent(REALM, "Invoice", "42", "Update", "2026-11-20T10:00:00.000Z")
    legacy_once, legacy_again = (
        parse_body(build_body([event], "legacy")),
        parse_body(build_body([event], "legacy")),
    )
    assert legacy_once[0].key == legacy_again[0].key
    later = WebhookEvent(REALM, "Invoice", "42", "Update", "2026-11-20T10:00:01.000Z")
    assert parse_body(build_body([later], "legacy"))[0].key != legacy_once[0].key
    cloud_once, cloud_again = (
        parse_body(build_body([event], "cloudevents")),
        parse_body(build_body([event], "cloudevents")),
    )
    assert cloud_once[0].key != cloud_again[0].key  # the simulator gives each delivery a new id


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"null",
        b"{}",
        b'{"eventNotifications": {}}',
        b'{"eventNotifications": [{"realmId": 5, "dataChangeEvent": {"entities": []}}]}',
        b'{"eventNotifications": [{"realmId": "1", "dataChangeEvent": {}}]}',
        b'{"eventNotifications": [{"realmId": "1", "dataChangeEvent": {"entities": [1]}}]}',
        b"[1]",
        b'[{"id":"x","type": "invoice.updated", "intuitaccountid": "1", "intuitentityid": "2", "time": "t"}]',
        b'[{"id": "x", "type": "qbo.invoice.updated.v1", "intuitaccountid": "1", "time": "t"}]',
    ],
)
def test_a_wrong_shape_is_a_payload_error(body: bytes) -> None:
    with pytest.raises(PayloadError):
        parse_body(body)


@given(st.binary(max_size=300))
def test_any_bytes_are_events_or_a_payload_error_never_another_exception(raw: bytes) -> None:
    with contextlib.suppress(PayloadError):
        parse_body(raw)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda children: (
            st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=20), children, max_size=3)
        ),
        max_leaves=20,
    )
)
def test_any_json_document_is_events_or_a_payload_error(document: object) -> None:
    for wrapped in (document, {"eventNotifications": document}, [document]):
        with contextlib.suppress(PayloadError):
            parse_body(json.dumps(wrapped).encode())
