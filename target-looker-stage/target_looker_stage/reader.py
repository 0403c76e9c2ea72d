"""Fast Singer message reading (msgspec, exact decimals) with one-line, data-free errors.

Every line either becomes a Singer message with a well-formed envelope (a known ``type`` and the fields that
type needs, of the right JSON kinds) or stops the run with one ``InvalidInputLine`` naming the input line
number and the fix, never quoting the line (it may hold customer data). Input is read as bytes when the
stream offers them (``sys.stdin.buffer``), so invalid UTF-8 is reported by the reader instead of failing in
Python's text decoding. A record nested too deep for the decoder (about 950 levels) is reported as its
line; records are not walked for their depth up front, which would cost a scan of every line (about 5% of
the per-record time on QBO invoices), and nothing recurses deeper into a record than the decoder did. Other
messages (small) are refused past ``MAX_NESTING`` levels: the SDK deep-copies a STATE value when it relays
it, at a drain long after its line was read.
"""

from __future__ import annotations

import gc
import io
import typing as t
from collections import Counter

import msgspec
from singer_sdk.contrib.msgspec import MsgSpecReader, decoder
from singer_sdk.singerlib.exceptions import InvalidInputLine
from typing_extensions import override

from target_looker_stage.raw_batch import record_prefix, record_stream

#: Deepest nesting accepted in a STATE, SCHEMA or other non-RECORD message (QBO messages nest fewer than 10
#: levels); the copies the SDK makes of them stay well within Python's recursion limit.
MAX_NESTING = 200

_OBJECT, _ARRAY, _STRING = dict, list, str
#: Per message type: field -> the JSON kinds it may have (a missing field is an error too).
_ENVELOPES: dict[str, dict[str, tuple[type, ...]]] = {
    "RECORD": {"stream": (_STRING,), "record": (_OBJECT,)},
    "SCHEMA": {"stream": (_STRING,), "schema": (_OBJECT,)},
    "STATE": {"value": (_OBJECT, type(None))},
    "ACTIVATE_VERSION": {"stream": (_STRING,), "version": (int,)},
    "BATCH": {"stream": (_STRING,), "encoding": (_OBJECT,), "manifest": (_ARRAY,)},
}
_KIND_NAMES = {dict: "an object", list: "an array", str: "a string", int: "an integer", type(None): "null"}
_FIX = "the tap output is malformed (fix the tap or the file fed to the target)"


#: ``raw_records(stream, lines, first_number)``: True when the target took these consecutive RECORD lines of
#: ``stream`` as bytes (its stream is on the batch-native path, ``raw_batch``); False to have each decoded
#: into a message as usual.
RawRecordHook = t.Callable[[str, t.Sequence[bytes], int], bool]

#: Most RECORD lines collected before they are handed over together (one hook call per run of lines).
RUN_LINES = 1024


