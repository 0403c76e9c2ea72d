"""Companies per minute with realms in parallel: `python -m bench.companies_parallel` prints a table.

For 1, 10, 50 and 200 simulated companies at 200 ms per API request (the simulator in its own process):
a backfill of two streams (invoices, customers) and then an idle incremental run (one CDC request per
company), each with `max_parallel_companies` 8 (the default) and 1 (one company after another, what the tap
did before), in the same run; the tap's peak RSS for each. Companies are small (about 40 records) so the
numbers are the waiting, which is what many companies cost.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

from bench.tap_sim_process import SimProcess

TAP = str(Path(sys.executable).with_name("tap-quickbooks-cdc"))
STREAMS = ("invoices", "customers")
LATENCY = 0.2


@dataclass
class Row:
    companies: int
    run: str
    workers: int
    seconds: float
    requests: int
    peak_rss_mb: float

    @property
    def per_minute(self) -> float:
        return self.companies / self.seconds * 60 if self.seconds else 0.0


def catalog(path: Path) -> Path:
    from tap_quickbooks_cdc.tap import TapQuickBooksCDC

    tap = TapQuickBooksCDC(config={})
    for name, stream in tap.streams.items():
        stream.selected = name in STREAMS
    path.write_text(json.dumps(tap.catalog_dict))
    return path


def run_tap(
    sim: SimProcess, workdir: Path, workers: int, state: dict[str, t.Any] | None
) -> tuple[float, float, dict[str, t.Any]]:
    """One run of the console script: (seconds, peak RSS MB, last state)."""
    handle = sim.handle
    config = {
        "client_id": handle.client_id,
        "client_secret": handle.client_secret,
        "companies": [{"realm_id": r, "refresh_token": handle.seeds[r]} for r in handle.realm_ids],
        "api_base_url": handle.base_url,
        "token_url": handle.token_url,
        "token_store": str(workdir / "tokens.json"),  # one store: the seeds rotate on the first run
        "max_parallel_companies": workers,
    }
    (workdir / "config.json").write_text(json.dumps(config))
    command = [TAP, "--config", str(workdir / "config.json"), "--catalog", str(catalog(workdir / "cat.json"))]
    if state is not None:
        (workdir / "state.json").write_text(json.dumps(state))
        command += ["--state", str(workdir / "state.json")]
    out = workdir / "out.jsonl"
    started = time.perf_counter()
    with out.open("wb") as stdout, (workdir / "tap.log").open("ab") as log:
        process = subprocess.Popen(command, stdout=stdout, stderr=log)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"the tap failed, see {workdir / 'tap.log'}")
    last: dict[str, t.Any] = {}
    for line in out.read_bytes().splitlines():
        if line.startswith(b'{"type":"STATE"'):
            last = json.loads(line)["value"]
    return seconds, usage.ru_maxrss / 1024, last


def measure(companies: int, work: Path) -> list[Row]:
    rows: list[Row] = []
    with SimProcess(companies=companies, records_per_company=40, latency=LATENCY) as sim:
        for workers in (8, 1):
            sim.call("reset_requests")
            seconds, rss, state = run_tap(sim, work, workers, None)
            rows.append(Row(companies, "backfill", workers, seconds, sim.call("data_requests"), rss))
            sim.call("reset_requests")
            seconds, rss, _ = run_tap(sim, work, workers, state)
            rows.append(Row(companies, "idle incremental", workers, seconds, sim.call("data_requests"), rss))
    return rows


def table(rows: list[Row]) -> str:
    header = (
        "| companies | run | max_parallel_companies | seconds | companies/min | requests | peak RSS MB |\n"
        "|---:|---|---:|---:|---:|---:|---:|"
    )
    lines = [
        f"| {r.companies} | {r.run} | {r.workers} | {r.seconds:.1f} | {r.per_minute:.0f} | {r.requests} "
        f"| {r.peak_rss_mb:.0f} |"
        for r in sorted(rows, key=lambda r: (r.run, r.companies, -r.workers))
    ]
    return "\n".join([header, *lines])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", default="1,10,50,200", help="comma-separated sizes")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(n) for n in args.companies.split(",")):
            work = Path(folder) / str(size)
            work.mkdir()
            rows += measure(size, work)
            print(f"{size} companies measured", file=sys.stderr)
    print(f"{LATENCY * 1000:.0f} ms per request; streams {', '.join(STREAMS)}")
    print(table(rows))


if __name__ == "__main__":
    main()
