"""The stage under failure and for its readers: read-only and full file systems end in one line with nothing
half-published, files are private, SFTP uploads are fsynced, a batch the warehouse rejects is never
published, and pyarrow and DuckDB read the Hive layout alike (realm_id a string)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import paramiko
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from target_looker_stage.errors import StageError, WarehouseError
from target_looker_stage.settings import TargetSettings
from target_looker_stage.stage import reader_partitioning
from target_looker_stage.storage.sftp import SftpStorage
from target_looker_stage.target import TargetLookerStage
from target_looker_stage.warehouse.duckdb import DuckDBWarehouse
from tests.services import SshdServer
from tests.target.singer_streams import (
    INVOICE_KEYS,
    INVOICE_SCHEMA,
    TargetRun,
    encode,
    invoice,
    invoice_messages,
    parse_states,
    record_message,
    run_in_process,
    run_target,
    schema_message,
    state_message,
    warehouse_rows,
)


@contextlib.contextmanager
def tmpfs(where: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted at ``where`` (tests run as root: a chmod'ed folder would still be writable)."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(path: Path) -> None:
    """Write ``path`` until its file system has no byte left."""
    with path.open("wb", buffering=0) as filler:
        for size in (65_536, 4_096, 1):
            with contextlib.suppress(OSError):
                while True:
                    filler.write(b"\0" * size)


def the_error(run: TargetRun) -> str:
    assert run.returncode == 1, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("target-looker-stage: error:")]
    assert len(errors) == 1, run.stderr[-2000:]
    return errors[0]


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# ----------------------------------------------------------------------------------- read-only, full disk


def test_a_read_only_stream_folder_is_one_line_naming_the_folder(tmp_path: Path) -> None:
    stage = tmp_path / "stage"
    stage.mkdir()
    with tmpfs(stage / "stream=invoices", "size=1M") as stream:  # the root passes its check, the stream not
        for realm in ("9130350000000001", "9130350000000002"):
            (
                stream / f"realm_id={realm}"
            ).mkdir()  # existing folders: the write fails, and so would a cleanup
        subprocess.run(["mount", "-o", "remount,ro", str(stream)], check=True)
        messages = invoice_messages(20, state_every=10)
        run = run_target({"stage_uri": str(stage), "warehouse_uri": ""}, messages, workdir=tmp_path)
        line = the_error(run)
    assert f"stage folder {stage}" in line
    assert "Read-only file system" in line
    assert "make the folder writable" in line
    assert run.states == []


def test_a_full_stage_disk_is_one_line_and_keeps_the_earlier_files(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "size=1M") as disk:
        config = {"stage_uri": str(disk / "stage"), "warehouse_uri": ""}
        first = run_target(config, invoice_messages(50, state_every=25), workdir=tmp_path)
        assert first.returncode == 0, first.stderr[-2000:]
        before = files_under(disk / "stage")
        fill(disk / "filler")
        later = invoice_messages(400, state_every=200, start=50, distinct_ids=400)
        run = run_target(config, later, workdir=tmp_path)
        line = the_error(run)
        assert "No space left on device" in line
        assert "free space" in line
        assert run.states == []  # no STATE for the failed batch
        assert files_under(disk / "stage") == before  # nothing half-published, no temporary file left


def test_a_temporary_folder_that_fills_up_is_one_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(Python skips a full TMPDIR when it starts, so this is a temporary folder filling up during a run.)"""
    with tmpfs(tmp_path / "tmp", "size=256k") as temporary:
        fill(temporary / "filler")
        monkeypatch.setattr(tempfile, "tempdir", str(temporary))
        config = {"stage_uri": str(tmp_path / "stage"), "warehouse_uri": ""}
        with pytest.raises(StageError) as raised:
            run_in_process(config, invoice_messages(200, state_every=100))
        assert f"cannot write a temporary stage file in {temporary}" in str(raised.value)
        assert "set TMPDIR" in str(raised.value)
        assert [p.name for p in temporary.iterdir()] == ["filler"]
    assert not list((tmp_path / "stage").rglob("*.parquet"))


# ----------------------------------------------------------------------------------- modes


def modes(root: Path) -> tuple[set[str], set[str]]:
    files = {oct(stat.S_IMODE(p.stat().st_mode)) for p in root.rglob("*") if p.is_file()}
    folders = {oct(stat.S_IMODE(p.stat().st_mode)) for p in [root, *root.rglob("*")] if p.is_dir()}
    return files, folders


def test_local_stage_files_are_0600_and_folders_0700(config: dict[str, Any], stage: Path) -> None:
    previous = os.umask(0o022)
    try:
        run_in_process({**config, "warehouse_uri": ""}, invoice_messages(30, state_every=10))
    finally:
        os.umask(previous)
    assert list(stage.rglob("*.parquet"))
    assert modes(stage) == ({"0o600"}, {"0o700"})


