"""The tap's message writer: exact decimals; one write to stdout per STATE even when stdout is unbuffered."""

from __future__ import annotations

import io
import json
import sys
import typing as t
from decimal import Decimal

import pytest
from singer_sdk.singerlib.encoding.simple import RecordMessage, StateMessage

from tap_quickbooks_cdc.writer import FLUSH_BYTES, OrjsonSingerWriter


class _CountingRaw(io.RawIOBase):
    """An unbuffered stdout (as under PYTHONUNBUFFERED=1) that counts the writes reaching it."""

    def __init__(self) -> None:
        self.writes = 0
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: t.Any) -> int:
        self.writes += 1
        self.data += bytes(b)
        return len(b)


class _Stdout:
    def __init__(self, raw: _CountingRaw) -> None:
        self.buffer = raw

    def flush(self) -> None:
        pass


def _unbuffered_stdout(monkeypatch: pytest.MonkeyPatch) -> _CountingRaw:
    """Patched inside the test body: pytest's own capture re-installs sys.stdout after fixtures run."""
    raw = _CountingRaw()
    monkeypatch.setattr(sys, "stdout", _Stdout(raw))
    return raw


def _record(i: int) -> RecordMessage:
    return RecordMessage(stream="invoices", record={"Id": str(i), "TotalAmt": Decimal("1234567890.10")})


def test_records_reach_stdout_with_the_state_that_covers_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = _unbuffered_stdout(monkeypatch)
    writer = OrjsonSingerWriter()
    for i in range(500):
        writer.write_message(_record(i))
    assert raw.writes == 0, "records wait for their STATE"
    writer.write_message(StateMessage(value={"bookmarks": {"invoices": {"position": 500}}}))
    assert raw.writes == 1
    lines = raw.data.decode().splitlines()
    assert len(lines) == 501
    assert json.loads(lines[-1])["type"] == "STATE"
    assert '"TotalAmt":1234567890.10' in lines[0], "decimal digits written exactly, not through float"


def test_a_long_run_without_state_is_written_in_bounded_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = _unbuffered_stdout(monkeypatch)
    writer = OrjsonSingerWriter()
    line_size = len(writer.format_message(_record(0)))
    count = 3 * FLUSH_BYTES // line_size
    for i in range(count):
        writer.write_message(_record(i))
    assert 2 <= raw.writes <= 3
    writer.flush()
    assert len(raw.data.decode().splitlines()) == count


def test_flush_writes_what_is_pending_once(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = _unbuffered_stdout(monkeypatch)
    writer = OrjsonSingerWriter()
    writer.write_message(_record(1))
    writer.flush()
    writer.flush()
    assert raw.writes == 1
    assert json.loads(raw.data)["record"]["Id"] == "1"
