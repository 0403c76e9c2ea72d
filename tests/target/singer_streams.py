"""Reusable helpers for target tests: build Singer message streams and run a target as a subprocess.

Messages are plain dicts encoded with exact decimals (``Decimal`` -> JSON number), so money round-trips.
``invoice_messages`` generates a cheap, deterministic, resumable invoice-like stream: record ``i`` always
has the same content, STATE values say how far the stream got, and ``start`` resumes after a given STATE.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

_ENCODER = msgspec.json.Encoder(decimal_format="number")
TARGET_EXECUTABLE = Path(sys.executable).with_name("target-looker-stage")

INVOICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "Id": {"type": "string"},
        "SyncToken": {"type": "string"},
        "realm_id": {"type": "string"},
        "DocNumber": {"type": ["null", "string"]},
        "TxnDate": {"type": ["null", "string"], "format": "date"},
        "TotalAmt": {"type": ["null", "number"]},
        "Balance": {"type": ["null", "number"]},
        "CustomerRef": {
            "type": ["null", "object"],
            "properties": {"value": {"type": "string"}, "name": {"type": "string"}},
        },
        "Line": {"type": ["null", "array"], "items": {"type": "object"}},
        "MetaData": {"type": ["null", "object"]},
        "status": {"type": ["null", "string"]},
        "last_updated_at": {"type": "string", "format": "date-time"},
        "_sdc_deleted_at": {"type": ["null", "string"], "format": "date-time"},
    },
}
INVOICE_KEYS = ["realm_id", "Id"]


def encode(message: Mapping[str, Any]) -> str:
    """One Singer message as a JSON line (with the newline)."""
    return _ENCODER.encode(message).decode() + "\n"


def schema_message(
    stream: str, schema: Mapping[str, Any], key_properties: Sequence[str] = ()
) -> dict[str, Any]:
    return {"type": "SCHEMA", "stream": stream, "schema": schema, "key_properties": list(key_properties)}


def record_message(stream: str, record: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "RECORD", "stream": stream, "record": dict(record)}


def state_message(value: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "STATE", "value": dict(value)}


def invoice(
    invoice_id: int | str,
    sync_token: int = 0,
    *,
    realm_id: str = "9130350000000001",
    total: Decimal | str = "100.00",
    updated: dt.datetime | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A small QBO-shaped invoice; ``fields`` override or add properties."""
    updated = updated or dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=sync_token)
    amount = Decimal(total)
    record: dict[str, Any] = {
        "Id": str(invoice_id),
        "SyncToken": str(sync_token),
        "realm_id": realm_id,
        "DocNumber": f"INV-{invoice_id}",
        "TxnDate": updated.date().isoformat(),
        "TotalAmt": amount,
        "Balance": amount,
        "CustomerRef": {"value": "42", "name": "Amy's Bird Sanctuary"},
        "Line": [{"Id": "1", "Amount": amount, "DetailType": "SalesItemLineDetail"}],
        "MetaData": {"LastUpdatedTime": updated.isoformat()},
        "last_updated_at": updated.isoformat().replace("+00:00", "Z"),
        "_sdc_deleted_at": None,
    }
    record.update(fields)
    return record


def delete_stub(
    invoice_id: int | str, *, realm_id: str = "9130350000000001", at: dt.datetime | None = None
) -> dict[str, Any]:
    """What the tap emits for a deleted entity: only Id, MetaData, status, realm and timestamps."""
    at = at or dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    stamp = at.isoformat().replace("+00:00", "Z")
    return {
        "Id": str(invoice_id),
        "MetaData": {"LastUpdatedTime": at.isoformat()},
        "status": "Deleted",
        "realm_id": realm_id,
        "last_updated_at": stamp,
        "_sdc_deleted_at": stamp,
    }


def generated_invoice(i: int, distinct_ids: int) -> dict[str, Any]:
    """Record ``i`` of the generated load: Ids repeat every ``distinct_ids`` records with a higher
    SyncToken (updates across batches), every 97th record is a delete stub, two realms."""
    invoice_id, generation = i % distinct_ids, i // distinct_ids
    realm = "9130350000000001" if invoice_id % 3 else "9130350000000002"
    if i % 97 == 96:
        return delete_stub(
            invoice_id, realm_id=realm, at=dt.datetime(2024, 6, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=i)
        )
    cents = (i * 7919) % 10_000_000
    total = Decimal(cents).scaleb(-2)
    return invoice(invoice_id, generation, realm_id=realm, total=total)


