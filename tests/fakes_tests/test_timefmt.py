"""Timestamps the way QBO prints them: the company's fixed offset, seconds or milliseconds."""

from __future__ import annotations

import time

import pytest

from tests.fakes.qbo.timefmt import LocalClock, offset_for_company, parse_iso


@pytest.mark.parametrize("epoch", [0, 1_700_000_000, 1_700_000_000 + 86_399, 1_790_000_123, 1_798_761_599])
@pytest.mark.parametrize("company", [0, 1, 4, 6])
def test_seconds_and_dates_agree_with_strftime(epoch: int, company: int) -> None:
    clock = LocalClock(offset_for_company(company))
    expected = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch + clock.offset_seconds)) + clock.suffix

    assert clock.seconds(epoch) == expected
    assert clock.date(epoch) == expected[:10]
    assert parse_iso(clock.seconds(epoch)) == epoch


def test_offsets_and_milliseconds() -> None:
    mountain = LocalClock(offset_for_company(0))

    assert mountain.suffix == "-07:00"
    assert LocalClock(offset_for_company(1)).suffix == "-05:00"
    assert mountain.millis(1_790_000_123.9265) == "2026-09-21T07:15:23.926-07:00"


def test_parse_iso_accepts_zulu_and_naive_as_utc() -> None:
    assert parse_iso("2026-01-01T00:00:00Z") == parse_iso("2026-01-01T00:00:00+00:00")
    assert parse_iso("2026-01-01T00:00:00") == parse_iso("2025-12-31T17:00:00-07:00")
