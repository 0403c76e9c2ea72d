"""Fuzzing record handling: any object a QBO response may hold (any Id, SyncToken, MetaData, status)
becomes a correct record or fails its realm with one ApiError line naming the entity; never another
exception, never a record without a string Id or with a time that is not UTC bookmark text."""

from __future__ import annotations

import typing as t

from hypothesis import given
from hypothesis import strategies as st

from tap_quickbooks_cdc.cdc import parse_cdc
from tap_quickbooks_cdc.errors import ApiError
from tap_quickbooks_cdc.records import make_record

REALM = "9130"
times = st.sampled_from(
    [
        "2026-09-19T13:16:17-07:00",
        "2026-11-20T17:00:00.926Z",
        "2026-11-20T10:00:00",  # no offset
        "0001-01-01T00:00:00+01:00",  # no UTC form
        "yesterday",
        "",
    ]
)
anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner, max_size=2),
    max_leaves=4,
)
meta = st.fixed_dictionaries(
    {}, optional={"LastUpdatedTime": times | anything, "CreateTime": times | anything}
)
objects = st.fixed_dictionaries(
    {},
    optional={
        "Id": st.sampled_from(["42", "", 42, 4.2, True]) | anything,
        "SyncToken": st.sampled_from(["3", 3, None]) | anything,
        "MetaData": meta | anything,
        "status": st.just("Deleted") | anything,
        "domain": st.just("QBO"),
    },
)


def _check(record: dict[str, t.Any]) -> None:
    assert isinstance(record["Id"], str)
    assert record["Id"]
    assert record.get("SyncToken") is None or isinstance(record["SyncToken"], str)
    updated = record["last_updated_at"]
    assert updated is None or (isinstance(updated, str) and updated.endswith("+00:00"))
    if record.get("status") == "Deleted":
        assert record["_sdc_deleted_at"] == updated
        assert updated is not None


def _assert_one_line(error: ApiError) -> None:
    assert error.realm_id == REALM
    assert "\n" not in str(error)
    assert "Invoice" in str(error) or "CDC response" in str(error)


@given(objects)
def test_any_query_object_is_a_correct_record_or_fails_its_realm_in_one_line(obj: dict[str, t.Any]) -> None:
    try:
        record = make_record(dict(obj), REALM, "Invoice")
    except ApiError as exc:
        _assert_one_line(exc)
        return
    _check(record)


class _Client:
    realm_id = REALM

    def get(self, path: str, params: dict[str, str]) -> dict[str, t.Any]:
        raise NotImplementedError


@given(st.lists(objects, max_size=3), times | anything)
def test_any_cdc_object_is_a_correct_record_or_fails_its_realm_in_one_line(
    batch: list[dict[str, t.Any]], response_time: t.Any
) -> None:
    body = {
        "CDCResponse": [{"QueryResponse": [{"Invoice": [dict(o) for o in batch]}]}],
        "time": response_time,
    }
    try:
        parsed = parse_cdc(_Client(), body)
        records = [make_record(obj, REALM, "Invoice") for obj in parsed.get("Invoice", [])]
    except ApiError as exc:
        _assert_one_line(exc)
        return
    assert len(records) == len(batch), "nothing dropped"
    for record in records:
        _check(record)
