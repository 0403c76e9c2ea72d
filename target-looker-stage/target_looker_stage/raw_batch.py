"""The batch-native load path: a stream's RECORD lines stay bytes until one typed decode per batch.

The reader recognises ``{"type": "RECORD", "stream": ...}`` lines with a small envelope decode (the record
is skipped as ``msgspec.Raw``, no Python dict per record) and the sink keeps the line bytes. At its drain
the whole batch is decoded at once by msgspec into a per-stream ``Struct`` shaped by the stream's
``TableSpec``: strings, integers and booleans as Python values, numbers and nested objects/arrays as their
original JSON text (``msgspec.Raw``). Arrow then builds the columns: money through one exact cast from the
number's text to ``decimal128(38, 9)`` (never via float; a value that would need rounding fails the cast),
nested values stored as the JSON text the tap wrote (exact numbers, no re-encoding), timestamps and dates
through one cast each. The typed decode and the casts *are* the schema check.

Anything this path does not accept exactly as the per-record path would (a schema violation, an invalid
value, a SyncToken that is not a plain number, a delete merged with an older version in the same batch)
makes it give up on the batch: the sink then decodes the same lines through the reader and the SDK's
per-record pipeline, which stores what it can and words the error (one line naming stream, key and column,
never the value). So both paths give the same tables and the same errors; the fast one only handles the
common case. Streams whose schema needs more than a type check (``maxLength``, ``enum``, ``$ref``...),
mixes kinds in one column, or runs under stream maps, flattening or ``add_record_metadata`` never use it.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from target_looker_stage.arrow_batch import ARROW_TYPES, arrow_schema
from target_looker_stage.table_spec import (
    DELETE_VERSION,
    DELETED_AT_COLUMN,
    SYNC_VERSION_COLUMN,
    ColumnKind,
    TableSpec,
)
from target_looker_stage.validation import shallow_schema, type_test

#: A property the record lacks (``Raw`` fields); ``null`` text is then a null value.
_MISSING = msgspec.Raw(b"null")
_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError, TypeError)
#: The first byte of a JSON value of each type (integers are not told apart from numbers this way).
_FIRST_BYTES: dict[str, tuple[str, ...]] = {
    "object": ("{",),
    "array": ("[",),
    "string": ('"',),
    "number": tuple("-0123456789"),
    "boolean": ("t", "f"),
    "null": ("n",),
}
#: A SyncToken the fast path orders by itself; any other value goes through ``arrow_batch.sync_version``.
_PLAIN_VERSION = r"^[0-9]{1,17}$"
_MAX_OFFSET = 2**31 - 1
#: Up to this many first characters are tested with one ``starts_with`` each.
_FEW_FIRST = 3


class _Envelope(msgspec.Struct):
    type: str
    stream: str | None = None
    record: msgspec.Raw = _MISSING


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_RECORD_OF = operator.attrgetter("record")


#: How taps written with the Singer SDK (and most others) start a RECORD line.
_RECORD_PREFIX = b'{"type":"RECORD","stream":"'


def record_prefix(stream: str) -> bytes:
    """How a RECORD line of ``stream`` starts when written the usual way (the name as JSON text, closed)."""
    return _RECORD_PREFIX[:-1] + msgspec.json.encode(stream)


def record_stream(line: bytes) -> str | None:
    """The stream of a RECORD line whose record may be an object, else None (the reader then decodes the
    line fully, and reports it if it is bad).

    A line starting with the usual prefix is only scanned for its stream name: the batch decode checks
    the whole line (well-formed, a ``record`` object, the same ``stream``) and hands any line it does not
    accept to the reader's full decode, with the line's number. Other lines get an envelope-only decode."""
    if line.startswith(_RECORD_PREFIX):
        end = line.find(b'"', len(_RECORD_PREFIX))
        name = line[len(_RECORD_PREFIX) : end]
        if end > 0 and b"\\" not in name:
            try:
                return name.decode()
            except UnicodeDecodeError:
                return None
    try:
        envelope = _ENVELOPE.decode(line)
    except (msgspec.DecodeError, RecursionError):
        return None
    record = envelope.record
    if envelope.type != "RECORD" or envelope.stream is None or memoryview(record)[:1].tobytes() != b"{":
        return None
    return envelope.stream


@dataclass(frozen=True)
class _Field:
    name: str
    kind: ColumnKind
    #: Decoded as its JSON text (numbers, nested values).
    raw: bool
    #: A null value passes the type check.
    nullable: bool
    #: The first characters the JSON text other than null may start with (validation on, nested values);
    #: None: any.
    first: tuple[str, ...] | None = None


class _Incompatible(Exception):
    """The stream's schema needs the per-record path."""


def _declared_types(prop: Mapping[str, Any]) -> set[str] | None:
    """The JSON types a property declares (None: any), or _Incompatible for combinators."""
    if any(k in prop for k in ("anyOf", "oneOf", "allOf")):
        raise _Incompatible
    declared = prop.get("type")
    if declared is None:
        return None
    names = [declared] if isinstance(declared, str) else declared
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise _Incompatible
    return set(names)