class LineReader(MsgSpecReader):
    """Decodes each line with msgspec (JSON floats -> ``Decimal``, so money stays exact)."""

    def __init__(self) -> None:
        super().__init__()
        self.line_number = 0
        self.raw_records: RawRecordHook | None = None
        #: Raises the error of the first bad line kept as bytes and not yet drained, if any (so the first
        #: bad line of the input is the one reported, as when every line is decoded when read).
        self.check_pending: t.Callable[[], None] | None = None

    @override
    def process_lines(
        self,
        file_input: t.IO[str] | None,
        callbacks: dict[str, t.Callable[[dict], None]],  # type: ignore[type-arg]
    ) -> t.Counter[str]:
        """Read the input with Python's cyclic garbage collector paused (``sinks.release_and_collect`` runs it
        after every batch instead).

        A batch holds thousands of decoded records of many small dicts and lists each; with automatic
        collection on, the generational collector re-scans all of them again and again while the batch
        fills (about a quarter of the run time on QBO invoices). Records are freed by reference counting
        when their batch is drained, and the collection after each batch finds any cycles, so memory stays
        bounded by the batch as before. Objects alive when reading starts (modules, settings) are frozen
        so those per-batch collections do not scan them either."""
        enabled = gc.isenabled()
        gc.disable()
        gc.freeze()
        try:
            return self._read(_binary(file_input or self.default_input), callbacks)
        finally:
            gc.unfreeze()
            if enabled:
                gc.enable()

    def _read(
        self,
        lines: t.Iterable[str | bytes],
        callbacks: dict[str, t.Callable[[dict], None]],  # type: ignore[type-arg]
    ) -> t.Counter[str]:
        """Every line in order. After a RECORD line taken as bytes, the lines that start exactly like it
        (``{"type":"RECORD","stream":"<the same stream>"``) are collected and handed over together, up to
        RUN_LINES at a time, before any other line is looked at: per line, only a prefix test runs here
        (about a sixth of the per-record time it replaces on QBO invoices)."""
        stats: Counter[str] = Counter()
        run: list[bytes] = []
        prefix = b"\x00"  # no line starts with it: no run yet
        stream = ""
        try:
            for line in lines:
                if isinstance(line, bytes) and line.startswith(prefix):
                    run.append(line)
                    if len(run) >= RUN_LINES:
                        self._hand_over(stream, run, callbacks, stats)
                    continue
                if run:
                    self._hand_over(stream, run, callbacks, stats)
                prefix = b"\x00"
                taken = self._take_raw(line)
                if taken is not None:
                    stats["RECORD"] += 1
                    stream, prefix = taken, record_prefix(taken)
                    continue
                message = self.deserialize_json(line)
                kind = message["type"]
                try:
                    callbacks[kind](message)
                except RecursionError:  # a safety net: MAX_NESTING and the decoder's limit should prevent it
                    raise InvalidInputLine(_too_deep(self.line_number)) from None
                stats[kind] += 1
            if run:
                self._hand_over(stream, run, callbacks, stats)
        except Exception:
            # Lines kept as bytes are checked at their drain; one of them may be bad and come earlier.
            if self.check_pending is not None:
                self.check_pending()
            raise
        return stats

    def _hand_over(
        self,
        stream: str,
        run: list[bytes],
        callbacks: dict[str, t.Callable[[dict], None]],  # type: ignore[type-arg]
        stats: Counter[str],
    ) -> None:
        """Give a run of RECORD lines to ``raw_records``, or decode each as usual when it declines."""
        first = self.line_number + 1
        lines = list(run)
        run.clear()
        if self.raw_records is not None and self.raw_records(stream, lines, first):
            self.line_number += len(lines)
            stats["RECORD"] += len(lines)
            return
        for line in lines:
            callbacks["RECORD"](self.deserialize_json(line))
            stats["RECORD"] += 1

    def _take_raw(self, line: str | bytes) -> str | None:
        """Offer a RECORD line to ``raw_records`` as bytes (recognised by its envelope alone): its stream when
        taken. Any other line, or one the envelope decode does not accept, is decoded fully (and reported if
        bad)."""
        if self.raw_records is None:
            return None
        number = self.line_number + 1
        if isinstance(line, str):
            try:
                line = line.encode()
            except UnicodeEncodeError:
                return None
        if number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")
        stream = record_stream(line)
        if stream is None or not self.raw_records(stream, [line], number):
            return None
        self.line_number = number
        return stream

    @override
    def deserialize_json(self, line: str | bytes) -> dict:  # type: ignore[type-arg]
        """One line -> one Singer message with a valid envelope, or InvalidInputLine (one line, no data)."""
        self.line_number += 1
        return self.decode_line(line, self.line_number)

    def decode_line(self, line: str | bytes, number: int) -> dict:  # type: ignore[type-arg]
        """``deserialize_json`` for input line ``number`` (also for a line kept as bytes until its batch)."""
        if isinstance(line, bytes):
            line = line.removeprefix(b"\xef\xbb\xbf") if number == 1 else line  # a UTF-8 byte order mark
        elif number == 1:
            line = line.removeprefix("\ufeff")
        try:
            message = decoder.decode(line)
        except msgspec.DecodeError as exc:
            if isinstance(line, bytes) and "UTF-8" in str(exc):
                raise InvalidInputLine(_not_utf8(number, line)) from None
            msg = f"input line {number} is not valid JSON ({exc}); {_FIX}"
            raise InvalidInputLine(msg) from None
        except UnicodeEncodeError as exc:  # lone surrogates: text decoded with errors="surrogateescape"
            msg = f"input line {number} is not valid UTF-8 (character {exc.start + 1}); {_FIX}"
            raise InvalidInputLine(msg) from None
        except RecursionError:
            raise InvalidInputLine(_too_deep(number)) from None
        if not isinstance(message, dict):
            msg = f"input line {number} is not a Singer message (expected a JSON object); {_FIX}"
            raise InvalidInputLine(msg)
        _check_envelope(number, message)
        if message["type"] != "RECORD" and _depth(message) > MAX_NESTING:
            raise InvalidInputLine(_too_deep(number))
        return message

    @override
    def assert_line_requires(self, line_dict: dict, requires: set[str]) -> None:  # type: ignore[type-arg, override]
        """The SDK's check, worded without the message's content (it may hold customer data)."""
        missing = sorted(requires - set(line_dict))
        if missing:
            msg = f"input line {self.line_number} lacks {', '.join(missing)}; {_FIX}"
            raise InvalidInputLine(msg)


