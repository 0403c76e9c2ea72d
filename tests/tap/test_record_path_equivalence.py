"""The tap's fast record path (`QboStream._generate_record_messages`, which skips the SDK's walk for
deselected properties when none are) emits exactly what the SDK's own path emits, also with stream maps
(alias, filter, new and removed properties) and flattening configured."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
from singer_sdk.streams.core import Stream

from tap_quickbooks_cdc.stream_base import QboStream
from tests.tap.harness import RunResult, run_in_process, tap_config

STREAM_MAPS = {
    "customers": {"__alias__": "clients", "display": "DisplayName.upper()", "PrimaryEmailAddr": None},
    "invoices": {"__filter__": "TotalAmt > 0", "doubled": "TotalAmt * 2"},
}
FLATTENING = {"flattening_enabled": True, "flattening_max_depth": 1}


def sync(sim: t.Any, tmp_path: Path, **settings: t.Any) -> RunResult:
    config = tap_config(sim, tmp_path, **settings)
    result = run_in_process(config, streams=["customers", "invoices", "terms"])
    assert result.exit_code == 0
    return result


def without_cursors(state: dict[str, t.Any]) -> dict[str, t.Any]:
    """The state without `cdc_cursor` (Intuit's clock at the run's first response: runs a second apart
    differ) - the bookmarks the records set are compared."""
    return {
        stream: [{k: v for k, v in p.items() if k != "cdc_cursor"} for p in bookmark.get("partitions", [])]
        for stream, bookmark in state.get("bookmarks", {}).items()
    }


def messages(result: RunResult) -> list[tuple[str, dict[str, t.Any]]]:
    return [(m["stream"], m["record"]) for m in result.records]


@pytest.mark.parametrize(
    "settings", [{}, {"stream_maps": STREAM_MAPS}, FLATTENING, {"stream_maps": STREAM_MAPS, **FLATTENING}]
)
def test_the_fast_record_path_emits_what_the_sdk_path_emits(
    qbo_sim_factory: t.Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: dict[str, t.Any]
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=120)
    fast = sync(sim, tmp_path / "fast", **settings)
    monkeypatch.setattr(QboStream, "_generate_record_messages", Stream._generate_record_messages)
    sdk = sync(sim, tmp_path / "sdk", **settings)
    assert messages(fast) == messages(sdk)
    assert without_cursors(fast.state) == without_cursors(sdk.state)
    streams = {stream for stream, _ in messages(fast)}
    records = [record for _, record in messages(fast)]
    if "stream_maps" in settings:  # the maps really ran
        assert streams == {"clients", "invoices", "terms"}
        clients = [r for s, r in messages(fast) if s == "clients"]
        assert all("PrimaryEmailAddr" not in r and r["display"] == r["DisplayName"].upper() for r in clients)
        assert all(
            r["doubled"] == r["TotalAmt"] * 2 and r["TotalAmt"] > 0
            for s, r in messages(fast)
            if s == "invoices"
        )
    if "flattening_enabled" in settings:  # nested refs became columns
        assert any("CustomerRef__value" in r for r in records)
        assert not any(isinstance(r.get("MetaData"), dict) for r in records)
