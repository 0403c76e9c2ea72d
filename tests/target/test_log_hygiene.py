"""Record values are customer data: an error about one names the stream, column and primary key, never the
value (a short, marked sample only with the debug setting ``log_record_values``)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.target.singer_streams import (
    INVOICE_KEYS,
    INVOICE_SCHEMA,
    encode,
    invoice,
    record_message,
    run_target,
    schema_message,
    state_message,
)

MARKER = "CUSTOMER-7f3a"
REF_SCHEMA = {
    "type": "object",
    "definitions": {"amount": {"type": ["null", "number"]}},
    "properties": {**INVOICE_SCHEMA["properties"], "TotalAmt": {"$ref": "#/definitions/amount"}},
}


def bad_record(**fields: Any) -> list[str]:
    return [
        encode(schema_message("invoices", INVOICE_SCHEMA, INVOICE_KEYS)),
        encode(record_message("invoices", invoice(1, 0))),
        encode(record_message("invoices", invoice(7, 0, **fields))),
        encode(state_message({"position": 2})),
    ]


CASES = {
    "an unparsable timestamp": (
        bad_record(last_updated_at=f"{MARKER}-2024-13-01"),
        "column 'last_updated_at'",
    ),
    "a non-integer version": (bad_record(SyncToken=f"{MARKER}x"), "has a SyncToken that is not an integer"),
    "an unparsable date": (bad_record(TxnDate=f"{MARKER}-01"), "column 'TxnDate' (date)"),
    "a value against a $ref schema": (
        [
            encode(schema_message("invoices", REF_SCHEMA, INVOICE_KEYS)),
            encode(record_message("invoices", invoice(7, 0, TotalAmt=MARKER))),
        ],
        "data.TotalAmt does not satisfy type",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_failing_value_never_reaches_stderr(
    config: dict[str, Any], tmp_path: Path, stage: Path, case: str
) -> None:
    messages, expected = CASES[case]
    run = run_target(config, messages, workdir=tmp_path)
    assert run.returncode == 1, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    (line,) = [x for x in run.stderr.splitlines() if x.startswith("target-looker-stage: error:")]
    assert expected in line
    assert "stream 'invoices'" in line
    assert "'Id': '7'" in line  # the primary key names the record
    assert MARKER not in run.stderr + run.stdout
    assert run.states == []
    assert not list(stage.rglob("*.parquet")) if stage.exists() else True


def test_too_precise_a_number_is_named_without_its_digits(config: dict[str, Any], tmp_path: Path) -> None:
    run = run_target(config, bad_record(TotalAmt=Decimal("1.0000000001234")), workdir=tmp_path)
    assert run.returncode == 1
    (line,) = [x for x in run.stderr.splitlines() if x.startswith("target-looker-stage: error:")]
    assert "column 'TotalAmt' (decimal) cannot store the value of record" in line
    assert "1234" not in run.stderr


def test_log_record_values_shows_a_short_marked_sample(config: dict[str, Any], tmp_path: Path) -> None:
    long_value = f"{MARKER}-2024-13-01-and-much-more-text"
    run = run_target(
        {**config, "log_record_values": True}, bad_record(last_updated_at=long_value), workdir=tmp_path
    )
    assert run.returncode == 1
    (line,) = [x for x in run.stderr.splitlines() if x.startswith("target-looker-stage: error:")]
    assert f"(value sample, log_record_values is on: '{MARKER}" in line
    assert long_value not in line  # truncated


def test_a_debug_run_logs_no_record_values(config: dict[str, Any], tmp_path: Path) -> None:
    messages = [
        encode(schema_message("invoices", INVOICE_SCHEMA, INVOICE_KEYS)),
        *(encode(record_message("invoices", invoice(i, 0, DocNumber=f"{MARKER}-{i}"))) for i in range(3)),
        encode(state_message({"position": 3})),
    ]
    run = run_target(config, messages, workdir=tmp_path, env={"TARGET_LOOKER_STAGE_LOGLEVEL": "DEBUG"})
    assert run.returncode == 0, run.stderr[-2000:]
    assert "DEBUG" in run.stderr
    assert MARKER not in run.stderr