def _field(name: str, kind: ColumnKind, prop: Mapping[str, Any], validate: bool) -> tuple[_Field, Any]:
    """The field and its msgspec type, or _Incompatible."""
    declared = _declared_types(prop)
    nullable = not validate or declared is None or "null" in declared
    types = (declared or set()) - {"null"}
    if kind == "json":
        if declared is not None and validate and "integer" in types and "number" not in types:
            raise _Incompatible  # an integer is not told from a number by its first character
        starts = tuple(sorted({c for t in types for c in _FIRST_BYTES.get(t, ())}))
        first = None if declared is None or not validate else starts
        return _Field(name, kind, True, nullable, first), msgspec.Raw
    if kind in ("decimal", "double"):
        if declared is None or not types or not types <= {"integer", "number"}:
            raise _Incompatible
        return _Field(name, kind, True, nullable), msgspec.Raw
    python, expected = _PLAIN_KINDS[kind]
    if declared is None or types != expected:
        raise _Incompatible  # several kinds in one column: converted value by value (per-record path)
    return _Field(name, kind, False, nullable), (python | None) if nullable else python


#: Per column kind decoded as a Python value: its type and the JSON type the property must declare.
_PLAIN_KINDS: dict[ColumnKind, tuple[type, set[str]]] = {
    "string": (str, {"string"}),
    "timestamp": (str, {"string"}),
    "date": (str, {"string"}),
    "integer": (int, {"integer"}),
    "boolean": (bool, {"boolean"}),
}


class FastDecoder:
    """Decodes a batch of one stream's RECORD lines straight into its Arrow table (see the module doc)."""

    def __init__(
        self,
        spec: TableSpec,
        schema: Mapping[str, Any],
        *,
        version_column: str,
        validate: bool,
    ) -> None:
        properties: Mapping[str, Any] = schema.get("properties") or {}
        required = set(schema.get("required") or ()) if validate else set()
        required |= set(spec.key_properties)  # a record without its key is refused by the per-record path
        self.spec = spec
        self.version_column = version_column
        self.fields: list[_Field] = []
        self._getters: list[operator.attrgetter[Any]] = []
        struct_fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
        renames: dict[str, str] = {}
        for index, column in enumerate(spec.columns):
            if column.name == SYNC_VERSION_COLUMN:
                continue
            prop = properties.get(column.name)
            field, python = _field(
                column.name, column.kind, prop if isinstance(prop, Mapping) else {}, validate
            )
            self.fields.append(field)
            attribute = f"f{index}"
            renames[attribute] = column.name
            self._getters.append(operator.attrgetter(attribute))
            if column.name in required:
                struct_fields.append((attribute, python))
            else:
                struct_fields.append((attribute, python, _MISSING if field.raw else None))
        self._version_hidden = version_column not in properties
        if self._version_hidden:  # read by the per-record path even when the schema lacks it
            renames["version"] = version_column
            struct_fields.append(("version", msgspec.Raw, _MISSING))
        extra = schema.get("additionalProperties", True)
        record = msgspec.defstruct(
            "Record",
            struct_fields,
            kw_only=True,
            rename=renames,
            forbid_unknown_fields=validate and extra is False,
            gc=False,  # only strings, numbers and Raw values: no cycles, and nothing for gc.collect to scan
        )
        # The envelope is checked by the decode itself: a RECORD of this stream, else a ValidationError.
        envelope = [("type", Literal["RECORD"]), ("stream", Literal[spec.stream_name]), ("record", record)]
        line = msgspec.defstruct("Line", envelope, gc=False)
        self._decoder = msgspec.json.Decoder(list[line])  # type: ignore[valid-type]
        self._schema = arrow_schema(spec)

    @classmethod
    def for_stream(
        cls,
        spec: TableSpec,
        schema: Mapping[str, Any],
        *,
        version_column: str,
        validate: bool,
    ) -> FastDecoder | None:
        """The decoder, or None when the stream's schema needs the per-record path."""
        if validate and type_test(shallow_schema(schema)) is None:
            return None
        try:
            return cls(spec, schema, version_column=version_column, validate=validate)
        except (_Incompatible, TypeError, ValueError):
            return None

    def decode(self, lines: Sequence[bytes]) -> pa.Table | None:
        """The batch as a table in spec order, with sync versions; None when the per-record path must
        decide (any value it would refuse or convert differently)."""
        try:
            decoded: list[Any] = self._decoder.decode(b"[" + b",".join(lines) + b"]")
        except (msgspec.DecodeError, RecursionError):
            return None
        records: list[Any] = list(map(_RECORD_OF, decoded))
        del decoded
        try:
            arrays = [
                self._column(f, get, records) for f, get in zip(self.fields, self._getters, strict=True)
            ]
            if any(a is None for a in arrays):
                return None
            if self._version_hidden and any(
                v is not _MISSING for v in map(operator.attrgetter("version"), records)
            ):
                return None
            columns = dict(zip((f.name for f in self.fields), arrays, strict=True))
            versions = self._versions(columns, len(records))
            if versions is None:
                return None
            columns[SYNC_VERSION_COLUMN] = versions
            return pa.Table.from_arrays([columns[c.name] for c in self.spec.columns], schema=self._schema)
        except _ARROW_ERRORS:
            return None

    def _column(self, field: _Field, get: operator.attrgetter[Any], records: list[Any]) -> pa.Array | None:
        values = list(map(get, records))
        target = ARROW_TYPES[field.kind]
        if not field.raw:
            if field.kind in ("timestamp", "date"):
                return pa.array(values, pa.string()).cast(target)
            return pa.array(values, target)
        data = b"".join(values)
        if len(data) > _MAX_OFFSET:  # beyond 32-bit offsets (a batch of huge values): per-record path
            return None
        lengths = pc.cumulative_sum(pa.array(list(map(len, values)), pa.int32()))
        offsets = pa.concat_arrays([pa.array([0], pa.int32()), lengths]).buffers()[1]
        text = pa.Array.from_buffers(pa.binary(), len(values), [None, offsets, pa.py_buffer(data)])
        text = text.cast(pa.string())  # checks UTF-8
        is_null = pc.equal(text, "null")
        if (
            not field.nullable
            and pc.any(is_null).as_py()
            and any(v is not _MISSING for v, null in zip(values, is_null.to_pylist(), strict=True) if null)
        ):
            return None
        if field.first is not None:  # each value of a JSON type the property declares (null checked above)
            if len(field.first) <= _FEW_FIRST:  # objects, arrays, strings: a starts_with each, 5x an is_in
                starts = is_null
                for character in field.first:
                    starts = pc.or_(starts, pc.starts_with(text, character))
            else:
                starts = pc.or_(
                    pc.is_in(pc.utf8_slice_codeunits(text, 0, 1), value_set=pa.array(field.first)), is_null
                )
            if not pc.all(starts).as_py():
                return None
        text = pc.if_else(is_null, pa.scalar(None, pa.string()), text)
        if field.kind == "double":  # Arrow's correctly rounded parse, as float() of the number's text
            doubles = text.cast(target)
            finite = pc.all(pc.or_kleene(pc.is_finite(doubles), pc.is_null(doubles))).as_py()
            return doubles if finite is not False else None  # beyond the range: refused per record
        if field.kind == "decimal":
            return text.cast(target)
        return text

    def _versions(self, columns: dict[str, pa.Array], rows: int) -> pa.Array | None:
        """SYNC_VERSION_COLUMN as ``arrow_batch.set_sync_versions`` sets it, or None (per-record path)."""
        deleted = (
            pc.is_valid(columns[DELETED_AT_COLUMN])
            if DELETED_AT_COLUMN in columns
            else pa.repeat(False, rows)
        )
        source = columns.get(self.version_column)
        if source is None:
            versions = pa.nulls(rows, pa.int64())
        elif pa.types.is_string(source.type):
            live = pc.and_kleene(pc.invert(deleted), pc.is_valid(source))
            plain = pc.match_substring_regex(source, _PLAIN_VERSION)
            if not pc.all(pc.or_kleene(pc.invert(live), plain)).as_py():
                return None
            versions = pc.if_else(plain, source, pa.scalar(None, pa.string())).cast(pa.int64())
        elif pa.types.is_integer(source.type):
            versions = pc.min_element_wise(source, pa.scalar(DELETE_VERSION - 1, pa.int64()))
        else:
            return None
        return pc.if_else(deleted, pa.scalar(DELETE_VERSION, pa.int64()), versions)


