"""The main job end to end on the embedded default.

Simulated QBO (two companies) -> `meltano run tap-quickbooks-cdc target-looker-stage` (backfill) -> changes
in the simulator -> the same run again (incremental, CDC) -> dbt build -> a readable summary.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from scripts.demo_finance import finance_summary
from target_looker_stage.table_spec import LOADS_TABLE
from tests.fakes.qbo import QboSimulator, SimConfig

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
#: Everything the demo writes lives here (meltano.yml's `demo` environment), never in dev or prod paths.
OUTPUT = ROOT / "output" / "demo"
WAREHOUSE = OUTPUT / "warehouse.duckdb"
STAGE = OUTPUT / "stage"
LOG = OUTPUT / "demo.log"
TOKEN_STORE = OUTPUT / "qbo_tokens.json"
ENVIRONMENT = "demo"
STATE_ID = f"{ENVIRONMENT}:tap-quickbooks-cdc-to-target-looker-stage"
RAW_SCHEMA = "quickbooks"
RECORDS_PER_COMPANY = 3_000

#: (realm_id, stream, Id) -> (SyncToken, deleted)
Snapshot = dict[tuple[str, str, str], tuple[str | None, bool]]


class DemoError(RuntimeError):
    """A step failed; the message says which and where its log is."""


@dataclass
class Step:
    name: str
    seconds: float


@dataclass
class Timings:
    steps: list[Step] = field(default_factory=list)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        print(f"-> {name} ...", flush=True)
        started = time.perf_counter()
        yield
        self.steps.append(Step(name, time.perf_counter() - started))


def run_logged(args: list[str], env: dict[str, str], what: str) -> None:
    """Run a command from the project root, appending its output to the demo log."""
    with LOG.open("ab") as log:
        log.write(f"\n$ {' '.join(args)}\n".encode())
        log.flush()
        result = subprocess.run(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        raise DemoError(f"{what} failed (exit {result.returncode}); see {LOG.relative_to(ROOT)}")


def meltano(env: dict[str, str], *args: str) -> None:
    run_logged([str(BIN / "meltano"), *args], env, f"meltano {' '.join(args)}")


def reset_previous_demo(env: dict[str, str]) -> None:
    """A demo starts from nothing: a fresh simulator means fresh tokens, so old state and tokens must go.

    Only the demo's own folder is emptied (and only the `demo` environment's Meltano state cleared)."""
    for path in (STAGE, WAREHOUSE, WAREHOUSE.with_suffix(".duckdb.wal"), TOKEN_STORE):
        if not path.resolve().is_relative_to(OUTPUT.resolve()):
            raise DemoError(
                f"refusing to delete {path}: the demo only deletes inside {OUTPUT.relative_to(ROOT)}"
            )
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    meltano(env, "state", "clear", "--force", STATE_ID)


def pipeline_env(sim: QboSimulator) -> dict[str, str]:
    companies = [{"realm_id": r, "refresh_token": sim.current_refresh_token(r)} for r in sim.realm_ids]
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "MELTANO_ENVIRONMENT": ENVIRONMENT,
        "TAP_QUICKBOOKS_CDC_API_BASE_URL": sim.base_url,
        "TAP_QUICKBOOKS_CDC_TOKEN_URL": sim.token_url,
        "TAP_QUICKBOOKS_CDC_CLIENT_ID": sim.client_id,
        "TAP_QUICKBOOKS_CDC_CLIENT_SECRET": sim.client_secret,
        "TAP_QUICKBOOKS_CDC_COMPANIES": json.dumps(companies),
    }


def snapshot() -> Snapshot:
    """Every row's SyncToken and deleted flag, to show what a run changed."""
    rows: Snapshot = {}
    with duckdb.connect(str(WAREHOUSE), read_only=True) as con:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = ? and table_name <> ? "
            "order by 1",
            [RAW_SCHEMA, LOADS_TABLE],
        ).fetchall()
        for (table,) in tables:
            query = (
                f'select realm_id, "Id", "SyncToken", _sdc_deleted_at is not null from {RAW_SCHEMA}."{table}"'
            )
            for realm, id_, token, deleted in con.execute(query).fetchall():
                rows[(str(realm), str(table), str(id_))] = (token, bool(deleted))
    return rows


def change_some_records(sim: QboSimulator) -> dict[str, int]:
    """What a bookkeeper does between two syncs: new invoices, an edited customer, a deleted invoice."""
    changes = {"created": 0, "updated": 0, "deleted": 0}
    for realm in sim.realm_ids:
        for _ in range(3):
            sim.create(realm, "Invoice")
            changes["created"] += 1
        customer = next(sim.iter_records(realm, "Customer"))
        sim.update(realm, "Customer", str(customer["Id"]), {"Notes": "Updated during the demo"})
        changes["updated"] += 1
        invoice = next(sim.iter_records(realm, "Invoice"))
        sim.delete(realm, "Invoice", str(invoice["Id"]))
        changes["deleted"] += 1
    return changes


