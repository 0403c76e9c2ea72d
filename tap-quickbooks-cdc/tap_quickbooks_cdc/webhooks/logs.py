"""One JSON object per log line for the receiver (and uvicorn's own lines), on stderr.

Why JSON: a receiver runs unattended behind a load balancer and its lines go to a log pipeline; fields
(`status`, `ms`, `realm_id`, counts) must be queryable. Callers pass them as `extra={"fields": {...}}` and
never pass a secret or a body; uvicorn's access log is off (the receiver logs each delivery itself).
"""

from __future__ import annotations

import datetime
import logging
import sys
import typing as t

import orjson
from typing_extensions import override


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", ...fields}`; an exception adds only its type and first line."""

    @override
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, t.Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            line["error"] = f"{type(error).__name__}: {(str(error).splitlines() or [''])[0][:200]}"
        return orjson.dumps(line, default=str).decode()


def configure(level: str = "INFO") -> None:
    """Route the receiver's and uvicorn's loggers to one JSON handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        named = logging.getLogger(name)
        named.handlers[:] = []
        named.propagate = True