def invoice_messages(
    count: int,
    *,
    state_every: int = 5_000,
    start: int = 0,
    distinct_ids: int | None = None,
    stream: str = "invoices",
) -> Iterator[str]:
    """SCHEMA, then records ``start``..``count-1`` with a STATE ``{"position": n}`` after every
    ``state_every`` records (and at the end). Resume from an emitted STATE by passing its position as
    ``start``."""
    ids = distinct_ids or max(1, count * 3 // 4)
    yield encode(schema_message(stream, INVOICE_SCHEMA, INVOICE_KEYS))
    for i in range(start, count):
        yield encode(record_message(stream, generated_invoice(i, ids)))
        if (i + 1) % state_every == 0 or i + 1 == count:
            yield encode(state_message({"position": i + 1}))


@dataclass
class TargetRun:
    returncode: int
    stdout: str
    stderr: str
    states: list[dict[str, Any]] = field(default_factory=list)


def write_config(directory: Path, config: Mapping[str, Any]) -> Path:
    path = directory / f"target-config-{os.getpid()}-{len(list(directory.glob('target-config-*')))}.json"
    path.write_text(json.dumps(config))
    return path


def target_command(config_path: Path) -> list[str]:
    if TARGET_EXECUTABLE.exists():
        return [str(TARGET_EXECUTABLE), "--config", str(config_path)]
    code = "from target_looker_stage.target import TargetLookerStage; TargetLookerStage.cli()"
    return [sys.executable, "-c", code, "--config", str(config_path)]


def run_target(
    config: Mapping[str, Any],
    messages: Iterable[str] | str,
    *,
    workdir: Path,
    timeout: float = 300,
    env: Mapping[str, str] | None = None,
) -> TargetRun:
    """Run the target to completion on ``messages`` (lines or one string) in ``workdir``."""
    payload = messages if isinstance(messages, str) else "".join(messages)
    completed = subprocess.run(
        target_command(write_config(workdir, config)),
        input=payload.encode(),
        capture_output=True,
        cwd=workdir,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    stdout = completed.stdout.decode()
    return TargetRun(completed.returncode, stdout, completed.stderr.decode(), parse_states(stdout))


def parse_states(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def start_target(config: Mapping[str, Any], *, workdir: Path) -> subprocess.Popen[bytes]:
    """Start the target with pipes (stdin to feed, stdout to watch for STATE) for kill tests."""
    return subprocess.Popen(
        target_command(write_config(workdir, config)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=workdir,
    )


def run_in_process(config: Mapping[str, Any], messages: Iterable[str]) -> list[dict[str, Any]]:
    """Run the target in this process (faster for semantics tests); returns the STATE values it relayed."""
    import contextlib
    import io

    from target_looker_stage.target import TargetLookerStage

    target = TargetLookerStage(config=dict(config))
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            target.listen(io.StringIO("".join(messages)))
    finally:
        target.close()
    return parse_states(out.getvalue())


def warehouse_rows(database: Path, table: str, *, order_by: str = '"realm_id", "Id"') -> list[dict[str, Any]]:
    """All rows of ``schema.table`` in a DuckDB file, as dicts, in a stable order."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as connection:
        cursor = connection.execute(f"SELECT * FROM {table} ORDER BY {order_by}")
        names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def staged_rows(stage: Path, stream: str) -> list[dict[str, Any]]:
    """Every row in the stream's staged Parquet files (partition folders included), sorted for comparison."""
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = []
    for path in sorted((stage / f"stream={stream}").rglob("*.parquet")):
        rows.extend(pq.read_table(path).to_pylist())
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def generated_version(i: int, distinct_ids: int) -> tuple[tuple[str, str], int]:
    """((realm_id, Id), sync version) of ``generated_invoice(i, distinct_ids)``, without building it."""
    from target_looker_stage.table_spec import DELETE_VERSION

    invoice_id = i % distinct_ids
    realm = "9130350000000001" if invoice_id % 3 else "9130350000000002"
    version = DELETE_VERSION if i % 97 == 96 else i // distinct_ids
    return (realm, str(invoice_id)), version


SORT_KEYS = ("realm_id", "Id", "_sdc_sync_version")


def staged_table(stage: Path, stream: str, sort_by: Sequence[str] = SORT_KEYS) -> Any:
    """All staged Parquet rows of a stream as one ``pyarrow.Table`` sorted by ``sort_by`` (for equality)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = [pq.read_table(p) for p in sorted((stage / f"stream={stream}").rglob("*.parquet"))]
    if not tables:
        return None
    table = pa.concat_tables(tables, promote_options="default")
    return table.sort_by([(name, "ascending") for name in sort_by]).combine_chunks()


def tables_differ(first: Path, second: Path, table: str) -> int:
    """Rows of ``table`` in one DuckDB file and not the other (multiset difference, both ways)."""
    import duckdb

    with duckdb.connect() as connection:
        connection.execute(f"ATTACH '{first}' AS a (READ_ONLY)")
        connection.execute(f"ATTACH '{second}' AS b (READ_ONLY)")
        query = f"SELECT count(*) FROM (SELECT * FROM a.{table} EXCEPT ALL SELECT * FROM b.{table})"
        one = connection.execute(query).fetchone()
        other = connection.execute(
            query.replace("a.", "x.").replace("b.", "a.").replace("x.", "b.")
        ).fetchone()
    return int(one[0] if one else 0) + int(other[0] if other else 0)


def _feed(stdin: Any, lines: Iterable[str]) -> None:
    import contextlib

    with contextlib.suppress(BrokenPipeError, OSError, ValueError):
        for line in lines:
            stdin.write(line.encode())
        stdin.close()


def run_until_killed(
    config: Mapping[str, Any],
    messages: Iterable[str],
    *,
    workdir: Path,
    states_before_kill: int,
    delay: float = 0.0,
    after_kill: Callable[[], object] | None = None,
) -> dict[str, Any]:
    """Feed ``messages`` to a target subprocess and SIGKILL it ``delay`` seconds after it emitted
    ``states_before_kill`` STATE lines, then call ``after_kill`` (crash a server it wrote to). Returns the
    last STATE it emitted (what an orchestrator would resume from); fails if the target ended on its own
    first."""
    import threading
    import time

    process = start_target(config, workdir=workdir)
    assert process.stdin is not None
    assert process.stdout is not None
    writer = threading.Thread(target=_feed, args=(process.stdin, messages))
    writer.start()
    emitted: list[dict[str, Any]] = []
    for line in process.stdout:
        emitted.extend(parse_states(line.decode()))
        if len(emitted) == states_before_kill:
            time.sleep(delay)
            process.kill()
            if after_kill is not None:
                after_kill()
            break
    emitted.extend(parse_states(process.stdout.read().decode()))
    process.wait(timeout=60)
    writer.join(timeout=60)
    assert process.returncode == -9, "the target finished before it could be killed"
    return emitted[-1]
