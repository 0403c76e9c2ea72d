"""Fast Singer message reading (the SDK's msgspec reader) with one-line, data-free parse errors."""

from __future__ import annotations

import gc
import typing as t

import msgspec
from singer_sdk.contrib.msgspec import MsgSpecReader, decoder
from singer_sdk.singerlib.exceptions import InvalidInputLine


class LineReader(MsgSpecReader):
    """Decodes each line with msgspec (JSON floats -> ``Decimal``, so money stays exact)."""

    def __init__(self) -> None:
        super().__init__()
        self.line_number = 0

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
            return super().process_lines(file_input, callbacks)
        finally:
            gc.unfreeze()
            if enabled:
                gc.enable()

    def deserialize_json(self, line: str) -> dict:  # type: ignore[type-arg]
        self.line_number += 1
        try:
            message = decoder.decode(line)
        except msgspec.DecodeError as exc:
            msg = f"input line {self.line_number} is not valid JSON ({exc}); the tap output is malformed"
            raise InvalidInputLine(msg) from None
        if not isinstance(message, dict):
            msg = f"input line {self.line_number} is not a Singer message (expected a JSON object)"
            raise InvalidInputLine(msg)
        return message
