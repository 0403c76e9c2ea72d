"""The CDC coordinator, against a scripted API: one shared request, per-entity paging past the cap,
and the errors that send a stream to the query endpoint."""

from __future__ import annotations

import typing as t

import pytest

from tap_quickbooks_cdc.cdc import CDC_CAP, CdcCoordinator
from tap_quickbooks_cdc.errors import CdcOverflowError, CdcWindowError

SINCE = "2026-11-01T00:00:00+00:00"


def _obj(entity: str, number: int, second: int = 0) -> dict[str, t.Any]:
    stamp = f"2026-11-02T00:00:{second:02d}+00:00"
    return {"Id": f"{entity}-{number}", "SyncToken": "0", "MetaData": {"LastUpdatedTime": stamp}}


def _body(objects: dict[str, list[dict[str, t.Any]]]) -> dict[str, t.Any]:
    parts = [{name: rows, "startPosition": 1, "maxResults": len(rows)} for name, rows in objects.items()]
    return {"CDCResponse": [{"QueryResponse": parts or [{}]}], "time": "2026-11-25T10:00:00-08:00"}


class ScriptedApi:
    """Answers CDC requests from a list of canned bodies and records what was asked."""

    realm_id = "9130"

    def __init__(self, *answers: dict[str, t.Any] | Exception) -> None:
        self.answers = list(answers)
        self.asked: list[dict[str, str]] = []

    def get(self, path: str, params: dict[str, str]) -> dict[str, t.Any]:
        assert path == "cdc"
        self.asked.append(params)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def _take(coordinator: CdcCoordinator, entity: str) -> list[str]:
    return [o["Id"] for batch in coordinator.take(entity, SINCE) for o in batch]


def test_one_request_serves_every_planned_entity() -> None:
    api = ScriptedApi(_body({"Invoice": [_obj("Invoice", 1)], "Customer": [_obj("Customer", 1)]}))
    coordinator = CdcCoordinator(api, lambda: {"Invoice": SINCE, "Customer": SINCE, "Term": SINCE})
    assert _take(coordinator, "Customer") == ["Customer-1"]
    assert _take(coordinator, "Invoice") == ["Invoice-1"]
    assert _take(coordinator, "Term") == []
    assert api.asked == [{"entities": "Customer,Invoice,Term", "changedSince": SINCE}]


def test_a_full_response_is_asked_again_per_entity_advancing_changed_since() -> None:
    full = {"Invoice": [_obj("Invoice", n, n % 2) for n in range(CDC_CAP)]}
    api = ScriptedApi(
        _body(full),  # shared request: full, so nothing is served from it
        _body(full),  # Invoice page 1: full again, newest second is :01
        _body({"Invoice": [_obj("Invoice", n, 1) for n in range(0, CDC_CAP, 2)]}),  # under the cap: done
        _body({"Term": [_obj("Term", 1)]}),
    )
    coordinator = CdcCoordinator(api, lambda: {"Invoice": SINCE, "Term": SINCE})
    assert len(_take(coordinator, "Invoice")) == CDC_CAP + CDC_CAP // 2  # the boundary second comes twice
    assert _take(coordinator, "Term") == ["Term-1"]
    assert [a["entities"] for a in api.asked] == ["Invoice,Term", "Invoice", "Invoice", "Term"]
    assert api.asked[2]["changedSince"] == "2026-11-02T00:00:01+00:00"


def test_more_changes_in_one_second_than_the_cap_cannot_be_paged() -> None:
    same_second = {"Invoice": [_obj("Invoice", n) for n in range(CDC_CAP)]}
    api = ScriptedApi(_body(same_second), _body(same_second), _body(same_second))
    coordinator = CdcCoordinator(api, lambda: {"Invoice": SINCE})
    with pytest.raises(CdcOverflowError):
        _take(coordinator, "Invoice")


def test_a_window_error_is_learnt_once_per_realm() -> None:
    api = ScriptedApi(CdcWindowError("9130", "CDC refused changedSince"))
    coordinator = CdcCoordinator(api, lambda: {"Invoice": SINCE, "Bill": SINCE})
    for entity in ("Invoice", "Bill"):
        with pytest.raises(CdcWindowError):
            _take(coordinator, entity)
    assert len(api.asked) == 1
