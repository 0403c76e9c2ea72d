"""The Parquet stage: Hive partitions, content-derived names (a replay replaces), per-run manifests."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from target_looker_stage.schema_mapping import schema_version
from target_looker_stage.target import TargetLookerStage
from tests.target.singer_streams import (
    encode,
    invoice_messages,
    record_message,
    run_in_process,
    schema_message,
    staged_rows,
)


def parquet_files(stage: Path) -> list[str]:
    return sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*.parquet"))


def manifests(stage: Path) -> list[dict[str, Any]]:
    found = [json.loads(p.read_text()) for p in (stage / "_manifests").glob("run-*.json")]
    return sorted(found, key=lambda m: str(m["started_at"]))


def test_files_are_partitioned_by_stream_and_realm(config: dict[str, Any], stage: Path) -> None:
    run_in_process({**config, "batch_size_rows": 400}, invoice_messages(1_000, state_every=250))
    files = parquet_files(stage)
    assert {f.rsplit("/", 1)[0] for f in files} == {
        "stream=invoices/realm_id=9130350000000001",
        "stream=invoices/realm_id=9130350000000002",
    }
    assert all(f.rsplit("/", 1)[1].startswith("part-") for f in files)
    assert not [p for p in stage.rglob("*") if p.name.startswith(".")]


def test_stream_without_realm_has_no_realm_partition(config: dict[str, Any], stage: Path) -> None:
    lines = [
        encode(schema_message("items", {"properties": {"id": {"type": "integer"}}}, ["id"])),
        encode(record_message("items", {"id": 1})),
    ]
    run_in_process(config, lines)
    (only,) = parquet_files(stage)
    assert only.startswith("stream=items/part-")


def test_replaying_the_same_input_replaces_files(config: dict[str, Any], stage: Path) -> None:
    settings = {**config, "batch_size_rows": 300}
    run_in_process(settings, invoice_messages(1_000, state_every=100))
    first_files, first_rows = parquet_files(stage), staged_rows(stage, "invoices")
    run_in_process(settings, invoice_messages(1_000, state_every=100))
    assert parquet_files(stage) == first_files
    assert staged_rows(stage, "invoices") == first_rows


def test_each_run_writes_a_manifest_of_its_files(config: dict[str, Any], stage: Path) -> None:
    run_in_process({**config, "batch_size_rows": 400}, invoice_messages(1_000, state_every=250))
    run_in_process(config, invoice_messages(10, state_every=5, distinct_ids=10))
    first, second = manifests(stage)
    assert first["complete"] is True
    assert {f["key"] for f in first["files"]} <= set(parquet_files(stage))
    assert sum(f["rows"] for f in first["files"]) == first["rows"]
    import pyarrow.parquet as pq

    assert all(pq.read_metadata(stage / f["key"]).num_rows == f["rows"] for f in first["files"])
    version = first["streams"]["invoices"]["schema_version"]
    assert {f["schema_version"] for f in first["files"]} == {version}
    assert second["run_id"] != first["run_id"]
    assert second["rows"] == 10


class RecordingTarget(TargetLookerStage):
    calls: list[tuple[list[str], str]]
    stdout: io.StringIO

    def after_batches_committed(self, streams: Sequence[str]) -> None:
        super().after_batches_committed(streams)
        self.calls.append((list(streams), self.stdout.getvalue()))


def test_hook_runs_once_per_drain_after_commit_before_state(config: dict[str, Any]) -> None:
    target = RecordingTarget(config={**config, "batch_size_rows": 100})
    target.calls = []
    target.stdout = io.StringIO()
    lines = [*invoice_messages(250, state_every=100, stream="invoices")]
    lines.insert(1, encode(schema_message("items", {"properties": {"id": {"type": "integer"}}}, ["id"])))
    lines.insert(2, encode(record_message("items", {"id": 1})))
    with contextlib.redirect_stdout(target.stdout):
        target.listen(io.StringIO("".join(lines)))
    states = [json.loads(line) for line in target.stdout.getvalue().splitlines()]
    assert states == [{"position": 100}, {"position": 200}, {"position": 250}]
    assert [streams for streams, _ in target.calls] == [["invoices", "items"], ["invoices"], ["invoices"]]
    assert [out.count("\n") for _, out in target.calls] == [0, 1, 2]


def test_schema_version_changes_with_the_columns(config: dict[str, Any]) -> None:
    from target_looker_stage.schema_mapping import build_table_spec

    def spec(props: dict[str, Any]) -> Any:
        return build_table_spec(
            stream_name="s",
            schema={"properties": props},
            key_properties=["id"],
            schema_name="q",
            load_method="upsert",
            hard_delete=False,
        )

    base = {"id": {"type": "integer"}}
    assert schema_version(spec(base)) == schema_version(spec(dict(base)))
    assert schema_version(spec(base)) != schema_version(spec({**base, "a": {"type": "string"}}))


def test_without_versions_changed_values_get_a_new_file(config: dict[str, Any], stage: Path) -> None:
    def items(value: str) -> list[str]:
        schema = {"properties": {"id": {"type": "integer"}, "v": {"type": "string"}}}
        return [
            encode(schema_message("items", schema, ["id"])),
            encode(record_message("items", {"id": 1, "v": value})),
        ]

    run_in_process(config, items("a"))
    run_in_process(config, items("a"))
    assert len(parquet_files(stage)) == 1
    run_in_process(config, items("b"))
    assert len(parquet_files(stage)) == 2
