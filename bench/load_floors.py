"""Floors measured on the same input as ``bench.target_throughput``: what each step of the target costs
on its own, in this process, on batches decoded once (the decode is timed as its own floor).

- decode: the batch-native decode, RECORD lines -> the stream's Arrow table (``raw_batch.FastDecoder``),
  the main thread's share of every run;
- Parquet: ``pyarrow.parquet.write_table`` of each batch (zstd, as the stage writes it);
- DuckDB: a plain ``INSERT`` of each batch into a table without a key, one transaction each, in a file;
- PostgreSQL: the CSV ``COPY`` of each batch into a table without a key (jsonb, NUMERIC, TIMESTAMPTZ),
  one transaction each.

A destination of ours cannot beat its floor; the table shows how far above it each one runs.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BATCH = 5_000


def _batches(path: Path) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    with path.open("rb") as lines:
        for line in lines:
            if line.startswith(b'{"type":"RECORD"'):
                batch.append(line)
                if len(batch) == BATCH:
                    yield batch
                    batch = []
    if batch:
        yield batch


def measure(path: Path, postgres_uri: str | None) -> dict[str, tuple[int, float]]:
    """Floor name -> (records, seconds)."""
    import duckdb
    import psycopg
    import pyarrow.parquet as pq
    from psycopg import sql

    from target_looker_stage.raw_batch import FastDecoder
    from target_looker_stage.schema_mapping import build_table_spec
    from target_looker_stage.warehouse import postgres_sql
    from target_looker_stage.warehouse.duckdb import _with_json_type
    from target_looker_stage.warehouse.postgres import PostgresWarehouse

    with path.open("rb") as lines:
        first: dict[str, Any] = json.loads(lines.readline())
    spec = build_table_spec(
        stream_name=first["stream"],
        schema=first["schema"],
        key_properties=first["key_properties"],
        schema_name="floor",
        load_method="append",
        hard_delete=False,
        double_columns=(),
    )
    decoder = FastDecoder(spec, first["schema"], version_column="SyncToken", validate=True)
    assert decoder is not None
    seconds = dict.fromkeys(("decode", "parquet", "duckdb", "postgres"), 0.0)
    rows = 0
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp:
        duck = duckdb.connect(str(Path(tmp) / "floor.duckdb"), config={"preserve_insertion_order": "false"})
        pg = psycopg.connect(postgres_uri, autocommit=True) if postgres_uri else None
        created = False
        for number, batch in enumerate(_batches(path)):
            started = time.perf_counter()
            table = decoder.decode(batch)
            seconds["decode"] += time.perf_counter() - started
            assert table is not None, "the bench input must take the batch-native path"
            rows += table.num_rows

            started = time.perf_counter()
            pq.write_table(table, str(Path(tmp) / f"{number}.parquet"), compression="zstd")
            seconds["parquet"] += time.perf_counter() - started

            incoming = _with_json_type(spec, table)
            duck.register("incoming", incoming)
            if not created:
                duck.execute("CREATE TABLE floor AS SELECT * FROM incoming LIMIT 0")
            started = time.perf_counter()
            duck.execute("BEGIN")
            duck.execute("INSERT INTO floor SELECT * FROM incoming")
            duck.execute("COMMIT")
            seconds["duckdb"] += time.perf_counter() - started
            duck.unregister("incoming")

            if pg is not None:
                if not created:
                    pg.execute("CREATE SCHEMA IF NOT EXISTS floor")
                    pg.execute(postgres_sql.create_table(spec, with_primary_key=False))
                target = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
                    postgres_sql.qualified(spec), sql.SQL(", ").join(map(sql.Identifier, spec.column_names))
                )
                started = time.perf_counter()
                chunks = PostgresWarehouse._csv_chunks(PostgresWarehouse._as_spec_types(spec, table))
                with pg.transaction(), pg.cursor() as cursor, cursor.copy(target) as copy:
                    for chunk in chunks:
                        copy.write(chunk)
                seconds["postgres"] += time.perf_counter() - started
            created = True
        duck.close()
        if pg is not None:
            pg.execute("DROP SCHEMA floor CASCADE")
            pg.close()
    if postgres_uri is None:
        del seconds["postgres"]
    return {name: (rows, value) for name, value in seconds.items()}
