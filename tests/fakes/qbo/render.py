"""Deterministic record rendering: (seed, realm, entity, index, state) -> QBO JSON body; serialisation."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

from tests.fakes.qbo.basics import Company, is_inactive
from tests.fakes.qbo.catalog import ENTITIES, NAME_LISTS, entity_counts
from tests.fakes.qbo.render_lists import LIST_RENDERERS
from tests.fakes.qbo.render_payments import PAYMENT_RENDERERS, deposit_core, payment_core
from tests.fakes.qbo.render_purchases import (
    PURCHASE_RENDERERS,
    bill_core,
    bill_payment_core,
    journal_core,
    purchase_core,
    transfer_core,
    vendor_credit_core,
)
from tests.fakes.qbo.render_sales import SALES_RENDERERS, sales_core
from tests.fakes.qbo.timefmt import LocalClock, offset_for_company

DEFAULT_REALM = "9341453000000001"
FIXED_ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
_LISTS = frozenset(NAME_LISTS)
_SALES_POSTING = frozenset({"Invoice", "CreditMemo", "SalesReceipt", "RefundReceipt"})
POSTING_CORES: dict[str, Callable[[Company, int], dict[str, Any]]] = {
    "Payment": payment_core,
    "Deposit": deposit_core,
    "Bill": lambda company, idx: bill_core(company, idx)[0],
    "BillPayment": bill_payment_core,
    "Purchase": purchase_core,
    "VendorCredit": vendor_credit_core,
    "JournalEntry": journal_core,
    "Transfer": transfer_core,
}


def posting_fields(company: Company, entity: str, idx: int) -> dict[str, Any]:
    """The fields of base document ``idx`` that ``postings.postings`` reads, without rendering the rest:
    the renderers build the same fields with the same functions, so the ledger can sum a million documents
    in seconds."""
    if entity in _SALES_POSTING:
        return sales_core(company, entity, idx)[0]
    return POSTING_CORES[entity](company, idx)


def render_base(company: Company, entity: str, idx: int, create_ts: int) -> dict[str, Any]:
    """The generated body of record ``idx`` (no Id, SyncToken, MetaData or Active)."""
    if entity in _LISTS:
        return LIST_RENDERERS[entity](company, idx)
    if entity in SALES_RENDERERS:
        return SALES_RENDERERS[entity](company, idx, create_ts)
    if entity in PAYMENT_RENDERERS:
        return PAYMENT_RENDERERS[entity](company, idx, create_ts)
    return PURCHASE_RENDERERS[entity](company, idx, create_ts)


def finish(
    company: Company,
    entity: str,
    body: dict[str, Any],
    *,
    idx: int,
    sync: int,
    create_ts: int,
    lut: int,
    active: bool,
) -> dict[str, Any]:
    """Add identity, version and audit fields to a body (in place) and return it."""
    clock = company.clock
    body["Id"] = str(idx + 1)
    body["SyncToken"] = str(sync)
    body["MetaData"] = {"CreateTime": clock.seconds(create_ts), "LastUpdatedTime": clock.seconds(lut)}
    if entity in _LISTS:
        body["Active"] = active
    return body


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TypeError(f"non-finite amount {value}")
        return orjson.Fragment(format(value, "f"))
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(value: Any) -> bytes:
    """JSON bytes; Decimal amounts are written verbatim (``12.30``), never through float."""
    return orjson.dumps(value, default=_default)


def make_company(
    seed: int,
    realm_id: str,
    *,
    index: int,
    records: int,
    anchor: datetime,
    history_days: int,
    multi_ar_departments: bool = False,
) -> Company:
    """A company whose history ends at ``anchor`` and spans ``history_days``."""
    end = int(anchor.timestamp())
    return Company(
        seed=seed,
        realm_id=realm_id,
        index=index,
        counts=entity_counts(records),
        clock=LocalClock(offset_for_company(index)),
        history_start=end - history_days * 86_400,
        history_end=end,
        multi_ar_departments=multi_ar_departments,
    )


def iter_entity_records(
    entity: str,
    count: int,
    seed: int = 1,
    realm_id: str = DEFAULT_REALM,
    *,
    anchor: datetime | None = None,
    history_days: int = 730,
) -> Iterator[dict[str, Any]]:
    """``count`` records of one entity exactly as the simulator would serve them (amounts as Decimal).

    Needs no server; deterministic in (entity, count, seed, realm_id, anchor).
    """
    for line in iter_entity_json(entity, count, seed, realm_id, anchor=anchor, history_days=history_days):
        yield json.loads(line, parse_float=Decimal)


def iter_entity_json(
    entity: str,
    count: int,
    seed: int = 1,
    realm_id: str = DEFAULT_REALM,
    *,
    anchor: datetime | None = None,
    history_days: int = 730,
) -> Iterator[bytes]:
    """Like ``iter_entity_records`` but yields each record as compact JSON bytes (several times faster)."""
    if entity not in ENTITIES:
        raise ValueError(f"unknown entity {entity!r}")
    company = make_company(
        seed, realm_id, index=0, records=400, anchor=anchor or FIXED_ANCHOR, history_days=history_days
    )
    company.counts[entity] = count
    for idx in range(count):
        lut = company.base_lut(entity, idx)
        sync, created = company.base_version(entity, idx)
        body = render_base(company, entity, idx, created)
        active = not is_inactive(company, entity, idx)
        yield dumps(
            finish(company, entity, body, idx=idx, sync=sync, create_ts=created, lut=lut, active=active)
        )
