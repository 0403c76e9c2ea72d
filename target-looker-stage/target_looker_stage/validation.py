"""Record validation with fastjsonschema, checking what the target stores.

Each top-level property becomes a column, so its type, format-free constraints and the record's
``required`` list are checked exactly. A nested object or array is stored whole as JSON: the validator
checks that it *is* an object/array (or null, as declared) but not its inner fields, which would cost ~20x
more per record on QBO entities (deep ``Line`` arrays) and protects nothing the target writes. Formats are
not checked (as in the SDK's default); bad timestamps are reported when the batch is converted. Schemas
with ``$ref`` fall back to the SDK's full validator.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import fastjsonschema
from singer_sdk.exceptions import InvalidRecord
from singer_sdk.sinks.core import BaseJSONSchemaValidator, JSONSchemaValidator

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


class FastJSONSchemaValidator(BaseJSONSchemaValidator):
    def __init__(self, schema: dict[str, Any]) -> None:
        super().__init__(schema)
        self._validate = fastjsonschema.compile(shallow_schema(schema), use_default=False, use_formats=False)

    def validate(self, record: dict[str, Any]) -> None:
        try:
            self._validate(record)
        except fastjsonschema.JsonSchemaValueException as exc:
            raise InvalidRecord(exc.message, record) from None


def record_validator(schema: dict[str, Any]) -> BaseJSONSchemaValidator:
    if "$ref" in repr(schema):
        return JSONSchemaValidator(schema)
    try:
        return FastJSONSchemaValidator(schema)
    except fastjsonschema.JsonSchemaDefinitionException:
        return JSONSchemaValidator(schema)
