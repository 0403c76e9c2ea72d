"""Tap throughput against the QBO simulator: `python -m bench.tap_throughput` prints a table.

Scenarios: backfill of a 100k-record company at zero latency and at 150 ms per request (records/s,
requests, peak RSS of the tap process), then an incremental run after a few changes, compared with
reading the same changes by one query per entity. Side by side, the public peer ``tap-quickbooks``
(PyPI, own venv, see ``bench.tap_peer``) where it can be pointed at the simulator; where it cannot, a row
says why, next to the requests a query-per-entity design makes for the same backfill and incremental.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

from bench.tap_peer import peer_status
from bench.tap_sim_process import SimHandle, SimProcess

TAP = str(Path(sys.executable).with_name("tap-quickbooks-cdc"))
CHANGED = {"Invoice": 20, "Customer": 10, "Bill": 10, "Payment": 5, "Item": 5}


@dataclass
class Measurement:
    scenario: str
    records: int
    seconds: float
    tap_cpu_seconds: float
    data_requests: int
    peak_rss_mb: float
    state: dict[str, t.Any]

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    @property
    def cpu_rate(self) -> float:
        """Records per second of the tap's own CPU time (excludes waiting for the simulator)."""
        return self.records / self.tap_cpu_seconds if self.tap_cpu_seconds else 0.0


def _config(handle: SimHandle, store: Path) -> dict[str, t.Any]:
    return {
        "client_id": handle.client_id,
        "client_secret": handle.client_secret,
        "companies": [{"realm_id": r, "refresh_token": handle.seeds[r]} for r in handle.realm_ids],
        "api_base_url": handle.base_url,
        "token_url": handle.token_url,
        "token_store": str(store),
    }


def run_tap(
    sim: SimProcess, scenario: str, workdir: Path, state: dict[str, t.Any] | None = None
) -> Measurement:
    """Run the console script once; stdout goes to a file, RSS is sampled every 20 ms."""
    config_path = workdir / "config.json"
    config_path.write_text(json.dumps(_config(sim.handle, workdir / "tokens.json")))
    command = [TAP, "--config", str(config_path)]
    if state is not None:
        (workdir / "state.json").write_text(json.dumps(state))
        command += ["--state", str(workdir / "state.json")]
    out_path = workdir / "out.jsonl"
    sim.call("reset_requests")
    started = time.perf_counter()
    with out_path.open("wb") as out, (workdir / "tap.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=out, stderr=log)
        while True:  # wait4 gives the child's exact CPU time and peak RSS
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.02)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"{scenario}: the tap failed, see {workdir / 'tap.log'}")
    records, last_state = 0, {}
    with out_path.open("rb") as lines:
        for line in lines:
            if line.startswith(b'{"type":"RECORD"'):
                records += 1
            elif line.startswith(b'{"type":"STATE"'):
                last_state = json.loads(line)["value"]
    cpu = usage.ru_utime + usage.ru_stime
    return Measurement(
        scenario, records, seconds, cpu, sim.call("data_requests"), usage.ru_maxrss / 1024, last_state
    )


def _bare_session(sim: SimProcess, workdir: Path) -> t.Any:
    from tap_quickbooks_cdc.realm import RealmSession
    from tap_quickbooks_cdc.settings import parse_settings
    from tap_quickbooks_cdc.token_store import open_token_store

    settings = parse_settings(_config(sim.handle, workdir / "tokens.json"))
    store = open_token_store(settings.token_store)
    return RealmSession(settings.companies[0], settings, store, logging.getLogger("bench"), dict)


