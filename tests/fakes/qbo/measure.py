"""Measure the simulator: rendering throughput through HTTP and memory at scale.

    python -m tests.fakes.qbo.measure throughput --records 100000 [--entity Invoice] [--rounds 2]
    python -m tests.fakes.qbo.measure memory --records 1000000 [--pages 50]

``throughput`` starts the CLI server in its own process and pages through every entity (or one) with
MAXRESULTS 1000 from a single client, printing records/s (wall) and records per server CPU-second.
``memory`` builds a simulator in this process and reports RSS after construction and after paging invoices.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal

import psutil
import requests

from tests.fakes.qbo.catalog import ENTITIES, NAME_LISTS
from tests.fakes.qbo.config import SimConfig
from tests.fakes.qbo.simulator import QboSimulator


def _pages(session: requests.Session, url: str, token: str, entity: str) -> Iterator[bytes]:
    where = " where Active in (true, false)" if entity in NAME_LISTS else ""
    start = 1
    while True:
        statement = f"select * from {entity}{where} startposition {start} maxresults 1000"
        answer = session.get(
            url,
            params={"query": statement, "minorversion": "75"},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=120,
        )
        answer.raise_for_status()
        yield answer.content
        if answer.content.count(b'"MetaData"') < 1000:
            return
        start += 1000


def throughput(records: int, entities: list[str], rounds: int, extra: list[str], parse: bool = False) -> None:
    command = [
        sys.executable,
        "-m",
        "tests.fakes.qbo",
        "--port",
        "0",
        "--companies",
        "1",
        "--records",
        str(records),
        "--rpm",
        "1000000",
        *extra,
    ]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        credentials = json.loads(server.stdout.readline())
        company = credentials["companies"][0]
        token = requests.post(
            credentials["token_url"],
            auth=(credentials["client_id"], credentials["client_secret"]),
            data={"grant_type": "refresh_token", "refresh_token": company["refresh_token"]},
            timeout=30,
        ).json()["access_token"]
        url = f"{credentials['base_url']}/v3/company/{company['realm_id']}/query"
        process, session = psutil.Process(server.pid), requests.Session()
        for round_no in range(1, rounds + 1):
            cpu_before, started, count, size = sum(process.cpu_times()[:2]), time.perf_counter(), 0, 0
            for entity in entities:
                for page in _pages(session, url, token, entity):
                    count += page.count(b'"MetaData"')
                    size += len(page)
                    if parse:  # digest the page the way a connector would (exact decimals)
                        json.loads(page, parse_float=Decimal)
            wall, cpu = time.perf_counter() - started, sum(process.cpu_times()[:2]) - cpu_before
            print(
                f"round {round_no}: {count} records ({size / max(count, 1):.0f} B each) in {wall:.2f} s = "
                f"{count / wall:,.0f} records/s; server {cpu:.2f} CPU-s = {count / cpu:,.0f} records/CPU-s; "
                f"server RSS {process.memory_info().rss / 1e6:.0f} MB"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


def memory(records: int, pages: int) -> None:
    process = psutil.Process()
    started = time.perf_counter()
    sim = QboSimulator(SimConfig(records_per_company=records, requests_per_minute=1_000_000))
    built = time.perf_counter() - started
    print(f"{len(sim.realm_ids)} companies x {records:,} records built in {built:.1f} s; ", end="")
    print(f"RSS {process.memory_info().rss / 1e6:.0f} MB")
    realm = sim.realm_ids[0]
    started = time.perf_counter()
    for page in range(pages):
        sim.service.query(realm, f"select * from Invoice startposition {page * 1000 + 1} maxresults 1000")
    print(
        f"paged {pages * 1000:,} invoices in {time.perf_counter() - started:.1f} s; "
        f"RSS {process.memory_info().rss / 1e6:.0f} MB (render cache <= {sim.config.render_cache_mb} MB)"
    )
    sim.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.qbo.measure", description=__doc__.split("\n")[0]
    )
    parser.add_argument("mode", choices=["throughput", "memory"])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--entity", choices=ENTITIES, help="only this entity (default: all 24)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--no-prefetch", action="store_true")
    parser.add_argument("--parse", action="store_true", help="the client parses each page (Decimal amounts)")
    args = parser.parse_args(argv)
    if args.mode == "memory":
        memory(args.records, args.pages)
    else:
        entities = [args.entity] if args.entity else list(ENTITIES)
        extra = ["--no-prefetch"] if args.no_prefetch else []
        throughput(args.records, entities, args.rounds, extra, parse=args.parse)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