def collapse_newest_table(table: pa.Table, keys: Sequence[str]) -> pa.Table | None:
    """``arrow_batch.collapse_newest`` on a table: one row per key, the highest sync version (NULL loses),
    ties to the later row, rows in the order their key first appears. None when a delete wins over an
    older version of its key in this batch (its values are merged from that version: per-record path)."""
    rows = table.num_rows
    rank = pc.fill_null(table.column(SYNC_VERSION_COLUMN), -1)
    dense = pc.rank(rank, sort_keys="ascending", tiebreaker="dense").cast(pa.int64())
    position = pa.array(range(rows), pa.int64())
    order = pc.add(pc.multiply(dense, rows), position)
    grouping = pa.table(
        {
            **{f"k{i}": table.column(k) for i, k in enumerate(keys)},
            "order": order,
            "rank": rank,
            "pos": position,
        }
    )
    groups = grouping.group_by([f"k{i}" for i in range(len(keys))], use_threads=False).aggregate(
        [("order", "max"), ("rank", "min"), ("rank", "max"), ("pos", "min")]
    )
    merged = pc.and_(
        pc.equal(groups.column("rank_max"), DELETE_VERSION),
        pc.less(groups.column("rank_min"), DELETE_VERSION),
    )
    if pc.any(merged).as_py():
        return None
    first = pc.sort_indices(groups.column("pos_min"))
    best = pc.take(groups.column("order_max"), first)
    winners = pc.subtract(best, pc.multiply(pc.divide(best, rows), rows))
    return table.take(winners)