def read_every_page(sim: SimProcess, workdir: Path, since: str | None) -> tuple[int, int, float]:
    """(records, requests, seconds) to read every entity by query with the tap's HTTP client alone,
    no Singer processing: the ceiling the simulator allows on this machine."""
    from tap_quickbooks_cdc.query import read_pages

    session = _bare_session(sim, workdir)
    records, started = 0, time.perf_counter()
    for entity in _entities():
        for page in read_pages(session.client, entity, since):
            records += len(page)
    return records, session.client.request_count, time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000, help="records in the company")
    parser.add_argument("--latency", type=float, default=0.150, help="seconds per request, 2nd scenario")
    args = parser.parse_args(argv)
    rows: list[Measurement] = []
    peer_rows: list[list[str]] = []
    extra: list[str] = []
    peer = peer_status()
    with tempfile.TemporaryDirectory(prefix="bench-tap-") as tmp:
        workdir = Path(tmp)
        print(f"starting the simulator with {args.records:,} records ...", file=sys.stderr)
        with SimProcess(companies=1, records_per_company=args.records, requests_per_minute=10_000) as sim:
            realm = sim.handle.realm_ids[0]
            total = sum(sim.call("count", realm, e) for e in _entities())
            extra.append(f"company size: {total:,} records in 24 entities")
            bare, bare_requests, bare_seconds = read_every_page(sim, workdir, None)
            extra.append(
                f"simulator ceiling: the HTTP client alone reads {bare:,} rows in {bare_seconds:.1f} s "
                f"= {bare / bare_seconds:,.0f} records/s ({bare_requests} requests)"
            )
            backfill = run_tap(sim, "backfill, 0 ms latency", workdir)
            rows.append(backfill)
            for entity, count in CHANGED.items():
                sim.call("mutate", realm, entity, count)
            incremental = run_tap(
                sim, f"incremental ({sum(CHANGED.values())} changes)", workdir, backfill.state
            )
            rows.append(incremental)
            cursor = backfill.state["bookmarks"]["invoices"]["partitions"][0]["cdc_cursor"]
            naive_records, naive, naive_seconds = read_every_page(sim, workdir, cursor)
            peer_rows.append(_na_row(f"peer {peer.name}: not run", "n/a"))
            extra.append(f"peer {peer.name}: {peer.reason}")
            if peer.batch_call:
                extra.append(
                    "note: the query-per-entity rows model that design with our HTTP client, they are "
                    "not a peer measurement; the peer sends its per-entity queries in POST /batch "
                    f"({peer.batch_call})"
                )
            peer_rows.append(
                _na_row("query-per-entity, backfill (HTTP only)", str(bare_requests), bare, bare_seconds)
            )
            peer_rows.append(
                _na_row("query-per-entity, incremental (HTTP only)", str(naive), naive_records, naive_seconds)
            )
            extra.append(
                f"incremental requests: {incremental.data_requests} (one CDC request; TaxCode is re-queried "
                f"once per query_only_refresh_hours) vs "
                f"{naive} with one query per entity"
            )
            startup = incremental.tap_cpu_seconds  # an almost empty run: interpreter, imports, discovery
            per_record = (backfill.tap_cpu_seconds - startup) / max(backfill.records, 1)
            extra.append(
                f"tap CPU per record after start-up ({startup:.1f} CPU s): {per_record * 1e6:.0f} us "
                f"= {1 / per_record if per_record > 0 else 0:,.0f} records per CPU-second"
            )
            sim.call("set_latency", args.latency)
            rows.append(run_tap(sim, f"backfill, {args.latency * 1000:.0f} ms latency", workdir))
    _print(rows, peer_rows, extra)


def _entities() -> list[str]:
    from tap_quickbooks_cdc.registry import ENTITY_FOR_STREAM

    return list(ENTITY_FOR_STREAM.values())


def _na_row(scenario: str, requests: str, records: int | None = None, seconds: float = 0.0) -> list[str]:
    """A comparison row without a tap process: CPU and RSS are not measured."""
    if records is None:
        return [scenario, "n/a", "n/a", "n/a", "n/a", "n/a", requests, "n/a"]
    rate = f"{records / seconds:,.0f}" if seconds else "n/a"
    return [scenario, f"{records:,}", f"{seconds:.1f}", rate, "n/a", "n/a", requests, "n/a"]


def _print(rows: list[Measurement], peer_rows: list[list[str]], extra: list[str]) -> None:
    columns = [
        "scenario",
        "records",
        "wall s",
        "records/s",
        "tap CPU s",
        "records/CPU-s",
        "requests",
        "peak RSS MB",
    ]
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join("---" for _ in columns) + "|")
    for row in rows:
        cells = [
            row.scenario,
            f"{row.records:,}",
            f"{row.seconds:.1f}",
            f"{row.rate:,.0f}",
            f"{row.tap_cpu_seconds:.1f}",
            f"{row.cpu_rate:,.0f}",
            str(row.data_requests),
            f"{row.peak_rss_mb:.0f}",
        ]
        print("| " + " | ".join(cells) + " |")
    for cells in peer_rows:
        print("| " + " | ".join(cells) + " |")
    for line in extra:
        print(line)


if __name__ == "__main__":
    main()
