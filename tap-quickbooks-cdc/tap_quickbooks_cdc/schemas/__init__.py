"""JSON schemas of the tap's streams, shaped exactly like the QBO entities they carry: each entity's fields
(``lists``, ``sales``, ``purchases``) and ``build_schema``; which stream gets which fields is a row of
``tap_quickbooks_cdc.registry`` (``STREAM_SCHEMAS`` there).

Every schema holds the entity's QBO fields plus ``realm_id`` (required), ``last_updated_at`` (the
replication key, UTC) and ``_sdc_deleted_at`` (set on CDC delete stubs). Nothing else is required,
because delete stubs carry only ``Id``, ``MetaData``, ``status`` and ``domain``.
"""

from __future__ import annotations

from typing import Any

from singer_sdk import typing as th

from tap_quickbooks_cdc.schemas.common import Prop, entity_envelope, sync_columns

__all__ = ["build_schema"]


def build_schema(entity_fields: list[Prop]) -> dict[str, Any]:
    """Combine the sync columns, the entity envelope and entity fields into one JSON schema.

    Raises:
        ValueError: if a property name is defined twice (it would silently override the first).
    """
    properties = [*sync_columns(), *entity_envelope(), *entity_fields]
    seen: set[str] = set()
    for item in properties:
        if item.name in seen:
            msg = f"property {item.name!r} is defined twice"
            raise ValueError(msg)
        seen.add(item.name)
    schema: dict[str, Any] = th.PropertiesList(*properties).to_dict()
    return schema
