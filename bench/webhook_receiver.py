"""Webhook receiver under a burst (not a test): ``python -m bench.webhook_receiver [--deliveries 5000]
[--concurrency 20] [--inbox sqlite,postgresql]``.

Starts the real receiver (`tap-quickbooks-cdc-webhooks serve`, the console script) on loopback, then a load
generator (aiohttp, asyncio) sends N signed deliveries, one new event each, legacy and CloudEvents
alternating, from a fixed number of connections; each waits up to Intuit's 3 seconds. It stops by itself
after the N answers. Reported per inbox: accepted deliveries per second, p50/p99/max answer time, the
receiver's CPU time per delivery, and events lost: events answered 200 that are not in the inbox afterwards
(must be 0). The PostgreSQL inbox runs on a crash-safe cluster (fsync on) with the receiver's synchronous
commits. Results also go to
``bench/results/webhook_receiver.json``. Both processes share this machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import statistics
import tempfile
import time
import typing as t
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp
import psutil

from tests.fakes.qbo.webhooks import ANSWER_WITHIN, WebhookEvent, build_body, sign
from tests.services import run_postgres_server
from tests.webhooks.harness import REALMS, VERIFIER_TOKEN, receiver_config, start_receiver, stored

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Row:
    inbox: str
    deliveries: int
    concurrency: int
    accepted: int
    refused_or_timed_out: int
    seconds: float
    accepted_per_second: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    receiver_cpu_ms_per_delivery: float
    events_lost: int


def deliveries(count: int) -> list[tuple[str, bytes]]:
    """(record Id, signed body) pairs: one new event each, the two formats alternating."""
    run = uuid.uuid4().hex[:6]
    made = []
    for n in range(count):
        record_id = f"bench-{run}-{n}"
        event = WebhookEvent(REALMS[n % len(REALMS)], "Invoice", record_id, "Update")
        made.append((record_id, build_body([event], "legacy" if n % 2 else "cloudevents")))
    return made


async def burst(
    url: str, bodies: list[tuple[str, bytes]], concurrency: int
) -> tuple[list[float], set[str], float]:
    """Send every body from `concurrency` workers; answer times (s), Ids answered 200, wall time."""
    latencies: list[float] = []
    accepted: set[str] = set()
    pending = iter(bodies)
    timeout = aiohttp.ClientTimeout(total=ANSWER_WITHIN)

    async def worker(session: aiohttp.ClientSession) -> None:
        for record_id, body in pending:
            headers = {"Content-Type": "application/json", "intuit-signature": sign(body, VERIFIER_TOKEN)}
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as answer:
                    await answer.read()
                    ok = answer.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            latencies.append(time.perf_counter() - started)
            if ok:
                accepted.add(record_id)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return latencies, accepted, time.perf_counter() - started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(kind: str, inbox: str, work: Path, count: int, concurrency: int) -> Row:
    receiver = start_receiver(receiver_config(inbox), work)
    try:
        bodies = deliveries(count)
        process = psutil.Process(receiver.proc.pid)
        cpu_before = sum(process.cpu_times()[:2])
        latencies, accepted, seconds = asyncio.run(burst(receiver.url, bodies, concurrency))
        cpu = sum(process.cpu_times()[:2]) - cpu_before
    finally:
        receiver.stop(signal.SIGTERM)
    ids = {e.entity_id for e in stored(inbox)}
    return Row(
        inbox=kind,
        deliveries=count,
        concurrency=concurrency,
        accepted=len(accepted),
        refused_or_timed_out=count - len(accepted),
        seconds=round(seconds, 2),
        accepted_per_second=round(len(accepted) / seconds, 1),
        p50_ms=round(statistics.median(latencies) * 1000, 1),
        p99_ms=round(percentile(latencies, 0.99) * 1000, 1),
        max_ms=round(max(latencies) * 1000, 1),
        receiver_cpu_ms_per_delivery=round(cpu * 1000 / count, 2),
        events_lost=len(accepted - ids),
    )


COLUMNS = (
    *("inbox", "deliveries", "concurrency", "accepted", "accepted_per_second"),
    *("p50_ms", "p99_ms", "max_ms", "receiver_cpu_ms_per_delivery", "events_lost"),
)


def table(rows: list[Row]) -> str:
    header = list(COLUMNS)
    lines = [" | ".join(header), " | ".join("---" for _ in header)]
    lines += [" | ".join(str(getattr(row, name)) for name in header) for row in rows]
    return "\n".join(lines)


def main(argv: t.Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--deliveries", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--inbox", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as tmp:
        work = Path(tmp)
        for kind in args.inbox.split(","):
            with contextlib.ExitStack() as stack:
                if kind == "postgresql":
                    inbox = stack.enter_context(run_postgres_server(durable=True)).uri
                else:
                    inbox = str(work / f"{kind}.sqlite")
                (work / kind).mkdir()
                rows.append(measure(kind, inbox, work / kind, args.deliveries, args.concurrency))
                print(table(rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(table(rows))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "webhook_receiver.json").write_text(json.dumps([asdict(row) for row in rows], indent=2) + "\n")


if __name__ == "__main__":
    main()
