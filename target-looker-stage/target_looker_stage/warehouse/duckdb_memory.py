"""How much memory DuckDB gets, and how a batch is cut so that one merge fits in it.

DuckDB fills whatever memory limit it has with cached table blocks, so a generous fixed limit costs RSS on
every load (the 1M-invoice load peaked at 431 MB RSS with 160 MB, at 922 MB with 1 GB), while some batches
need far more than a narrow load: a wide table needs about 0.75 MB of buffers per column whatever its row
count (500 columns did not fit in 160 MB), and a merge or checkpoint holds several times its input (one
batch of ten 20 MB values did not fit in 512 MB). So the limit a connection works with starts small, is
raised before a merge that needs more (never beyond ``duckdb_memory_limit``, the ceiling), doubled when
DuckDB still runs out, and a batch larger than a share of the ceiling is merged in parts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

#: The working limit a connection starts with (what a load of narrow tables runs in).
START_MEMORY: Final = 160 * 10**6
#: A merge part holds at most 1/MERGE_MEMORY_SHARE of the ceiling in Arrow bytes.
MERGE_MEMORY_SHARE: Final = 16
#: What a merge of one part needs: a base, buffers per column, and a multiple of its Arrow bytes. Measured
#: on DuckDB 2.0: 200 rows x 500 columns (4.8 MB), 5,000 invoices x 57 columns (9.8 MB, so within the start
#: limit) and 3 rows of 20 MB fit in this much; with 0.5 MB per column the 500 columns did not.
_NEED_BASE: Final = 32 * 2**20
_NEED_PER_COLUMN: Final = 3 * 2**18
_NEED_PER_INPUT_BYTE: Final = 8

_MEMORY_SIZE = re.compile(r"([0-9.]+)\s*([KMGT]?i?B)?", re.IGNORECASE)
_BYTE_UNITS: Final[dict[str, int]] = {
    "b": 1,
    **{f"{u}b": 1000 ** (i + 1) for i, u in enumerate("kmgt")},
    **{f"{u}ib": 1024 ** (i + 1) for i, u in enumerate("kmgt")},
}


def memory_bytes(setting: str) -> int:
    """DuckDB's ``current_setting('memory_limit')`` (``152.5 MiB``, ``1.3 GiB``) as a number of bytes."""
    found = _MEMORY_SIZE.match(setting.strip())
    if found is None:
        msg = f"DuckDB reports an unreadable memory_limit {setting!r}"
        raise ValueError(msg)
    return int(float(found[1]) * _BYTE_UNITS[(found[2] or "b").lower()])


def is_out_of_memory(exc: duckdb.Error) -> bool:
    """DuckDB's memory errors: a failed allocation, or a commit or checkpoint that could not pin a block."""
    text = str(exc).lower()
    pinned = "failed to pin block" in text or "out of memory" in text
    return isinstance(exc, duckdb.OutOfMemoryException) or pinned


def memory_needed(rows: pa.Table) -> int:
    """The working limit merging ``rows`` (one part) in one transaction is given."""
    columns, size = int(rows.num_columns), int(rows.nbytes)
    return _NEED_BASE + _NEED_PER_COLUMN * columns + _NEED_PER_INPUT_BYTE * size


def parts_by_size(rows: pa.Table, budget: int) -> list[pa.Table]:
    """``rows`` cut into consecutive slices of at most ``budget`` Arrow bytes (a larger row is a slice of its
    own); one slice when the table fits. Sizes are summed per row, so one huge value among small ones is
    found, not averaged away."""
    if rows.nbytes <= budget or rows.num_rows <= 1:
        return [rows]
    sizes = pa.array([0] * rows.num_rows, pa.int64())
    for column in rows.columns:
        values = column
        # Arrow's JSON is a canonical extension type (a BaseExtensionType, not a pa.ExtensionType): its text
        if isinstance(column.type, pa.BaseExtensionType):
            values = pa.chunked_array([chunk.storage for chunk in column.chunks], column.type.storage_type)
        if pa.types.is_string(values.type) or pa.types.is_binary(values.type):
            lengths = pc.fill_null(pc.binary_length(values), 0).cast(pa.int64())
            sizes = pc.add(sizes, pc.add(lengths, 4))  # and its 32-bit offset
        else:
            sizes = pc.add(sizes, max(values.type.bit_width // 8, 1))
    parts, start, used = [], 0, 0
    for index, size in enumerate(sizes.to_pylist()):
        if index > start and used + size > budget:
            parts.append(rows.slice(start, index - start))
            start, used = index, 0
        used += size
    parts.append(rows.slice(start))
    return parts


@dataclass
class MemoryBudget:
    """The memory limit of one DuckDB connection: ``setting`` (``duckdb_memory_limit``) is the ceiling."""

    setting: str
    ceiling: int = 0
    working: int = 0

    def open(self, connection: duckdb.DuckDBPyConnection) -> None:
        """For a connection opened with ``memory_limit = setting``: read the ceiling, start lower."""
        reported = connection.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        self.ceiling = memory_bytes(str(reported))
        self._set(connection, min(START_MEMORY, self.ceiling))

    @property
    def part_bytes(self) -> int:
        return max(self.ceiling // MERGE_MEMORY_SHARE, 1)

    def reserve(self, connection: duckdb.DuckDBPyConnection, rows: pa.Table) -> None:
        """Raise the working limit to what merging ``rows`` needs (within the ceiling); never lower it."""
        need = min(memory_needed(rows), self.ceiling)
        if need > self.working:
            self._set(connection, need)

    def grow(self, connection: duckdb.DuckDBPyConnection) -> bool:
        """Double the working limit (within the ceiling); False when it already is the ceiling."""
        if self.working >= self.ceiling:
            return False
        self._set(connection, min(self.working * 2, self.ceiling))
        return True

    def _set(self, connection: duckdb.DuckDBPyConnection, limit: int) -> None:
        connection.execute(f"SET memory_limit = '{max(limit // 1024, 1)}KiB'")
        self.working = limit
