"""What a PostgreSQL error says, in words that never carry a record's value (customer data).

PostgreSQL's own text quotes values: a unique violation's DETAIL ``Key (realm_id, "Id")=(9130…, 42)
already exists``, a not-null or check violation's ``Failing row contains (…)``, COPY's CONTEXT ``COPY t, line
3, column X: "<value>"``, and even the primary message of an input error (``invalid input syntax for type
numeric: "abc"``, ``date/time field value out of range: "0000-01-01"``) or a trigger's ``RAISE``. So the line
is built only from parts that never hold a value: the primary message with every quoted fragment that is not
a known identifier replaced by ``…``, the column (``diag.column_name``, or the one a COPY CONTEXT names when
it is a column of the batch), the batch row a COPY error is on, and the SQLSTATE. DETAIL, CONTEXT and HINT
are never shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import psycopg

_HIDDEN = "…"
#: A run of hex bytes (``invalid byte sequence for encoding "UTF8": 0xe2 0x82``): a piece of the value.
_BYTES = re.compile(r"0x[0-9a-fA-F]{2}(?:\s+0x[0-9a-fA-F]{2})*")
#: ``=(…)`` value lists (DETAIL's form, should one reach the primary message).
_VALUE_LIST = re.compile(r"=\(.*\)")
#: COPY's CONTEXT line: ``COPY <table>, line <n>[, column <name>: …]``.
_COPY_CONTEXT = re.compile(r"^COPY [^,\n]+, line (\d+)(?:, column (.*))?$", re.MULTILINE)


def _without_quoted_values(text: str, identifiers: set[str]) -> str:
    """Each quoted fragment that is not one of ``identifiers`` becomes ``…``. A value may itself hold the
    quote character (PostgreSQL does not escape it), so from the first unknown fragment the rest up to the
    last quote of that kind is hidden as one."""
    for quote in ('"', "'"):
        kept: list[str] = []
        rest = text
        while True:
            start = rest.find(quote)
            end = rest.find(quote, start + 1) if start >= 0 else -1
            if end < 0:
                kept.append(rest)
                break
            if rest[start + 1 : end] in identifiers:
                kept.append(rest[: end + 1])
                rest = rest[end + 1 :]
                continue
            last = rest.rfind(quote)
            kept.append(rest[:start] + _HIDDEN + rest[last + 1 :])
            break
        text = "".join(kept)
    return _BYTES.sub(_HIDDEN, _VALUE_LIST.sub("=" + _HIDDEN, text))


def _copy_position(context: str, columns: Iterable[str]) -> tuple[str | None, str | None]:
    """The batch row and column a COPY CONTEXT names; the column only when it is one of ``columns`` (the text
    after it is the value)."""
    found = _COPY_CONTEXT.search(context)
    if found is None:
        return None, None
    row, rest = found[1], found[2] or ""
    named = [c for c in columns if rest == c or rest.startswith(f"{c}:")]
    return row, max(named, key=len) if named else None


def describe(exc: psycopg.Error, columns: Iterable[str] = ()) -> str:
    """One line for ``exc`` without any record value: the primary message (quoted values as ``…``), then the
    column, the batch row (COPY) and the SQLSTATE in parentheses. ``columns``: the batch's column names."""
    diag = exc.diag
    if exc.sqlstate is None:  # raised by the client, not the server: no diagnostics to choose from
        primary = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    elif exc.sqlstate.startswith("P0"):  # a trigger's or function's RAISE: its text is the function author's
        primary = "a trigger or function on the table raised an error (its message may quote record values)"
    else:
        primary = diag.message_primary or type(exc).__name__
    names = set(columns)
    identifiers = {
        n
        for n in (
            diag.column_name,
            diag.table_name,
            diag.schema_name,
            diag.constraint_name,
            diag.datatype_name,
            *names,
        )
        if n
    }
    shown = " ".join(_without_quoted_values(primary, identifiers).split())
    row, column = _copy_position(diag.context or "", names)
    column = diag.column_name or column
    where = [f"column '{column}'"] if column else []
    if row is not None:
        where.append(f"row {row} of the batch")
    if exc.sqlstate is not None:
        where.append(f"SQLSTATE {exc.sqlstate}")
    return f"{shown} ({', '.join(where)})" if where else shown
