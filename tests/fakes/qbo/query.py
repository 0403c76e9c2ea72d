"""A small parser for the QBO query language subset connectors use.

    SELECT * | COUNT(*) | <field>[, <field>]... FROM <Entity> [WHERE <cond> [AND <cond>]...]
    [ORDERBY <field> [ASC|DESC]] [STARTPOSITION n] [MAXRESULTS m]

Conditions: ``Metadata.LastUpdatedTime`` / ``MetaData.CreateTime`` compared with >, >=, <, <=, = to a quoted
ISO timestamp; ``Active = true|false``; ``Active IN (true, false)``; ``Id = '5'``; ``Id IN ('1', '2')``.
Keywords and entity names are case-insensitive. Anything else is a ``QueryError``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tests.fakes.qbo.catalog import BY_LOWER
from tests.fakes.qbo.timefmt import parse_iso

MAX_RESULTS_LIMIT = 1000
DEFAULT_MAX_RESULTS = 100


class QueryError(ValueError):
    """The statement is not valid QBO query syntax (answered with Fault 4000)."""


@dataclass
class Query:
    entity: str
    count: bool = False
    lut_min: float | None = None
    lut_min_inclusive: bool = True
    lut_max: float | None = None
    lut_max_inclusive: bool = False
    active: set[bool] = field(default_factory=lambda: {True})
    active_given: bool = False
    ids: set[str] | None = None
    descending: bool = False
    start_position: int = 1
    max_results: int = DEFAULT_MAX_RESULTS
    fields: list[str] | None = None  # SELECT Id, SyncToken ... (None: every field)


_HEAD = re.compile(
    r"^\s*SELECT\s+(?P<sel>\*|COUNT\s*\(\s*\*\s*\)|[\w.]+(?:\s*,\s*[\w.]+)*)\s+FROM\s+(?P<entity>\w+)(?P<rest>.*)$",
    re.I | re.S,
)
_TAIL = re.compile(r"\s+(?P<kw>STARTPOSITION|MAXRESULTS)\s+(?P<val>\S+)\s*;?\s*$", re.I)
_ORDER = re.compile(r"\s+ORDER\s*BY\s+(?P<field>[\w.]+)(?:\s+(?P<dir>ASC|DESC))?\s*$", re.I)
_WHERE = re.compile(r"^\s+WHERE\s+(?P<cond>.+)$", re.I | re.S)
_AND = re.compile(r"\s+AND\s+", re.I)
_COMPARE = re.compile(r"^(?P<field>[\w.]+)\s*(?P<op>>=|<=|=|>|<)\s*(?P<val>'[^']*'|true|false|\d+)$", re.I)
_IN = re.compile(r"^(?P<field>[\w.]+)\s+IN\s*\((?P<vals>[^)]*)\)$", re.I)
_LUT_FIELDS = {"metadata.lastupdatedtime"}
_ORDER_FIELDS = _LUT_FIELDS


def _bool(text: str) -> bool:
    lowered = text.strip().strip("'").lower()
    if lowered not in {"true", "false"}:
        raise QueryError(f"expected true or false, got {text!r}")
    return lowered == "true"


def _apply_compare(query: Query, field_name: str, op: str, raw: str) -> None:
    name = field_name.lower()
    if name in _LUT_FIELDS:
        if not raw.startswith("'"):
            raise QueryError(f"timestamp must be quoted: {raw}")
        try:
            epoch = parse_iso(raw.strip("'"))
        except ValueError as exc:
            raise QueryError(f"invalid timestamp {raw}") from exc
        if op in {">=", ">", "="}:
            query.lut_min, query.lut_min_inclusive = epoch, op != ">"
        if op in {"<=", "<", "="}:
            query.lut_max, query.lut_max_inclusive = epoch, op != "<"
    elif name == "active" and op == "=":
        query.active = {_bool(raw)}
        query.active_given = True
    elif name == "id" and op == "=":
        query.ids = {raw.strip("'")}
    else:
        raise QueryError(f"unsupported condition {field_name} {op} {raw}")


def _apply_condition(query: Query, cond: str) -> None:
    cond = cond.strip()
    match = _COMPARE.match(cond)
    if match:
        _apply_compare(query, match["field"], match["op"], match["val"])
        return
    match = _IN.match(cond)
    if match:
        values = [v.strip() for v in match["vals"].split(",") if v.strip()]
        name = match["field"].lower()
        if name == "active":
            query.active = {_bool(v) for v in values}
            query.active_given = True
            return
        if name == "id":
            query.ids = {v.strip("'") for v in values}
            return
    raise QueryError(f'Encountered "{cond}"')


def parse_query(statement: str) -> Query:
    """Parse one statement or raise ``QueryError``."""
    head = _HEAD.match(statement)
    if not head:
        raise QueryError(f'Encountered "{statement.strip()[:40]}" at line 1, column 1')
    entity = BY_LOWER.get(head["entity"].lower())
    if entity is None:
        raise QueryError(f"Invalid entity {head['entity']}")
    selection = head["sel"]
    query = Query(entity=entity, count=selection.upper().replace(" ", "").startswith("COUNT("))
    if selection != "*" and not query.count:
        query.fields = [name.strip() for name in selection.split(",")]
    rest = head["rest"]
    seen: set[str] = set()
    while (tail := _TAIL.search(rest)) is not None:
        keyword = tail["kw"].upper()
        if keyword in seen or not tail["val"].isdigit():
            raise QueryError(f"invalid {keyword} {tail['val']}")
        seen.add(keyword)
        if keyword == "STARTPOSITION":
            query.start_position = max(int(tail["val"]), 1)
        else:
            query.max_results = int(tail["val"])
        rest = rest[: tail.start()]
    order = _ORDER.search(rest)
    if order:
        if order["field"].lower() not in _ORDER_FIELDS:
            raise QueryError(f"unsupported ORDERBY {order['field']}")
        query.descending = (order["dir"] or "ASC").upper() == "DESC"
        rest = rest[: order.start()]
    if rest.strip():
        where = _WHERE.match(rest)
        if not where:
            raise QueryError(f'Encountered "{rest.strip()[:40]}"')
        for cond in _AND.split(where["cond"].strip()):
            _apply_condition(query, cond)
    if query.max_results > MAX_RESULTS_LIMIT:
        raise QueryError(f"MAXRESULTS {query.max_results} exceeds the maximum of {MAX_RESULTS_LIMIT}")
    return query
