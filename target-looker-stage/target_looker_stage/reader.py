"""Fast Singer message reading (the SDK's msgspec reader) with one-line, data-free parse errors."""

from __future__ import annotations

import msgspec
from singer_sdk.contrib.msgspec import MsgSpecReader, decoder
from singer_sdk.singerlib.exceptions import InvalidInputLine


class LineReader(MsgSpecReader):
    """Decodes each line with msgspec (JSON floats -> ``Decimal``, so money stays exact)."""

    def __init__(self) -> None:
        super().__init__()
        self.line_number = 0

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
