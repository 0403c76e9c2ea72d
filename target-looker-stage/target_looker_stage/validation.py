"""Record validation with fastjsonschema, checking what the target stores.

Each top-level property becomes a column, so its type, format-free constraints and the record's
``required`` list are checked exactly. A nested object or array is stored whole as JSON: the validator
checks that it *is* an object/array (or null, as declared) but not its inner fields, which would cost ~20x
more per record on QBO entities (deep ``Line`` arrays) and protects nothing the target writes. Formats are
not checked (as in the SDK's default); bad timestamps are reported when the batch is converted. Schemas
with ``$ref`` fall back to the SDK's full validator. Errors name the property and the rule, never the value
(fastjsonschema's messages do not quote it; jsonschema's do and are reworded).

A record is first checked by a plain type test per property (exact Python types, the ``required`` list,
``additionalProperties: false``), when the schema uses nothing else; only a record that test does not accept
goes through fastjsonschema, which then decides and words the error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Context, Decimal, InvalidOperation, localcontext
from typing import Any

import fastjsonschema
from singer_sdk.exceptions import InvalidRecord
from singer_sdk.sinks.core import BaseJSONSchemaValidator, JSONSchemaValidator
from typing_extensions import override

#: Keywords that describe the inside of a nested value (dropped below the top level).
_NESTED_KEYWORDS = frozenset(
    {
        "properties",
        "patternProperties",
        "additionalProperties",
        "required",
        "items",
        "prefixItems",
        "additionalItems",
        "contains",
        "dependencies",
        "propertyNames",
    }
)


def shallow_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` with every property reduced to its own type and scalar constraints."""
    shallow = dict(schema)
    properties = schema.get("properties") or {}
    shallow["properties"] = {name: _shallow_property(prop) for name, prop in properties.items()}
    return shallow


def _shallow_property(prop: Any) -> Any:
    if not isinstance(prop, Mapping):
        return prop
    out = {k: v for k, v in prop.items() if k not in _NESTED_KEYWORDS}
    for combinator in ("anyOf", "oneOf", "allOf"):
        if isinstance(prop.get(combinator), list):
            out[combinator] = [_shallow_property(option) for option in prop[combinator]]
    return out


#: Keywords a property may use for the plain type test to be exact (the rest are annotations).
_TYPE_ONLY_KEYWORDS = frozenset(
    {
        "type",
        "format",
        "anyOf",
        "description",
        "title",
        "examples",
        "default",
        "$comment",
        "readOnly",
        "writeOnly",
    }
)
_TOP_LEVEL_KEYWORDS = frozenset(
    {"type", "properties", "required", "additionalProperties", "description", "title", "$schema", "$id"}
)
_PYTHON_TYPES: dict[str, frozenset[type]] = {
    "string": frozenset({str}),
    "number": frozenset({int, float, Decimal}),
    "integer": frozenset({int}),
    "boolean": frozenset({bool}),
    "object": frozenset({dict}),
    "array": frozenset({list}),
    "null": frozenset({type(None)}),
}


class _NotTypeOnly(Exception):
    """The schema uses a keyword the plain type test cannot check."""


def _allowed_types(prop: Any) -> frozenset[type] | None:
    """Exact Python types a value may have (None: any value), or _NotTypeOnly."""
    if not isinstance(prop, Mapping) or set(prop) - _TYPE_ONLY_KEYWORDS:
        raise _NotTypeOnly
    declared = prop.get("type")
    allowed: set[type] | None = None
    if declared is not None:
        names = [declared] if isinstance(declared, str) else declared
        if not isinstance(names, list) or any(n not in _PYTHON_TYPES for n in names):
            raise _NotTypeOnly
        allowed = set().union(*(_PYTHON_TYPES[n] for n in names))
    if "anyOf" in prop:
        options = [_allowed_types(option) for option in prop["anyOf"]]
        if all(option is not None for option in options):
            union = set().union(*(option for option in options if option is not None))
            allowed = union if allowed is None else allowed & union
    return None if allowed is None else frozenset(allowed)


