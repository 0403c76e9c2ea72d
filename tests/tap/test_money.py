"""Money is exact end to end: what the tap writes to stdout equals QBO's amounts digit for digit."""

from __future__ import annotations

import typing as t
from decimal import Decimal
from pathlib import Path

from tests.tap.harness import catalog_selecting, run_subprocess, tap_config


def _amounts(record: dict[str, t.Any]) -> list[Decimal]:
    lines = [line.get("Amount") for line in record.get("Line") or []]
    return [record["TotalAmt"], *lines]


def test_amounts_on_stdout_equal_the_api_amounts_exactly(qbo_sim_factory: t.Any, tmp_path: Path) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=300)
    realm = sim.realm_ids[0]
    result = run_subprocess(
        tap_config(sim, tmp_path), tmp_path, catalog=catalog_selecting(["invoices"], tmp_path)
    )
    assert result.exit_code == 0, result.log[-1500:]
    emitted = {r["Id"]: r for r in result.stream("invoices")}
    source = {r["Id"]: r for r in sim.iter_records(realm, "Invoice")}
    assert emitted.keys() == source.keys()
    for record_id, record in emitted.items():
        ours, theirs = _amounts(record), _amounts(source[record_id])
        assert ours == theirs
        assert [str(a) for a in ours] == [str(a) for a in theirs], "same digits, not just same value"
    assert all(isinstance(a, Decimal) for r in emitted.values() for a in _amounts(r) if a is not None)
    assert any(a != a.to_integral_value() for r in emitted.values() for a in _amounts(r) if a is not None)