def _binary(source: t.IO[str]) -> t.Iterable[str | bytes]:
    """The bytes under a text stream when it has them (stdin, files); else the stream itself (e.g. a
    ``StringIO`` in tests)."""
    buffer = getattr(source, "buffer", None)
    if isinstance(source, io.TextIOWrapper) and isinstance(buffer, io.BufferedIOBase):
        return t.cast(t.Iterable[bytes], buffer)
    return source


def _check_envelope(number: int, message: dict[str, t.Any]) -> None:
    kind = message.get("type")
    if kind is None:
        msg = f"input line {number} has no message type ('type'); {_FIX}"
        raise InvalidInputLine(msg)
    fields = _ENVELOPES.get(kind) if isinstance(kind, str) else None
    if fields is None:
        short = isinstance(kind, str) and len(kind) <= 30 and kind.isidentifier()
        shown = f" '{kind}'" if short else ""
        known = ", ".join(_ENVELOPES)
        msg = f"input line {number} has an unknown message type{shown} (expected {known}); {_FIX}"
        raise InvalidInputLine(msg)
    for name, kinds in fields.items():
        if name not in message:
            msg = f"input line {number}: a {kind} message needs '{name}'; {_FIX}"
            raise InvalidInputLine(msg)
        value = message[name]
        if not isinstance(value, kinds) or isinstance(value, bool):
            wanted = " or ".join(_KIND_NAMES[k] for k in kinds)
            msg = f"input line {number}: '{name}' of a {kind} message must be {wanted}; {_FIX}"
            raise InvalidInputLine(msg)
    if kind == "SCHEMA":
        _check_schema(number, message)


def _check_schema(number: int, message: dict[str, t.Any]) -> None:
    properties = message["schema"].get("properties")
    if not isinstance(properties, dict) or not all(isinstance(p, dict) for p in properties.values()):
        msg = f"input line {number}: a SCHEMA's schema needs 'properties' (an object of objects); {_FIX}"
        raise InvalidInputLine(msg)
    keys = message.get("key_properties")
    if keys is not None and (not isinstance(keys, list) or not all(isinstance(k, str) for k in keys)):
        msg = f"input line {number}: 'key_properties' must be a list of property names; {_FIX}"
        raise InvalidInputLine(msg)


def _depth(value: t.Any) -> int:
    """Deepest nesting of objects and arrays in ``value`` (iterative: no recursion on deep input)."""
    deepest = 0
    pending: list[tuple[t.Any, int]] = [(value, 1)]
    while pending:
        item, level = pending.pop()
        if level > deepest:
            deepest = level
            if deepest > MAX_NESTING:
                break
        children = item.values() if isinstance(item, dict) else item
        pending.extend((c, level + 1) for c in children if isinstance(c, dict | list))
    return deepest


def _too_deep(number: int) -> str:
    return f"input line {number} nests objects/arrays too deeply to process; {_FIX}"


def _not_utf8(number: int, line: bytes) -> str:
    try:
        line.decode()
    except UnicodeDecodeError as exc:
        return f"input line {number} is not valid UTF-8 (byte {exc.start + 1}); the tap must write UTF-8 JSON"
    return f"input line {number} is not valid UTF-8; the tap must write UTF-8 JSON"
