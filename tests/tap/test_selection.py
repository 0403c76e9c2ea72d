"""Catalog selection is honoured: deselected streams are not read, deselected fields are not emitted."""

from __future__ import annotations

import contextlib
import io
import typing as t
from pathlib import Path

from tap_quickbooks_cdc.tap import TapQuickBooksCDC
from tests.tap.harness import parse_messages, tap_config


def _catalog_without(field: str, keep: str) -> dict[str, t.Any]:
    catalog = TapQuickBooksCDC(config={}).catalog_dict
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["stream"] == keep
            elif item["breadcrumb"] == ["properties", field]:
                item["metadata"]["selected"] = False
    return catalog


def test_a_deselected_field_is_left_out_of_every_record(qbo_sim_factory: t.Any, tmp_path: Path) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=150)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        tap = TapQuickBooksCDC(config=tap_config(sim, tmp_path), catalog=_catalog_without("Line", "invoices"))
        tap.sync_all()
    result = parse_messages(buffer.getvalue())
    invoices = result.stream("invoices")
    assert len(invoices) == sim.count(sim.realm_ids[0], "Invoice")
    assert {m["stream"] for m in result.records} == {"invoices"}
    assert all("Line" not in record for record in invoices)
    assert all("TotalAmt" in record for record in invoices)
