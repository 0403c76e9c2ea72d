"""One batch of records -> one ``pyarrow.Table`` shaped by a ``TableSpec`` (types per ``table_spec``).

Money stays exact: numbers arrive as ``Decimal`` (the reader parses JSON floats that way) and become
``decimal128(38, 9)``; a value that needs more scale or precision is refused with an error naming the
column, never rounded. Nested values become JSON text written with exact decimal numbers.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Hashable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
import pyarrow as pa

from target_looker_stage.errors import TargetError
from target_looker_stage.table_spec import (
    DECIMAL_PRECISION,
    DECIMAL_SCALE,
    DELETE_VERSION,
    DELETED_AT_COLUMN,
    SYNC_VERSION_COLUMN,
    ColumnKind,
    ColumnSpec,
    TableSpec,
)

ARROW_TYPES: dict[ColumnKind, pa.DataType] = {
    "string": pa.string(),
    "decimal": pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
    "double": pa.float64(),
    "integer": pa.int64(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "json": pa.string(),
}

_JSON = msgspec.json.Encoder(decimal_format="number")
_MAX_INTEGER_DIGITS = DECIMAL_PRECISION - DECIMAL_SCALE


class RecordValueError(TargetError):
    """A record value cannot be stored exactly in its column."""


def arrow_schema(spec: TableSpec) -> pa.Schema:
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.kind], nullable=True) for c in spec.columns])


def set_sync_versions(
    records: Sequence[dict[str, Any]],
    version_column: str,
    stream: str,
    *,
    keys: Sequence[str] = (),
    show_values: bool = False,
) -> None:
    """Set SYNC_VERSION_COLUMN on every record (see ``sync_version``)."""
    for record in records:
        if record.get(DELETED_AT_COLUMN) is not None:
            record[SYNC_VERSION_COLUMN] = DELETE_VERSION
            continue
        value = record.get(version_column)
        if isinstance(value, str) and value.isdigit() and len(value) < 18:
            record[SYNC_VERSION_COLUMN] = int(value)
        else:
            record[SYNC_VERSION_COLUMN] = sync_version(
                record, version_column, stream, keys=keys, show_values=show_values
            )


def sync_version(
    record: dict[str, Any],
    version_column: str,
    stream: str,
    *,
    keys: Sequence[str] = (),
    show_values: bool = False,
) -> int | None:
    """DELETE_VERSION for a delete (so deletes win), else the integer in ``version_column``, else None."""
    if record.get(DELETED_AT_COLUMN) is not None:
        return DELETE_VERSION
    value = record.get(version_column)
    if value is None:
        return None
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        version = int(value) if isinstance(value, int | str) else int(Decimal(value).to_integral_exact())
    except (ValueError, TypeError, InvalidOperation, ArithmeticError):
        msg = (
            f"stream '{stream}': record {record_key(record, keys)} has a {version_column} that is not an "
            f"integer{value_sample(value, show_values)}; set version_column to an integer field"
        )
        raise RecordValueError(msg) from None
    return min(version, DELETE_VERSION - 1)


def collapse_newest(records: Sequence[dict[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """One record per key: the highest SYNC_VERSION_COLUMN (None loses to any number), ties go to the later
    record. A delete that wins keeps the values of the version it deletes (a stub never blanks a row)."""
    newest: dict[Hashable, dict[str, Any]] = {}
    key_of = _key_function(keys)
    for record in records:
        key = key_of(record)
        previous = newest.get(key)
        if previous is None:
            newest[key] = record
            continue
        if _version_rank(record) < _version_rank(previous):
            continue
        if record.get(DELETED_AT_COLUMN) is not None and previous.get(DELETED_AT_COLUMN) is None:
            newest[key] = {**previous, **{k: v for k, v in record.items() if v is not None}}
        else:
            newest[key] = record
    return list(newest.values())


def _version_rank(record: dict[str, Any]) -> int:
    version = record.get(SYNC_VERSION_COLUMN)
    return -1 if version is None else int(version)


def _key_function(keys: Sequence[str]) -> Callable[[dict[str, Any]], Hashable]:
    if len(keys) == 2:
        first, second = keys

        def pair_of(record: dict[str, Any]) -> Hashable:
            values = (record.get(first), record.get(second))
            try:
                hash(values)
            except TypeError:
                return bytes(_JSON.encode(values))
            return values

        return pair_of

    def key_of(record: dict[str, Any]) -> Hashable:
        values = tuple(record.get(k) for k in keys)
        try:
            hash(values)
        except TypeError:
            return bytes(_JSON.encode(values))
        return values

    return key_of


def records_to_table(
    spec: TableSpec, records: Sequence[dict[str, Any]], *, show_values: bool = False
) -> pa.Table:
    """Columns in spec order; properties a record lacks are NULL, properties the spec lacks are dropped.

    Fast path: scalar columns in one ``Table.from_pylist`` call (timestamps and dates as text, then one Arrow
    cast each), nested columns encoded value by value. Any value the fast path rejects sends the batch through
    the column-by-column conversion, which accepts what can be stored exactly and names what cannot."""
    try:
        return _fast_table(spec, records)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError, TypeError):
        arrays = [_column_array(spec, c, records, show_values) for c in spec.columns]
        return pa.Table.from_arrays(arrays, schema=arrow_schema(spec))


def _fast_table(spec: TableSpec, records: Sequence[dict[str, Any]]) -> pa.Table:
    as_text = ("timestamp", "date", "json")
    scalar_fields = [
        pa.field(c.name, pa.string() if c.kind in ("timestamp", "date") else ARROW_TYPES[c.kind])
        for c in spec.columns
        if c.kind != "json"
    ]
    scalars = pa.Table.from_pylist(records, schema=pa.schema(scalar_fields)) if scalar_fields else None
    encode = _JSON.encode
    arrays = []
    for column in spec.columns:
        if column.kind == "json":
            name = column.name
            encoded = [None if (v := r.get(name)) is None else encode(v) for r in records]
            arrays.append(pa.array(encoded, pa.binary()).cast(pa.string()))
            continue
        assert scalars is not None
        array = scalars.column(column.name).combine_chunks()
        arrays.append(array.cast(ARROW_TYPES[column.kind]) if column.kind in as_text else array)
    return pa.Table.from_arrays(arrays, schema=arrow_schema(spec))


def _column_array(
    spec: TableSpec, column: ColumnSpec, records: Sequence[dict[str, Any]], show_values: bool
) -> pa.Array:
    kind = column.kind
    values = [r.get(column.name) for r in records]
    try:
        if kind == "json":
            return pa.array([None if v is None else _JSON.encode(v).decode() for v in values], pa.string())
        if kind == "string":
            return pa.array([_as_text(v) for v in values], pa.string())
        if kind == "decimal":
            return pa.array([_as_decimal(v) for v in values], ARROW_TYPES[kind])
        if kind == "double":
            return pa.array([_as_double(v) for v in values], ARROW_TYPES[kind])
        if kind in ("timestamp", "date"):
            return _temporal_array(kind, values)
        return pa.array(values, ARROW_TYPES[kind])
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, ValueError, TypeError) as exc:
        bad = _first_bad_index(kind, values)
        where = (
            f"the value of record {record_key(records[bad], spec.key_properties)}"
            f"{value_sample(values[bad], show_values)}"
            if bad is not None
            else f"a value ({type(exc).__name__})"
        )
        msg = (
            f"stream '{spec.stream_name}': column '{column.name}' ({kind}) cannot store {where} exactly: "
            f"{_why(kind)}"
        )
        raise RecordValueError(msg) from None


def record_key(record: dict[str, Any], keys: Sequence[str]) -> str:
    """How an error names a record: its primary key (never its other values), or "(no key)"."""
    return str({k: record.get(k) for k in keys}) if keys else "(no key properties)"


#: The longest part of a value an error may show, and only with ``log_record_values`` on.
VALUE_SAMPLE_CHARS = 20


def value_sample(value: Any, show: bool) -> str:
    """Nothing by default: record values are customer data and stay out of logs. With the debug setting
    ``log_record_values``, a short, clearly marked sample."""
    if not show:
        return ""
    text = repr(value)
    cut = f"{text[:VALUE_SAMPLE_CHARS]}..." if len(text) > VALUE_SAMPLE_CHARS else text
    return f" (value sample, log_record_values is on: {cut})"


def _why(kind: ColumnKind) -> str:
    """Why a value does not fit, worded without the value."""
    reasons: dict[ColumnKind, str] = {
        "decimal": (
            f"it is not a number, or needs more than {DECIMAL_SCALE} decimal places or {_MAX_INTEGER_DIGITS} "
            "integer digits (refusing to round; for a tap's floats, not money, name the column in the "
            "double_columns setting to store it as DOUBLE)"
        ),
        "double": "it is not a number within the DOUBLE range",
        "timestamp": "it is not an ISO 8601 date-time (fix the tap, or declare the property a plain string)",
        "date": "it is not an ISO 8601 date (fix the tap, or declare the property a plain string)",
        "integer": "it is not an integer within 64 bits (declare the property a number)",
        "boolean": "it is not a boolean",
    }
    return reasons.get(kind, "the value's type does not fit the column")


def _first_bad_index(kind: ColumnKind, values: list[Any]) -> int | None:
    for index, value in enumerate(values):
        if value is None:
            continue
        try:
            _column_check(kind, value)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, ValueError, TypeError, ArithmeticError):
            return index
    return None


def _column_check(kind: ColumnKind, value: Any) -> None:
    if kind == "decimal":
        pa.array([_as_decimal(value)], ARROW_TYPES[kind])
    elif kind == "double":
        _as_double(value)
    elif kind == "timestamp":
        pa.array([_as_timestamp(value)], ARROW_TYPES[kind])
    elif kind == "date":
        pa.array([_as_date(value)], ARROW_TYPES[kind])
    elif kind in ("integer", "boolean"):
        pa.array([value], ARROW_TYPES[kind])


def _temporal_array(kind: ColumnKind, values: list[Any]) -> pa.Array:
    """ISO strings are parsed by Arrow in one vectorized cast; anything else value by value."""
    target = ARROW_TYPES[kind]
    try:
        return pa.array(values, pa.string()).cast(target)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        convert = _as_timestamp if kind == "timestamp" else _as_date
        return pa.array([convert(v) for v in values], target)


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(_JSON.encode(value).decode())


def _as_decimal(value: Any) -> Decimal | int | None:
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("boolean is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def _as_double(value: Any) -> float | None:
    """The nearest DOUBLE (a column ``double_columns`` names); a number beyond its range is refused, not
    stored as infinity."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise TypeError(f"{type(value).__name__} is not a number")
    number = float(value)
    if not math.isfinite(number):
        raise OverflowError("outside the DOUBLE range")
    return number


def _as_timestamp(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, str):
        parsed = dt.datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    raise TypeError(f"{type(value).__name__} is not a date-time")


def _as_date(value: Any) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return dt.datetime.fromisoformat(value).date()
    raise TypeError(f"{type(value).__name__} is not a date")