def test_the_duckdb_file_is_0600(config: dict[str, Any], database: Path, tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        run_in_process({**config, "stage_uri": ""}, invoice_messages(10, state_every=10))
    finally:
        os.umask(previous)
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_the_command_line_creates_only_private_files(config: dict[str, Any], tmp_path: Path) -> None:
    run = run_target(config, invoice_messages(30, state_every=10), workdir=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    stage = Path(config["stage_uri"])
    assert modes(stage) == ({"0o600"}, {"0o700"})
    assert stat.S_IMODE((tmp_path / "warehouse.duckdb").stat().st_mode) == 0o600


def sftp_settings(sshd: SshdServer) -> dict[str, Any]:
    return {
        "sftp_private_key_path": str(sshd.private_key_path),
        "sftp_known_hosts_path": str(sshd.known_hosts_path),
    }


def test_sftp_uploads_are_fsynced_before_the_rename_and_private(
    sshd_server: SshdServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests: list[str] = []
    original = paramiko.SFTPClient._request  # type: ignore[attr-defined]

    def spy(self: paramiko.SFTPClient, kind: int, *args: Any) -> Any:
        if args and isinstance(args[0], str) and args[0].endswith("@openssh.com"):
            requests.append(args[0])
        return original(self, kind, *args)

    monkeypatch.setattr(paramiko.SFTPClient, "_request", spy)
    folder = sshd_server.root / f"stage-{uuid.uuid4().hex[:8]}"
    local = tmp_path / "x.parquet"
    local.write_bytes(b"PAR1" * 50_000)
    storage = SftpStorage(sshd_server.uri(folder), TargetSettings.from_config(sftp_settings(sshd_server)))
    previous = os.umask(0o022)  # the sshd runs as this user: its umask would otherwise give 0644/0755
    try:
        storage.put_file(local, "stream=a/realm_id=1/x.parquet")
        storage.put_file(local, "stream=a/realm_id=1/y.parquet")
    finally:
        storage.close()
        os.umask(previous)
    assert requests == ["fsync@openssh.com", "posix-rename@openssh.com"] * 2
    published = folder / "stream=a" / "realm_id=1" / "x.parquet"
    assert published.read_bytes() == local.read_bytes()
    assert stat.S_IMODE(published.stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / "stream=a").stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "stream=a" / "realm_id=1").stat().st_mode) == 0o700


# ----------------------------------------------------------------------------------- rejected batches


def test_a_batch_the_warehouse_rejects_is_not_published(
    config: dict[str, Any], stage: Path, database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    merges = {"calls": 0}
    original = DuckDBWarehouse.merge

    def merge_then_reject(self: DuckDBWarehouse, spec: Any, table: pa.Table) -> int:
        merges["calls"] += 1
        if merges["calls"] == 2:
            raise WarehouseError("DuckDB: the second batch is rejected (test)")
        return original(self, spec, table)

    monkeypatch.setattr(DuckDBWarehouse, "merge", merge_then_reject)
    target = TargetLookerStage(config={**config, "batch_size_rows": 10})
    out = io.StringIO()
    lines = invoice_messages(20, state_every=10, distinct_ids=20)
    try:
        with contextlib.redirect_stdout(out), pytest.raises(WarehouseError):
            target.listen(io.StringIO("".join(lines)))
    finally:
        target.close()
    assert parse_states(out.getvalue()) == [{"position": 10}]
    staged_ids = set()
    for path in stage.rglob("*.parquet"):
        staged_ids |= {row["Id"] for row in ds.dataset(path).to_table(columns=["Id"]).to_pylist()}
    assert staged_ids == {str(i) for i in range(10)}  # the first batch only
    assert not [p for p in stage.rglob("*") if p.name.startswith(".")]
    manifest = json.loads(next((stage / "_manifests").glob("*.json")).read_text())
    assert {f["key"] for f in manifest["files"]} == {
        p.relative_to(stage).as_posix() for p in stage.rglob("*.parquet")
    }
    assert {row["Id"] for row in warehouse_rows(database, "quickbooks.invoices")} == staged_ids


# ----------------------------------------------------------------------------------- Hive readers


REALMS = ["9341453000000001", "0042", "9130350000000002"]


def test_pyarrow_and_duckdb_read_the_stage_alike_with_realm_id_a_string(
    config: dict[str, Any], stage: Path, database: Path
) -> None:
    lines = [encode(schema_message("invoices", INVOICE_SCHEMA, INVOICE_KEYS))]
    lines += [encode(record_message("invoices", invoice(i, 0, realm_id=REALMS[i % 3]))) for i in range(30)]
    lines.append(encode(state_message({"position": 30})))
    run_in_process(config, lines)
    folder = stage / "stream=invoices"

    table = ds.dataset(folder, format="parquet", partitioning=reader_partitioning()).to_table()
    assert table.schema.field("realm_id").type == pa.string()
    from_pyarrow = sorted((r["realm_id"], r["Id"]) for r in table.select(["realm_id", "Id"]).to_pylist())
    read_table = pq.read_table(folder, partitioning=reader_partitioning(), columns=["realm_id", "Id"])
    assert sorted((r["realm_id"], r["Id"]) for r in read_table.to_pylist()) == from_pyarrow

    query = (
        'SELECT typeof(realm_id), realm_id, "Id" FROM read_parquet(?, hive_partitioning = true, '
        "hive_types = {'realm_id': VARCHAR})"
    )
    with duckdb.connect() as connection:
        rows = connection.execute(query, [f"{folder}/*/*.parquet"]).fetchall()
    assert {kind for kind, _, _ in rows} == {"VARCHAR"}
    from_duckdb = sorted((realm, key) for _, realm, key in rows)

    committed = sorted((r["realm_id"], r["Id"]) for r in warehouse_rows(database, "quickbooks.invoices"))
    assert from_pyarrow == from_duckdb == committed
    assert {realm for realm, _ in from_duckdb} == set(REALMS)  # "0042" keeps its zeros
