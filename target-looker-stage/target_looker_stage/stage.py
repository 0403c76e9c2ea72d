"""Staging batches as Hive-partitioned Parquet (``stream=.../realm_id=.../part-<content key>.parquet``).

A file's name is a digest of what it holds (stream, realm and the ordered (key, sync version) list, or
all stable values for a keyless stream), so replaying the same batch from the same state replaces the file
instead of adding a duplicate. Each file is written locally first (``prepare``), the sink merges the batch
into the warehouse, and only then are the files published atomically by the StageStorage (``publish``): a
batch the warehouse rejects leaves nothing in the stage. A manifest per run (``_manifests/run-....json``)
lists the published files, row counts and the schema version of each stream.

``realm_id`` is both the partition folder and a string column inside each file (so a single file stands
on its own). Hive readers infer partition types and would read realm ids such as ``9341453000000001`` as
integers (losing leading zeros, and clashing with the file's string column): read the stage with the
partition typed as a string, ``reader_partitioning()`` for pyarrow and ``hive_types = {'realm_id': VARCHAR}``
for DuckDB (see the README).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import tempfile
import threading
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from target_looker_stage.errors import StageError
from target_looker_stage.schema_mapping import schema_version
from target_looker_stage.storage.base import StageStorage
from target_looker_stage.table_spec import SYNC_VERSION_COLUMN, TableSpec

PARTITION_COLUMN = "realm_id"
MANIFEST_PREFIX = "_manifests/"
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
#: The longest file or folder name most file systems (ext4, xfs, APFS, NTFS) and SFTP servers accept.
MAX_NAME_BYTES = 255
#: Metadata that differs between two runs over the same input; never part of a content key.
VOLATILE_COLUMNS = frozenset({"_sdc_received_at", "_sdc_batched_at", "_sdc_sequence", "_sdc_sync_started_at"})
_ENCODER = msgspec.json.Encoder(decimal_format="number")


def reader_partitioning() -> Any:
    """How pyarrow reads one stream of the stage (``pyarrow.dataset.dataset(folder, partitioning=...)``):
    Hive folders with ``realm_id`` typed as the string it is in the files, never inferred as an integer."""
    import pyarrow.dataset as ds  # noqa: PLC0415 (only readers need it)

    return ds.partitioning(pa.schema([(PARTITION_COLUMN, pa.string())]), flavor="hive")


@dataclass(frozen=True)
class StagedFile:
    key: str
    stream: str
    realm_id: str | None
    rows: int
    schema_version: str


@dataclass
class PreparedBatch:
    """A batch's Parquet files written locally, each with the stage key it will be published under."""

    stream: str
    files: list[tuple[Path, StagedFile]]
    #: The stream's entry in the manifest (table, schema version, columns, keys).
    manifest_entry: dict[str, Any]


def partition_prefix(stream_name: str, realm_id: str | None = None, *, partitioned: bool = False) -> str:
    """``stream=<stream>/[realm_id=<realm>/]``, or StageError when a folder name would be longer than file
    systems allow (MAX_NAME_BYTES): checked for the stream when its schema arrives, for realms per batch."""
    stream = f"stream={quote(stream_name, safe='')}"
    if len(stream) > MAX_NAME_BYTES:
        shown = stream_name if len(stream_name) <= 60 else f"{stream_name[:60]}..."
        msg = (
            f"stream '{shown}': its stage folder name is {len(stream)} bytes, over the "
            f"{MAX_NAME_BYTES}-byte file-name limit; shorten the stream name (e.g. with a stream map)"
        )
        raise StageError(msg)
    prefix = f"{stream}/"
    if partitioned:
        realm = f"{PARTITION_COLUMN}={NULL_PARTITION if realm_id is None else quote(realm_id, safe='')}"
        if len(realm) > MAX_NAME_BYTES:
            msg = (
                f"stream '{stream_name}': a {PARTITION_COLUMN} value makes a stage folder name of "
                f"{len(realm)} bytes, over the {MAX_NAME_BYTES}-byte file-name limit; {PARTITION_COLUMN} "
                "must be a short company id (fix the tap's records)"
            )
            raise StageError(msg)
        prefix += f"{realm}/"
    return prefix


def content_key(spec: TableSpec, table: pa.Table, realm_id: str | None) -> str:
    """Digest of the batch's identity: same input rows in the same order -> same name. With keys and a version
    on every row, (key, version) identifies the content; otherwise every stable value counts."""
    if spec.key_properties and table.column(SYNC_VERSION_COLUMN).null_count == 0:
        columns = [*spec.key_properties, SYNC_VERSION_COLUMN]
    else:
        columns = [c for c in table.column_names if c not in VOLATILE_COLUMNS]
    digest = hashlib.blake2b(digest_size=16)
    digest.update(_ENCODER.encode([spec.stream_name, realm_id, columns]))
    for name in columns:
        digest.update(_ENCODER.encode(table.column(name).to_pylist()))
    return digest.hexdigest()


