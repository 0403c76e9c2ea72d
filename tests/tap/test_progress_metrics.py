"""Progress and metrics of a run, read from its log: a progress line per stream and realm every
`progress_interval_seconds`, one totals line, an `http_request_duration` point for every QBO and token call
(status and endpoint tags) and `record_count` points tagged with the realm they counted."""

from __future__ import annotations

import json
import re
import typing as t
from collections import Counter
from pathlib import Path

from tests.tap.harness import RunResult, catalog_selecting, run_subprocess, tap_config

STREAMS = ["customers", "invoices", "terms"]


def metric_points(log: str, metric: str) -> list[dict[str, t.Any]]:
    points = []
    for line in log.splitlines():
        _, found, text = line.partition("METRIC: ")
        if found:
            point = json.loads(text)
            if point["metric"] == metric:
                points.append(point)
    return points


def _run(sim: t.Any, tmp_path: Path, **overrides: t.Any) -> RunResult:
    tmp_path.mkdir(exist_ok=True)
    config = tap_config(sim, tmp_path, **overrides)
    return run_subprocess(config, tmp_path, catalog=catalog_selecting(STREAMS, tmp_path))


def test_every_qbo_call_logs_an_http_request_duration_point_with_status_endpoint_and_realm(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=2, records_per_company=200)
    sim.inject("http503", times=1)  # one failed call, retried
    result = _run(sim, tmp_path)
    assert result.exit_code == 0, result.log[-2000:]
    every = metric_points(result.log, "http_request_duration")
    points = [p for p in every if p["tags"]["endpoint"].startswith("/v3/")]
    per_realm = Counter(p["tags"]["context"]["realm_id"] for p in points)
    assert per_realm == {realm: sim.data_requests(realm) for realm in sim.realm_ids}
    tokens = [
        p for p in every if p not in points
    ]  # one refresh per company (tests/tap/test_token_metrics.py)
    assert sorted(p["tags"]["context"]["realm_id"] for p in tokens) == sorted(sim.realm_ids)
    assert {p["tags"]["endpoint"] for p in tokens} == {"/oauth2/v1/tokens/bearer"}
    for point in points:
        tags = point["tags"]
        assert point["type"] == "timer"
        assert point["value"] >= 0
        assert tags["endpoint"] in {"/v3/company/{realm_id}/query", "/v3/company/{realm_id}/cdc"}
        assert tags["status"] == ("succeeded" if tags["http_status_code"] < 400 else "failed")
    failed = [p for p in points if p["tags"]["status"] == "failed"]
    assert [p["tags"]["http_status_code"] for p in failed] == [503]
    streams = {p["tags"].get("stream") for p in points if p["tags"]["endpoint"].endswith("/query")}
    assert streams == set(STREAMS)


def test_record_counts_are_tagged_with_the_realm_they_counted(qbo_sim_factory: t.Any, tmp_path: Path) -> None:
    sim = qbo_sim_factory(companies=2, records_per_company=200)
    first, second = sim.realm_ids
    sim.create(first, "Term", {"Name": "Only in the first company"})  # the realms' counts differ
    result = _run(sim, tmp_path)
    assert result.exit_code == 0, result.log[-2000:]
    emitted = Counter((m["stream"], m["record"]["realm_id"]) for m in result.records)
    counted: Counter[tuple[str, str]] = Counter()
    for point in metric_points(result.log, "record_count"):
        counted[(point["tags"]["stream"], point["tags"]["context"]["realm_id"])] += point["value"]
    assert counted == emitted
    assert counted[("terms", first)] == counted[("terms", second)] + 1
    for point in metric_points(result.log, "sync_duration"):  # one timer for all realms: no realm tag
        assert "context" not in point["tags"]


def test_long_reads_log_progress_per_stream_and_realm_and_the_run_ends_with_totals(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=2, records_per_company=200)
    result = _run(sim, tmp_path, progress_interval_seconds=0.000001)  # a line after every page
    assert result.exit_code == 0, result.log[-2000:]
    progress = re.findall(r"realm (\d+) (\w+): (\d+) records so far, (\d+) records/s", result.log)
    emitted = Counter((m["stream"], m["record"]["realm_id"]) for m in result.records)
    last: dict[tuple[str, str], int] = {}
    for realm, stream, count, _rate in progress:
        last[(stream, realm)] = int(count)
    assert last == dict(emitted)  # every stream of every realm reported, the last line has its total
    totals = re.findall(
        r"totals: (\d+) records, (\d+) data requests, ([\d.]+) s, (\d+) records/s", result.log
    )
    assert len(totals) == 1
    records, requests, seconds, rate = totals[0]
    assert int(records) == len(result.records)
    assert int(requests) == sim.data_requests()
    assert float(seconds) > 0
    # The line shows seconds rounded to 0.01: the rate must fit some duration that rounds to them.
    shortest, longest = max(float(seconds) - 0.005, 1e-9), float(seconds) + 0.005
    assert int(records) / longest - 1 <= int(rate) <= int(records) / shortest + 1


def test_progress_lines_wait_for_the_interval_and_zero_turns_them_off(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=200)
    default = _run(sim, tmp_path / "default")
    off = _run(sim, tmp_path / "off", progress_interval_seconds=0)
    assert default.exit_code == off.exit_code == 0
    assert "records so far" not in default.log  # a run shorter than 10 s says nothing in between
    assert "records so far" not in off.log
    assert "totals: " in default.log
