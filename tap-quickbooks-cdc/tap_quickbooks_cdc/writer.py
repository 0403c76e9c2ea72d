"""A faster Singer message writer: orjson, exact Decimals, one write and flush per STATE, not per record.

Decimals are written as JSON numbers with their exact digits (an orjson Fragment of `str(d)`), never
through float. Messages are collected in the writer's own buffer and handed to stdout in one write when a
STATE message arrives (or the buffer passes ``FLUSH_BYTES``, or the process exits), so the cost stays one
system call per batch even when stdout is unbuffered (``PYTHONUNBUFFERED=1``, ``python -u``). Records and
the STATE that follows them share that buffer: a crash can lose unwritten records only together with the
state that would have covered them.
"""

from __future__ import annotations

import atexit
import decimal
import sys
import typing as t
import weakref

import orjson
from singer_sdk.singerlib.encoding import GenericSingerWriter
from singer_sdk.singerlib.encoding.simple import Message, StateMessage
from typing_extensions import override

from tap_quickbooks_cdc import signals

_OPTIONS = orjson.OPT_APPEND_NEWLINE
FLUSH_BYTES = 1 << 20
_WRITERS: weakref.WeakSet[OrjsonSingerWriter] = weakref.WeakSet()


@atexit.register
def _flush_writers() -> None:
    for writer in list(_WRITERS):
        writer.flush()


def _default(value: t.Any) -> t.Any:
    if isinstance(value, decimal.Decimal):
        return orjson.Fragment(str(value))
    return str(value)


class OrjsonSingerWriter(GenericSingerWriter[bytes, Message]):
    """Writes Singer messages to stdout as JSON lines."""

    def __init__(self) -> None:
        super().__init__()
        self._pending = bytearray()
        _WRITERS.add(self)

    @override
    def serialize_message(self, message: Message) -> bytes:
        return orjson.dumps(message.to_dict(), default=_default, option=_OPTIONS)

    @override
    def write_message(self, message: Message) -> None:
        self._pending += self.format_message(message)
        if isinstance(message, StateMessage) or len(self._pending) >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write what is pending to stdout and flush it (a SIGTERM waits: no half-written line)."""
        if not self._pending:
            return
        with signals.shielded():
            self._write_pending()

    def _write_pending(self) -> None:
        stdout = sys.stdout
        buffer = getattr(stdout, "buffer", None)
        if buffer is not None:
            buffer.write(self._pending)
        else:  # a text-only stdout (tests redirecting to StringIO)
            stdout.write(self._pending.decode())
        self._pending.clear()
        stdout.flush()
