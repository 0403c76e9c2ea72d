"""End-to-end webhook freshness (not a test): ``python -m bench.webhook_freshness [--windows 6]
[--changes 20] [--seed 1]``.

Seconds from a webhook delivery to its record landing in the warehouse, with the 5-minute micro-batch
schedule simulated. Everything that moves data is real: the QBO simulator changes records and sends each
change's signed webhook to the real receiver (`tap-quickbooks-cdc-webhooks serve`), which commits it to its
SQLite inbox; at each schedule tick the tap (drain only: `cdc_min_interval_minutes` 59, as the `qbo-webhooks`
schedule) is piped into target-looker-stage, which upserts into DuckDB; the bench then checks that every
notified version is in the warehouse. Only the clock between ticks is simulated: each change gets a random
delivery time inside its 5-minute window, and

    delay = (tick - delivery time) + receiver answer time + the real tap | target run time until it exited.

For comparison the same deliveries are scored against the hourly CDC schedule alone (the next full hour,
plus the measured run time of a CDC pass). Results also go to ``bench/results/webhook_freshness.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from tests.fakes.qbo import QboSimulator, SimConfig
from tests.tap.harness import TAP_EXECUTABLE, catalog_selecting, tap_config
from tests.webhooks.harness import VERIFIER_TOKEN, receiver_config, running_receiver, stored

RESULTS = Path(__file__).resolve().parent / "results"
TARGET = str(Path(sys.executable).with_name("target-looker-stage"))
WINDOW = 300.0  # seconds between drain runs (the qbo-webhooks schedule)
HOUR = 3600.0
STREAMS = {"invoices": "Invoice", "bills": "Bill", "purchases": "Purchase", "sales_receipts": "SalesReceipt"}


@dataclass(frozen=True)
class Row:
    schedule: str
    deliveries: int
    runs: int
    run_seconds_p50: float
    requests_per_run: float
    p50_s: float
    p95_s: float
    max_s: float
    records: int
    landed: int


@dataclass
class Pipeline:
    """tap | target with files for config, catalog and state (the last state the target emitted)."""

    work: Path
    tap: dict[str, t.Any]
    target: dict[str, t.Any]
    state: dict[str, t.Any] | None = None

    def run(self, **overrides: t.Any) -> float:
        """One run; its wall seconds until the target exited (after its last commit)."""
        (self.work / "tap.json").write_text(json.dumps(self.tap | overrides))
        (self.work / "target.json").write_text(json.dumps(self.target))
        tap = [TAP_EXECUTABLE, "--config", str(self.work / "tap.json")]
        tap += ["--catalog", str(catalog_selecting(set(STREAMS), self.work))]
        if self.state is not None:
            (self.work / "state.json").write_text(json.dumps(self.state))
            tap += ["--state", str(self.work / "state.json")]
        started = time.perf_counter()
        with (
            (self.work / "tap.log").open("ab") as tap_log,
            (self.work / "target.log").open("ab") as target_log,
        ):
            producer = subprocess.Popen(tap, stdout=subprocess.PIPE, stderr=tap_log)
            consumer = subprocess.run(
                [TARGET, "--config", str(self.work / "target.json")],
                stdin=producer.stdout,
                capture_output=True,
                check=False,
            )
            target_log.write(consumer.stderr)
            producer.wait()
        seconds = time.perf_counter() - started
        if producer.returncode or consumer.returncode:
            tail = (self.work / "tap.log").read_text(errors="replace").splitlines()[-5:]
            raise SystemExit(
                f"the pipeline failed (tap {producer.returncode}, target {consumer.returncode}): "
                + "\n".join(tail)
            )
        states = [line for line in consumer.stdout.decode().splitlines() if line.strip()]
        if states:
            self.state = json.loads(states[-1])
        return seconds


def landed(warehouse: Path, expected: dict[tuple[str, str, str], str]) -> int:
    """How many (stream, realm, Id) of `expected` hold that SyncToken in the warehouse."""
    found = 0
    with duckdb.connect(str(warehouse), read_only=True) as db:
        for (stream, realm, record_id), token in expected.items():
            row = db.execute(
                f'SELECT "SyncToken" FROM quickbooks.{stream} WHERE realm_id = ? AND "Id" = ?',
                [realm, record_id],
            ).fetchone()
            found += row is not None and str(row[0]) == token
    return found


def score(  # noqa: PLR0917 - one row's numbers
    name: str, delays: list[float], runs: list[float], requests: list[int], records: int, landed_count: int
) -> Row:
    cuts = statistics.quantiles(delays, n=100, method="inclusive")
    return Row(
        schedule=name,
        deliveries=len(delays),
        runs=len(runs),
        run_seconds_p50=round(statistics.median(runs), 2),
        requests_per_run=statistics.median(requests),
        p50_s=round(statistics.median(delays), 1),
        p95_s=round(cuts[94], 1),
        max_s=round(max(delays), 1),
        records=records,
        landed=landed_count,
    )


def table(rows: list[Row]) -> str:
    header = ["schedule", "deliveries", "runs", "run s", "QBO requests/run", "delay p50 s", "p95 s", "max s"]
    header.append("versions landed")
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for r in rows:
        cells = [r.schedule, r.deliveries, r.runs, r.run_seconds_p50, r.requests_per_run, r.p50_s, r.p95_s]
        cells.append(r.max_s)
        lines.append("| " + " | ".join(str(c) for c in cells) + f" | {r.landed}/{r.records} |")
    return "\n".join(lines)


def main(argv: t.Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--windows", type=int, default=12, help="5-minute windows (drain runs); 12 = one hour"
    )
    parser.add_argument("--changes", type=int, default=10, help="changed records per window")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    with (
        tempfile.TemporaryDirectory(prefix="bench-freshness-") as tmp,
        QboSimulator(SimConfig(companies=2, records_per_company=2000, seed=args.seed)) as sim,
    ):
        work = Path(tmp)
        companies = [{"realm_id": realm, "refresh_token": "seed"} for realm in sim.realm_ids]
        with running_receiver(
            receiver_config(str(work / "inbox.sqlite"), companies=companies), work
        ) as receiver:
            warehouse = work / "warehouse.duckdb"
            pipeline = Pipeline(
                work,
                tap_config(sim, work, webhook_inbox=receiver.inbox),
                {"stage_uri": "", "warehouse_uri": f"duckdb:///{warehouse}"},
            )
            pipeline.run()  # backfill: the hourly CDC pass this hour's drains follow
            before = sim.data_requests()
            cdc_seconds = [pipeline.run()]  # a quiet CDC pass: what the hourly run costs
            cdc_requests = [sim.data_requests() - before]
            requests: list[int] = []
            sim.configure_webhooks(receiver.url, VERIFIER_TOKEN)
            delays: list[float] = []
            hourly: list[float] = []
            runs: list[float] = []
            expected: dict[tuple[str, str, str], str] = {}
            for window in range(args.windows):
                tick = (window + 1) * WINDOW
                answers: list[tuple[float, float]] = []  # (simulated delivery time, receiver answer seconds)
                for _ in range(args.changes):
                    stream = rng.choice(sorted(STREAMS))
                    realm = rng.choice(sim.realm_ids)
                    record_id = str(rng.randint(1, sim.count(realm, STREAMS[stream])))
                    sent = time.perf_counter()
                    record = sim.update(realm, STREAMS[stream], record_id, {"PrivateNote": f"w{window}"})
                    assert sim.webhook_emitter is not None
                    sim.webhook_emitter.flush()
                    answers.append((tick - rng.uniform(0, WINDOW), time.perf_counter() - sent))
                    expected[(stream, realm, record_id)] = record["SyncToken"]
                before = sim.data_requests()
                run = pipeline.run(cdc_min_interval_minutes=59)
                runs.append(run)
                requests.append(sim.data_requests() - before)
                if stored(receiver.inbox, sim.realm_ids):
                    raise SystemExit("events still pending after a drain run")
                delays += [tick - delivered + answer + run for delivered, answer in answers]
                hourly += [
                    HOUR * (delivered // HOUR + 1) - delivered + answer + cdc_seconds[0]
                    for delivered, answer in answers
                ]
            sim.configure_webhooks(None)
            count = landed(warehouse, expected)
            rows = [
                score("webhooks, drain every 5 min", delays, runs, requests, len(expected), count),
                score(
                    "CDC only, hourly (same deliveries)",
                    hourly,
                    cdc_seconds,
                    cdc_requests,
                    len(expected),
                    count,
                ),
            ]
    print(table(rows))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "webhook_freshness.json").write_text(
        json.dumps([asdict(row) for row in rows], indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