class StageWriter:
    """Writes a batch's Parquet files and keeps this run's manifest."""

    def __init__(self, storage: StageStorage, *, compression: str = "zstd") -> None:
        self.storage = storage
        self.compression = compression
        self.run_id = uuid.uuid4().hex
        self.started_at = dt.datetime.now(dt.UTC)
        self._files: dict[str, StagedFile] = {}
        self._streams: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    @property
    def manifest_key(self) -> str:
        return f"{MANIFEST_PREFIX}run-{self.started_at:%Y%m%dT%H%M%S}Z-{self.run_id[:12]}.json"

    def prepare(self, spec: TableSpec, table: pa.Table) -> PreparedBatch:
        """Write ``table`` (one batch) as one local Parquet file per realm partition; nothing is published
        yet. The sink merges the batch into the warehouse next and publishes only if that commits, so a
        batch the warehouse rejects never appears in the stage (``discard`` removes the local files)."""
        version = schema_version(spec)
        entry = {
            "table": f"{spec.schema_name}.{spec.name}",
            "schema_version": version,
            "columns": [[c.name, c.kind] for c in spec.columns],
            "key_properties": list(spec.key_properties),
        }
        batch = PreparedBatch(spec.stream_name, [], entry)
        if table.num_rows == 0:
            return batch
        partitioned = PARTITION_COLUMN in table.column_names
        parts: list[tuple[str | None, pa.Table]] = []
        if partitioned:
            realms = table.column(PARTITION_COLUMN).cast(pa.string())
            for realm in pc.unique(realms).to_pylist():
                mask = pc.is_null(realms) if realm is None else pc.equal(realms, realm)
                parts.append((realm, table.filter(mask)))
        else:
            parts.append((None, table))
        prefixes = [partition_prefix(spec.stream_name, realm, partitioned=partitioned) for realm, _ in parts]
        try:
            for (realm, part), prefix in zip(parts, prefixes, strict=True):
                key = f"{prefix}part-{content_key(spec, part, realm)}.parquet"
                local = _temporary_file(".parquet")
                batch.files.append((local, StagedFile(key, spec.stream_name, realm, part.num_rows, version)))
                pq.write_table(part, local, compression=self.compression)
        except (OSError, pa.ArrowException) as exc:
            self.discard(batch)
            raise _local_write_error(exc) from None
        return batch

    def publish(self, batch: PreparedBatch) -> list[StagedFile]:
        """Publish a prepared batch's files (atomically each, see StageStorage.put_file) and list them in
        the run's manifest; the local files are removed."""
        try:
            for local, item in batch.files:
                self.storage.put_file(local, item.key)
                with self._lock:
                    self._files[item.key] = item
                    self._streams[batch.stream] = batch.manifest_entry
        finally:
            self.discard(batch)
        return [item for _, item in batch.files]

    def discard(self, batch: PreparedBatch) -> None:
        """Remove a batch's local files (never raises: it runs on error paths too)."""
        for local, _ in batch.files:
            with contextlib.suppress(OSError):
                local.unlink(missing_ok=True)

    def stage(self, spec: TableSpec, table: pa.Table) -> list[StagedFile]:
        """Prepare and publish at once (no warehouse step in between)."""
        return self.publish(self.prepare(spec, table))

    def write_manifest(self, *, complete: bool) -> str | None:
        """(Re)publish this run's manifest; None when the run staged nothing."""
        with self._lock:
            if not self._files:
                return None
            manifest = {
                "run_id": self.run_id,
                "started_at": self.started_at.isoformat(),
                "updated_at": dt.datetime.now(dt.UTC).isoformat(),
                "complete": complete,
                "streams": self._streams,
                "files": [asdict(f) for f in self._files.values()],
                "rows": sum(f.rows for f in self._files.values()),
            }
        try:
            local = _temporary_file(".json")
        except OSError as exc:
            raise _local_write_error(exc) from None
        try:
            local.write_bytes(msgspec.json.format(msgspec.json.encode(manifest)))
            self.storage.put_file(local, self.manifest_key)
        except OSError as exc:
            raise _local_write_error(exc) from None
        finally:
            with contextlib.suppress(OSError):
                local.unlink(missing_ok=True)
        return self.manifest_key

    def close(self) -> None:
        """Nothing to release: each local file is removed as soon as it is published."""


def _local_write_error(exc: BaseException) -> StageError:
    reason = (
        (exc.strerror if isinstance(exc, OSError) else None) or str(exc).splitlines()[0] or type(exc).__name__
    )
    folder = tempfile.gettempdir()
    return StageError(
        f"cannot write a temporary stage file in {folder} ({reason}); free space there or set TMPDIR to a "
        "writable folder with room for a batch"
    )


def _temporary_file(suffix: str) -> Path:
    """A new empty local file for one upload (removed by the caller; a killed run leaves at most one)."""
    handle, name = tempfile.mkstemp(prefix="target-looker-stage-", suffix=suffix)
    os.close(handle)
    return Path(name)
