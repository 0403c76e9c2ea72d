"""The batch-native load path (``raw_batch``): RECORD lines kept as bytes and decoded per batch into Arrow
give the same tables, stage files and errors as the SDK's per-record path, which still runs where it must."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from singer_sdk.exceptions import InvalidRecord

from target_looker_stage.raw_batch import FastDecoder
from target_looker_stage.schema_mapping import build_table_spec
from target_looker_stage.settings import CONFIG_SCHEMA, TargetSettings
from target_looker_stage.sinks import LookerStageSink
from target_looker_stage.table_spec import TableSpec
from target_looker_stage.target import TargetLookerStage
from tests.target.singer_streams import (
    INVOICE_KEYS,
    INVOICE_SCHEMA,
    encode,
    invoice,
    invoice_messages,
    record_message,
    run_in_process,
    schema_message,
    staged_rows,
    state_message,
    warehouse_rows,
)

TABLE = "quickbooks.invoices"


@pytest.fixture
def fast_batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the batches the batch-native path decoded (rows per batch)."""
    decoded: list[int] = []
    original = FastDecoder.decode

    def counting(self: FastDecoder, lines: Any) -> pa.Table | None:
        table = original(self, lines)
        if table is not None:
            decoded.append(table.num_rows)
        return table

    monkeypatch.setattr(FastDecoder, "decode", counting)
    return decoded


def per_record_only(monkeypatch: pytest.MonkeyPatch) -> None:
    parse = TargetSettings.from_config

    def without_fast_path(
        config: Mapping[str, Any], schema: Mapping[str, Any] = CONFIG_SCHEMA
    ) -> TargetSettings:
        return dataclasses.replace(parse(config, schema), fast_path=False)

    monkeypatch.setattr(TargetSettings, "from_config", staticmethod(without_fast_path))