def type_test(schema: Mapping[str, Any]) -> Callable[[dict[str, Any]], bool] | None:
    """A fast acceptance test equivalent to the shallow schema, or None when the schema needs more."""
    if set(schema) - _TOP_LEVEL_KEYWORDS or schema.get("type", "object") != "object":
        return None
    extra = schema.get("additionalProperties", True)
    if not isinstance(extra, bool):
        return None
    try:
        checks = {name: _allowed_types(prop) for name, prop in (schema.get("properties") or {}).items()}
    except _NotTypeOnly:
        return None
    required = tuple(schema.get("required") or ())

    def accepts(record: dict[str, Any]) -> bool:
        for name in required:
            if name not in record:
                return False
        for name, value in record.items():
            if name in checks:
                allowed = checks[name]
                if allowed is not None and type(value) not in allowed:
                    return False
            elif not extra:
                return False
        return True

    return accepts


#: Enough digits for a remainder of any number a column holds (38 digits) by any step a schema writes.
_EXACT = Context(prec=200)


def _steps(shallow: dict[str, Any]) -> dict[str, Decimal]:
    """Take ``multipleOf`` out of the top-level properties (and their ``anyOf`` options): {name: step}.

    fastjsonschema checks it with float division, which fails on the reader's ``Decimal`` values (a
    traceback) and would misjudge floats anyway (12.34 / 0.01 is 1233.9999999999998); the step is checked
    exactly instead. A step inside an option applies to the numbers that option admits, which are every
    number the property admits in the schemas taps write (``anyOf: [{number, multipleOf}, {null}]``).
    """
    steps: dict[str, Decimal] = {}
    for name, prop in (shallow.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        for holder in [prop, *(o for o in prop.get("anyOf") or () if isinstance(o, dict))]:
            step = holder.pop("multipleOf", None)
            if isinstance(step, int | float | Decimal) and not isinstance(step, bool) and step > 0:
                steps[name] = Decimal(repr(step)) if isinstance(step, float) else Decimal(step)
    return steps


class FastJSONSchemaValidator(BaseJSONSchemaValidator):
    def __init__(self, schema: dict[str, Any]) -> None:
        super().__init__(schema)
        shallow = shallow_schema(schema)
        self._steps = _steps(shallow)
        self._validate = fastjsonschema.compile(shallow, use_default=False, use_formats=False)
        self._accepts = None if self._steps else type_test(shallow)

    @override
    def validate(self, record: dict[str, Any]) -> None:
        if self._accepts is not None and self._accepts(record):
            return
        try:
            self._validate(record)
        except fastjsonschema.JsonSchemaValueException as exc:
            raise InvalidRecord(exc.message, record) from None
        for name, step in self._steps.items():
            value = record.get(name)
            if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
                number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
                try:
                    with localcontext(_EXACT):
                        off_step = number.is_finite() and number % step != 0
                except InvalidOperation:  # beyond any column's digits: refused when the batch is converted
                    off_step = False
                if off_step:
                    raise InvalidRecord(f"data.{name} must be multiple of {step}", record)


class ValueFreeJSONSchemaValidator(JSONSchemaValidator):
    """The SDK's full validator (for schemas fastjsonschema cannot take), with errors that name the property
    and the rule but not the value: jsonschema's own messages quote it (customer data)."""

    @override
    def validate(self, record: dict[str, Any]) -> None:
        try:
            super().validate(record)
        except InvalidRecord as exc:
            cause = exc.__cause__  # a jsonschema.ValidationError
            validator = getattr(cause, "validator", None)
            if validator is None:
                raise
            path = getattr(cause, "absolute_path", ())
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
            rule = repr(getattr(cause, "validator_value", None))
            rule = rule if len(rule) <= 60 else f"{rule[:60]}..."
            message = f"data{where} does not satisfy {validator}: {rule}"
            raise InvalidRecord(message, record) from None


def record_validator(schema: dict[str, Any]) -> BaseJSONSchemaValidator:
    if "$ref" in repr(schema):
        return ValueFreeJSONSchemaValidator(schema)
    try:
        return FastJSONSchemaValidator(schema)
    except fastjsonschema.JsonSchemaDefinitionException:
        return ValueFreeJSONSchemaValidator(schema)
