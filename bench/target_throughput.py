"""Target throughput benchmark (not a test): ``python -m bench.target_throughput [--records N]``.

Writes N invoice-shaped Singer records once (the QBO simulator's Invoice bodies plus the tap's ``realm_id``,
``last_updated_at`` and ``_sdc_deleted_at``, STATE every 10,000 records), then pipes that file into each
destination of target-looker-stage and, on the same input, into ``target-jsonl`` and MeltanoLabs
``meltanolabs-target-postgres`` (each in its own venv under ``bench/.venvs/``, created here, git-ignored).
Reports records/s, seconds and peak RSS per run, and the floor of only parsing the input (msgspec, orjson).
Results also go to ``bench/results/target_throughput.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / "bench" / ".venvs"
RESULTS = ROOT / "bench" / "results"
TARGET = Path(sys.executable).with_name("target-looker-stage")
STATE_EVERY = 10_000
S3_ROW = "target-looker-stage: Parquet S3 (moto)"
SFTP_ROW = "target-looker-stage: Parquet SFTP (sshd)"
POSTGRES_ROW = "target-looker-stage: PostgreSQL"
MELTANOLABS_ROW = "meltanolabs-target-postgres"
JSONL_ROW = "target-jsonl"
FLOOR_ROWS = {
    "decode": "floor: batch-native decode only",
    "parquet": "floor: Parquet write only (zstd)",
    "duckdb": "floor: DuckDB INSERT only, no key",
    "postgres": "floor: PostgreSQL CSV COPY only, no key",
}


@dataclass
class Result:
    name: str
    records: int
    seconds: float | None
    peak_rss_mb: float | None
    note: str = ""

    @property
    def rate(self) -> float | None:
        return self.records / self.seconds if self.seconds else None


# -- input ---------------------------------------------------------------------------------------------------
def write_input(path: Path, records: int, seed: int) -> None:
    """SCHEMA + ``records`` invoices + STATE every STATE_EVERY records, one JSON line each."""
    import msgspec

    from tap_quickbooks_cdc.records import make_record
    from tap_quickbooks_cdc.registry import STREAM_SCHEMAS

    encoder = msgspec.json.Encoder(decimal_format="number")
    decoder = msgspec.json.Decoder(float_hook=__import__("decimal").Decimal)
    realm = "9130350000000001"
    with path.open("wb") as out:
        schema = {"type": "SCHEMA", "stream": "invoices", "schema": STREAM_SCHEMAS["invoices"]}
        out.write(encoder.encode({**schema, "key_properties": ["realm_id", "Id"]}) + b"\n")
        for i, body in enumerate(_invoice_bodies(records, seed), start=1):
            record = make_record(decoder.decode(body), realm)
            out.write(encoder.encode({"type": "RECORD", "stream": "invoices", "record": record}) + b"\n")
            if i % STATE_EVERY == 0 or i == records:
                state = {"bookmarks": {"invoices": {"position": i}}}
                out.write(encoder.encode({"type": "STATE", "value": state}) + b"\n")


def _invoice_bodies(records: int, seed: int) -> Iterator[bytes]:
    try:
        from tests.fakes.qbo.render import iter_entity_json
    except ImportError:  # the simulator is not there: a small stand-in of the same shape
        from tests.target.singer_streams import encode, generated_invoice

        for i in range(records):
            yield encode(generated_invoice(i, records)).encode()
        return
    yield from iter_entity_json("Invoice", records, seed)


def parse_floor(path: Path) -> list[Result]:
    import decimal

    import msgspec
    import orjson

    lines = path.read_bytes().splitlines()
    count = sum(1 for line in lines if b'"RECORD"' in line[:40])
    decoder = msgspec.json.Decoder(float_hook=decimal.Decimal)
    results = []
    for name, parse in (
        ("parse only: msgspec (Decimal)", decoder.decode),
        ("parse only: orjson", orjson.loads),
    ):
        started = time.perf_counter()
        for line in lines:
            parse(line)
        results.append(Result(name, count, time.perf_counter() - started, None, "in-process, no I/O"))
    return results


# -- running a target ----------------------------------------------------------------------------------------
def run(name: str, command: list[str], input_path: Path, records: int, cwd: Path) -> Result:
    """Run ``command`` with the input file on stdin under /usr/bin/time -v (peak RSS of the target)."""
    timer = ["/usr/bin/time", "-v"] if Path("/usr/bin/time").exists() else []
    with input_path.open("rb") as stdin, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        completed = subprocess.run(
            [*timer, *command], stdin=stdin, stdout=subprocess.DEVNULL, stderr=err, cwd=cwd, check=False
        )
        seconds = time.perf_counter() - started
        err.seek(0)
        log = err.read().decode(errors="replace")
    peak = None
    for line in log.splitlines():
        if "Maximum resident set size" in line:
            peak = int(line.rsplit(":", 1)[1]) / 1024
    if completed.returncode != 0:
        tail = [line for line in log.splitlines() if line.strip() and "\t" not in line][-3:]
        return Result(name, records, None, peak, "failed: " + " | ".join(tail)[-300:])
    return Result(name, records, seconds, peak)


def write_config(directory: Path, name: str, config: dict[str, Any]) -> Path:
    path = directory / f"{name}.json"
    path.write_text(json.dumps(config))
    return path


def ensure_venv(name: str, requirement: str, executable: str) -> Path | None:
    """``bench/.venvs/<name>`` with ``requirement`` installed (once); its console script, or None."""
    VENVS.mkdir(parents=True, exist_ok=True)
    (VENVS / ".gitignore").write_text("*\n")
    venv = VENVS / name
    script = venv / "bin" / executable
    if script.exists():
        return script
    uv = Path(sys.executable).with_name("uv")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        install = (
            [str(uv), "pip", "install", "--python", str(venv / "bin" / "python"), requirement]
            if uv.exists()
            else [str(venv / "bin" / "python"), "-m", "pip", "install", requirement]
        )
        subprocess.run(install, check=True, capture_output=True, timeout=900)
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"  could not install {requirement}: {exc}", file=sys.stderr)
        return None
    return script if script.exists() else None


def ours(config: dict[str, Any], work: Path, name: str) -> list[str]:
    return [str(TARGET), "--config", str(write_config(work, name, config))]


@contextlib.contextmanager
def optional(factory: Callable[[], Any]) -> Iterator[Any]:
    """Enter a service context manager from tests.services, or yield None when it cannot start here."""
    try:
        context = factory()
        value = context.__enter__()
    except Exception as exc:
        print(f"  service unavailable: {type(exc).__name__}: {exc}", file=sys.stderr)
        yield None
        return
    try:
        yield value
    finally:
        context.__exit__(None, None, None)


def benchmark(
    records: int,
    seed: int,
    only: set[str] | None,
    batch_size: int | None,
    peer_records: int | None = None,
) -> list[Result]:
    from tests import services

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="bench-target-") as tmp:
        work = Path(tmp)
        source = work / "input.jsonl"
        started = time.perf_counter()
        write_input(source, records, seed)
        size = source.stat().st_size / 1e6
        print(f"input: {records:,} records, {size:,.0f} MB, written in {time.perf_counter() - started:.1f}s")
        peer_source, peers = source, records
        if peer_records and peer_records < records:  # the slow peer on the first records of the same input
            peer_source, peers = work / "peer-input.jsonl", peer_records
            write_input(peer_source, peers, seed)

        def wanted(name: str) -> bool:
            return only is None or any(token.lower() in name.lower() for token in only)

        def go(name: str, command: list[str] | None, note: str = "", *, peer: bool = False) -> None:
            if not wanted(name):
                return
            count = peers if peer else records
            if command is None:
                results.append(Result(name, count, None, None, note or "unavailable"))
            else:
                result = run(name, command, peer_source if peer else source, count, work)
                result.note = result.note or note
                results.append(result)
            print("  " + format_row(results[-1]), flush=True)

        base: dict[str, Any] = {"batch_size_rows": batch_size} if batch_size else {}
        if wanted("parse only"):
            results.extend(parse_floor(source))
            for result in results:
                print("  " + format_row(result))
        if wanted("floor"):
            from bench import load_floors

            with optional(services.run_postgres_server) as pg:
                floors = load_floors.measure(source, pg.uri if pg else None)
            for key, name in FLOOR_ROWS.items():
                if key in floors:
                    count, seconds = floors[key]
                    results.append(Result(name, count, seconds, None, "in-process, batches of 5,000"))
                    print("  " + format_row(results[-1]), flush=True)
        local = {**base, "stage_uri": str(work / "stage"), "warehouse_uri": ""}
        go("target-looker-stage: Parquet local", ours(local, work, "parquet"))
        duck = {**base, "stage_uri": "", "warehouse_uri": f"duckdb:///{work / 'bench.duckdb'}"}
        go("target-looker-stage: DuckDB", ours(duck, work, "duckdb"))
        both = {
            **duck,
            "stage_uri": str(work / "stage2"),
            "warehouse_uri": f"duckdb:///{work / 'both.duckdb'}",
        }
        go("target-looker-stage: Parquet local + DuckDB", ours(both, work, "both"))
        go(
            "target-looker-stage: DuckDB, validate_records=false",
            ours(
                {**duck, "warehouse_uri": f"duckdb:///{work / 'nv.duckdb'}", "validate_records": False},
                work,
                "nv",
            ),
        )
        if wanted(S3_ROW):
            with optional(services.run_s3_server) as s3:
                config = {**base, **(s3.config() if s3 else {}), "warehouse_uri": ""}
                config["stage_uri"] = f"s3://{s3.bucket}/bench" if s3 else ""
                go(S3_ROW, ours(config, work, "s3") if s3 else None)
        if wanted(SFTP_ROW):
            with optional(services.run_sshd_server) as sshd:
                config = {**base, "warehouse_uri": ""}
                if sshd:
                    config |= {
                        "stage_uri": sshd.uri(f"{sshd.root}/bench"),
                        "sftp_private_key_path": str(sshd.private_key_path),
                        "sftp_known_hosts_path": str(sshd.known_hosts_path),
                    }
                go(SFTP_ROW, ours(config, work, "sftp") if sshd else None)
        if wanted(POSTGRES_ROW) or wanted(MELTANOLABS_ROW):
            with optional(services.run_postgres_server) as pg:
                config = {**base, "stage_uri": "", "warehouse_uri": pg.uri if pg else ""}
                go(POSTGRES_ROW, ours(config, work, "pg") if pg else None)
                if wanted(MELTANOLABS_ROW):
                    script = ensure_venv(
                        "meltanolabs-target-postgres", "meltanolabs-target-postgres", "target-postgres"
                    )
                    command = None
                    if script and pg:
                        theirs = {
                            "sqlalchemy_url": pg.uri.replace("postgresql://", "postgresql+psycopg://", 1)
                        }
                        theirs |= {"default_target_schema": "meltanolabs", "activate_version": False}
                        command = [str(script), "--config", str(write_config(work, "meltanolabs", theirs))]
                    go(MELTANOLABS_ROW, command, peer=True)
        if wanted(JSONL_ROW):
            script = ensure_venv("target-jsonl", "target-jsonl", "target-jsonl")
            out = work / "jsonl"
            out.mkdir()
            command = [
                str(script),
                "--config",
                str(write_config(work, "jsonl", {"destination_path": str(out)})),
            ]
            go(JSONL_ROW, command if script else None, peer=True)
    return results


E2E_ROW = "meltano run tap-quickbooks-cdc target-looker-stage"


def end_to_end(records_per_company: int) -> Result:
    """The whole pipeline as users run it (as ``scripts/demo.py`` drives it): the QBO simulator with one
    company, ``meltano run`` in the ``demo`` environment with the token store, stage and DuckDB moved to a
    temporary folder and no state written. Records are those the target read (its reader's summary line)."""
    import os
    import re

    from tests.fakes.qbo import QboSimulator, SimConfig

    with (
        tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp,
        QboSimulator(SimConfig(companies=1, seed=7, records_per_company=records_per_company)) as sim,
    ):
        work = Path(tmp)
        companies = [{"realm_id": r, "refresh_token": sim.current_refresh_token(r)} for r in sim.realm_ids]
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "MELTANO_ENVIRONMENT": "demo",
            "TAP_QUICKBOOKS_CDC_API_BASE_URL": sim.base_url,
            "TAP_QUICKBOOKS_CDC_TOKEN_URL": sim.token_url,
            "TAP_QUICKBOOKS_CDC_CLIENT_ID": sim.client_id,
            "TAP_QUICKBOOKS_CDC_CLIENT_SECRET": sim.client_secret,
            "TAP_QUICKBOOKS_CDC_COMPANIES": json.dumps(companies),
            "TAP_QUICKBOOKS_CDC_TOKEN_STORE": str(work / "tokens.json"),
            "TARGET_LOOKER_STAGE_STAGE_URI": str(work / "stage"),
            "TARGET_LOOKER_STAGE_WAREHOUSE_URI": f"duckdb:///{work / 'warehouse.duckdb'}",
        }
        command = [
            str(Path(sys.executable).with_name("meltano")),
            "run",
            "--no-state-update",
            "--full-refresh",
        ]
        started = time.perf_counter()
        completed = subprocess.run(
            [*command, "tap-quickbooks-cdc", "target-looker-stage"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
    log = completed.stdout + completed.stderr
    found = re.findall(
        r"Reader 'target-looker-stage' completed processing \d+ lines of input \(\d+ schemas, (\d+) records",
        log,
    )
    records = int(found[-1]) if found else 0
    if completed.returncode != 0 or not records:
        tail = [line for line in log.splitlines() if line.strip()][-2:]
        return Result(E2E_ROW, records, None, None, "failed: " + " | ".join(tail)[-300:])
    return Result(
        E2E_ROW, records, seconds, None, f"1 simulated company, {records_per_company:,} records asked"
    )


def format_row(result: Result) -> str:
    rate = f"{result.rate:>10,.0f} rec/s" if result.rate else " " * 16
    seconds = f"{result.seconds:>8.1f}s" if result.seconds else " " * 9
    rss = f"{result.peak_rss_mb:>7.0f} MB" if result.peak_rss_mb else " " * 10
    return f"{result.name:<52} {rate} {seconds} {rss}  {result.note}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--batch-size", type=int, default=None, help="batch_size_rows for target-looker-stage"
    )
    parser.add_argument(
        "--only",
        nargs="*",
        help="run only destinations whose name contains one of these words (e.g. DuckDB parse)",
    )
    parser.add_argument(
        "--peer-records",
        type=int,
        default=None,
        help="records for the slow peers (target-jsonl, meltanolabs)",
    )
    parser.add_argument(
        "--e2e-records",
        type=int,
        default=0,
        help="also time `meltano run tap-quickbooks-cdc target-looker-stage` on a simulated company this big",
    )
    args = parser.parse_args(argv)
    only = set(args.only) if args.only else None
    results = benchmark(args.records, args.seed, only, args.batch_size, args.peer_records)
    if args.e2e_records:
        results.append(end_to_end(args.e2e_records))
        print("  " + format_row(results[-1]), flush=True)
    print()
    print(f"{'run':<52} {'records/s':>16} {'seconds':>9} {'peak RSS':>10}")
    for result in results:
        print(format_row(result))
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = [{**asdict(r), "records_per_second": r.rate} for r in results]
    (RESULTS / "target_throughput.json").write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