def diff(before: Snapshot, after: Snapshot) -> dict[str, int]:
    new = sum(1 for key in after if key not in before)
    deleted = sum(1 for key, (_, gone) in after.items() if gone and not before.get(key, (None, False))[1])
    updated = sum(
        1 for key, (token, gone) in after.items() if key in before and not gone and before[key][0] != token
    )
    return {"new rows": new, "updated rows": updated, "rows marked deleted": deleted}


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    print(f"\n{title}")
    print("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  " + "  ".join("-" * w for w in widths))
    for row in rows:
        print(
            "  "
            + "  ".join(
                str(c).rjust(w) if i else str(c).ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )


def print_finance(finance: dict[str, Any]) -> None:
    """The finance marts' tables: aging, last full month's P&L, cash, and the tie-out status."""
    for side, title in (
        ("ar_aging", "A/R aging (quickbooks__ar_aging, today)"),
        ("ap_aging", "A/P aging (quickbooks__ap_aging, today)"),
    ):
        buckets = finance[side]
        header = list(next(iter(buckets.values())))
        print_table(
            title,
            ["realm_id", *header],
            [[r, *(f"{v:,.2f}" for v in b.values())] for r, b in buckets.items()],
        )
    print_table(
        f"P&L of {finance['pnl_month']} (quickbooks__profit_and_loss)",
        ["realm_id", "revenue", "expenses", "net income"],
        [[r, *(f"{v:,.2f}" for v in p.values())] for r, p in finance["pnl"].items()],
    )
    print_table(
        "Cash by bank account (quickbooks__cash_position, today)",
        ["realm_id", "account", "balance"],
        [[r, f"{name} ({account})", f"{balance:,.2f}"] for r, account, name, balance in finance["cash"]],
    )
    statements = list(next(iter(finance["tie_out"].values())))
    print_table(
        "Tie-out: marts vs the simulator's ground truth (differences; 0 = equal to the cent)",
        ["realm_id", *statements],
        [[r, *(str(n) if n else "0 ok" for n in s.values())] for r, s in finance["tie_out"].items()],
    )


def summarize(
    sim: QboSimulator, timings: Timings, changes: dict[str, int], changed: dict[str, int], requests: int
) -> dict[str, object]:
    """Print the summary tables and return the same facts as data."""
    with duckdb.connect(str(WAREHOUSE), read_only=True) as con:
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ? and table_name <> ? "
                "order by 1",
                [RAW_SCHEMA, LOADS_TABLE],
            ).fetchall()
        ]
        live_rows: dict[str, dict[str, int]] = {}
        for table in tables:
            counts = dict(
                con.execute(
                    f"select realm_id, count(*) filter (where _sdc_deleted_at is null) "
                    f'from {RAW_SCHEMA}."{table}" group by 1'
                ).fetchall()
            )
            live_rows[table] = {r: int(counts.get(r, 0)) for r in sim.realm_ids}
        sales = con.execute(
            "select realm_id, strftime(month, '%Y-%m'), invoice_count, invoiced_amount, open_balance "
            "from marts.quickbooks__sales_by_month order by month desc, realm_id limit 6"
        ).fetchall()
        finance = finance_summary(con, sim, date.today())
    print_table(
        "Live rows per stream and company (warehouse)",
        ["stream", *sim.realm_ids],
        [[table, *(f"{n:,}" for n in counts.values())] for table, counts in live_rows.items()],
    )
    print_table(
        "Incremental run",
        ["what", "count"],
        [[k, str(v)] for k, v in {**{f"simulator {k}": v for k, v in changes.items()}, **changed}.items()]
        + [["data requests to QBO (all companies)", str(requests)]],
    )
    print_table(
        "dbt mart quickbooks__sales_by_month (latest months)",
        ["realm_id", "month", "invoices", "invoiced", "open balance"],
        [[str(r), m, str(n), f"{amt:,.2f}", f"{bal:,.2f}"] for r, m, n, amt, bal in sales],
    )
    print_finance(finance)
    parquet = list(STAGE.rglob("*.parquet"))
    print_table(
        "Where the data landed",
        ["destination", "location"],
        [
            ["warehouse (DuckDB)", str(WAREHOUSE.relative_to(ROOT))],
            [
                "Parquet stage",
                f"{STAGE.relative_to(ROOT)}/ ({len(parquet)} files, "
                f"{sum(p.stat().st_size for p in parquet) / 1e6:.1f} MB)",
            ],
            ["refresh tokens", str(TOKEN_STORE.relative_to(ROOT))],
            ["log", str(LOG.relative_to(ROOT))],
        ],
    )
    print_table("Timings", ["step", "seconds"], [[s.name, f"{s.seconds:.1f}"] for s in timings.steps])
    return {
        "realm_ids": sim.realm_ids,
        "live_rows": live_rows,
        "simulator_changes": changes,
        "incremental_changes": changed,
        "incremental_data_requests": requests,
        "parquet_files": len(parquet),
        "sales_months": len(sales),
        **json.loads(json.dumps(finance, default=str)),
        "seconds": {s.name: round(s.seconds, 2) for s in timings.steps},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records-per-company", type=int, default=RECORDS_PER_COMPANY)
    parser.add_argument("--summary-json", type=Path, help="also write the summary as JSON to this file")
    args = parser.parse_args(argv)
    timings = Timings()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    LOG.write_text("")
    config = SimConfig(companies=2, seed=7, records_per_company=args.records_per_company)
    with QboSimulator(config) as sim:
        env = pipeline_env(sim)
        try:
            with timings.step("meltano install (local plugins, dbt)"):
                meltano(env, "install")
            reset_previous_demo(env)
            with timings.step("run 1: backfill (query endpoint)"):
                meltano(env, "run", "tap-quickbooks-cdc", "target-looker-stage")
            before = snapshot()
            changes = change_some_records(sim)
            sim.reset_requests()
            with timings.step("run 2: incremental (CDC)"):
                meltano(env, "run", "tap-quickbooks-cdc", "target-looker-stage")
            requests = sim.data_requests()
            changed = diff(before, snapshot())
            with timings.step("dbt build (staging -> marts)"):
                meltano(env, "invoke", "dbt:build")
        except DemoError as exc:
            print(f"demo: {exc}", file=sys.stderr)
            return 1
        summary = summarize(sim, timings, changes, changed, requests)
    if args.summary_json:
        args.summary_json.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