def load_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, messages: list[str], extra: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the same input through the batch-native path and through the per-record path only."""
    configs = {}
    for name in ("fast", "sdk"):
        folder = tmp_path / name
        configs[name] = {
            "stage_uri": str(folder / "stage"),
            "warehouse_uri": f"duckdb:///{folder / 'warehouse.duckdb'}",
            "batch_size_rows": 400,
            **(extra or {}),
        }
        with monkeypatch.context() as patch:
            if name == "sdk":
                per_record_only(patch)
            run_in_process(configs[name], messages)
    return configs["fast"], configs["sdk"]


def stage_files(config: dict[str, Any]) -> list[str]:
    root = Path(config["stage_uri"])
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.parquet"))


def same_tables(fast: dict[str, Any], sdk: dict[str, Any]) -> None:
    database = Path(fast["warehouse_uri"].removeprefix("duckdb:///"))
    other = Path(sdk["warehouse_uri"].removeprefix("duckdb:///"))
    assert warehouse_rows(database, TABLE) == warehouse_rows(other, TABLE)
    assert staged_rows(Path(fast["stage_uri"]), "invoices") == staged_rows(Path(sdk["stage_uri"]), "invoices")
    assert stage_files(fast) == stage_files(sdk)  # same batches, same content keys


def test_the_batch_native_path_and_the_sdk_path_give_identical_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast_batches: list[int]
) -> None:
    # Ids repeat across batches with newer SyncTokens, every 97th record is a delete stub, two realms.
    messages = list(invoice_messages(3_000, state_every=700, distinct_ids=1_100))
    fast, sdk = load_twice(tmp_path, monkeypatch, messages)
    assert sum(fast_batches) > 2_000  # most batches took the fast path (a few merge deletes: per record)
    same_tables(fast, sdk)


def test_duplicates_in_a_batch_collapse_to_the_newest_on_the_fast_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast_batches: list[int]
) -> None:
    records = [
        invoice(1, 2, total="20.00"),
        invoice(1, 4, total="40.00"),
        invoice(1, 3, total="30.00"),  # older than 4, arrives later: ignored
        invoice(2, 1, total="1.00"),
        invoice(2, 1, total="1.50"),  # tie: the later record wins
        {k: v for k, v in invoice(3, 1, total="9.00").items() if k != "SyncToken"},
        invoice(3, 0),  # a number beats no version
    ]
    messages = [encode(schema_message("invoices", INVOICE_SCHEMA, INVOICE_KEYS))]
    messages += [encode(record_message("invoices", r)) for r in records]
    messages.append(encode(state_message({"position": 1})))
    fast, sdk = load_twice(tmp_path, monkeypatch, messages)
    assert fast_batches == [7]
    same_tables(fast, sdk)
    rows = warehouse_rows(Path(fast["warehouse_uri"].removeprefix("duckdb:///")), TABLE)
    assert [(r["Id"], r["TotalAmt"], r["SyncToken"]) for r in rows] == [
        ("1", Decimal("40.00"), "4"),
        ("2", Decimal("1.50"), "1"),
        ("3", Decimal("100.00"), "0"),
    ]


def test_with_a_stream_map_the_fast_path_steps_aside_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast_batches: list[int]
) -> None:
    messages = list(invoice_messages(900, state_every=300, distinct_ids=500))
    mapped = {"stream_maps": {"invoices": {"realm_id": "realm_id"}}}  # an identity map
    fast, _ = load_twice(tmp_path / "plain", monkeypatch, messages)
    fast_batches.clear()
    with_map, sdk = load_twice(tmp_path / "mapped", monkeypatch, messages, mapped)
    assert fast_batches == []  # stream maps: every record through the SDK's mapper
    same_tables(with_map, sdk)
    same_tables(fast, with_map)


@pytest.mark.parametrize(
    "setting",
    [
        {"stream_maps": {"invoices": {"realm_id": "realm_id"}}},
        {"flattening_enabled": True, "flattening_max_depth": 1},
        {"add_record_metadata": True},
    ],
)
def test_the_fast_path_is_off_when_records_need_the_sdk_pipeline(
    setting: dict[str, Any], tmp_path: Path
) -> None:
    target = TargetLookerStage(config={"stage_uri": "", "warehouse_uri": "", **setting})
    sink = target.get_sink("invoices", schema=dict(INVOICE_SCHEMA), key_properties=INVOICE_KEYS)
    assert isinstance(sink, LookerStageSink)
    assert sink.fast is None or not target.settings.fast_path


def test_schemas_with_value_constraints_use_the_per_record_path() -> None:
    schema = {
        **INVOICE_SCHEMA,
        "properties": {**INVOICE_SCHEMA["properties"], "DocNumber": {"type": "string", "maxLength": 3}},
    }
    spec = spec_for(schema)
    assert FastDecoder.for_stream(spec, schema, version_column="SyncToken", validate=True) is None
    assert FastDecoder.for_stream(spec, schema, version_column="SyncToken", validate=False) is not None


def test_a_violation_on_the_fast_path_is_the_per_record_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = [encode(schema_message("invoices", INVOICE_SCHEMA, INVOICE_KEYS))]
    messages += [encode(record_message("invoices", invoice(i))) for i in range(3)]
    messages.append(encode(record_message("invoices", invoice(9, TotalAmt="a lot"))))
    messages.append(encode(state_message({"position": 1})))
    config = {"stage_uri": "", "warehouse_uri": f"duckdb:///{tmp_path / 'w.duckdb'}"}
    errors = []
    for fast in (True, False):
        with monkeypatch.context() as patch:
            if not fast:
                per_record_only(patch)
            with pytest.raises(InvalidRecord) as caught:
                run_in_process(config, messages)
            errors.append(str(caught.value))
    assert errors[0] == errors[1]
    assert "stream 'invoices'" in errors[0]
    assert "'Id': '9'" in errors[0]
    assert "a lot" not in errors[0]


def spec_for(schema: dict[str, Any]) -> TableSpec:
    return build_table_spec(
        stream_name="invoices",
        schema=schema,
        key_properties=INVOICE_KEYS,
        schema_name="quickbooks",
        load_method="upsert",
        hard_delete=False,
    )


_SPEC = spec_for(INVOICE_SCHEMA)
_DECODER = FastDecoder.for_stream(_SPEC, INVOICE_SCHEMA, version_column="SyncToken", validate=True)
_LINE_DECODER = msgspec.json.Decoder(float_hook=Decimal)
_AMOUNTS = st.decimals(
    min_value=Decimal("-99999999999999999999999999999.999999999"),
    max_value=Decimal("99999999999999999999999999999.999999999"),
    places=9,
    allow_nan=False,
    allow_infinity=False,
)


@given(st.lists(_AMOUNTS, min_size=1, max_size=20))
def test_random_amounts_are_exact_through_the_fast_path(amounts: list[Decimal]) -> None:
    """Up to 29 integer digits and 9 decimals, written as JSON numbers: decoded into decimal128(38, 9)
    from their text, never via float."""
    assert _DECODER is not None
    lines = [
        encode(record_message("invoices", invoice(i, total=amount))).encode()
        for i, amount in enumerate(amounts)
    ]
    table = _DECODER.decode(lines)
    assert table is not None
    assert table.column("TotalAmt").to_pylist() == amounts
    line = table.column("Line").to_pylist()
    assert [_LINE_DECODER.decode(v)[0]["Amount"] for v in line] == amounts


def test_nested_values_keep_the_json_text_the_tap_wrote() -> None:
    assert _DECODER is not None
    text = b'{"type":"RECORD","stream":"invoices","record":{"Id":"1","realm_id":"r","SyncToken":"0",'
    text += b'"last_updated_at":"2024-01-01T00:00:00Z",'
    text += b'"Line":[{"Amount":1.10,"Big":123456789012345678901234567890.5}]}}'
    table = _DECODER.decode([text])
    assert table is not None
    assert table.column("Line").to_pylist() == ['[{"Amount":1.10,"Big":123456789012345678901234567890.5}]']


def test_the_first_bad_line_is_reported_even_when_a_later_one_fails_at_once(tmp_path: Path) -> None:
    """A kept line is checked at its drain; when a later line fails as it is read, the kept lines before it
    are checked first, so the error is the one the per-record path reports."""
    messages = [encode(schema_message("invoices", INVOICE_SCHEMA, INVOICE_KEYS))]
    messages.append(encode(record_message("invoices", invoice(1))))
    messages.append(encode(record_message("invoices", invoice(9, TotalAmt="a lot"))))
    messages.append('{"type": "NOT_A_TYPE"}\n')
    config = {"stage_uri": "", "warehouse_uri": f"duckdb:///{tmp_path / 'w.duckdb'}"}
    with pytest.raises(InvalidRecord, match="'Id': '9'"):
        run_in_process(config, messages)
