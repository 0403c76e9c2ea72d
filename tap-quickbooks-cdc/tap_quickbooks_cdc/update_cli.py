"""`tap-quickbooks-cdc-update --config CONFIG --realm R --entity Invoice --id 42 --set PrivateNote="..."`.

An operator tool outside the pipeline (which only reads): a sparse update of a few fields that never
overwrites another writer's change to them (`sparse_update`). It uses the tap's own settings and token
store (a refresh it needs rotates the stored token as a sync would). It prints one line naming the record,
the fields and the SyncTokens, never a field's value; a problem is one line and exit status 1.
"""

from __future__ import annotations

import decimal
import json
import logging

import click

from tap_quickbooks_cdc.errors import QboTapError
from tap_quickbooks_cdc.realm import RealmRegistry
from tap_quickbooks_cdc.settings import parse_settings
from tap_quickbooks_cdc.sparse_update import sparse_update
from tap_quickbooks_cdc.webhooks.config import load_config
from tap_quickbooks_cdc.webhooks.payloads import ENTITY_NAMES

logger = logging.getLogger("tap_quickbooks_cdc.update")


class UpdateError(click.ClickException):
    """One line naming the problem and the fix; shown as `Error: ...`, exit status 1."""


def _assignments(texts: tuple[str, ...], *, as_json: bool) -> dict[str, object]:
    fields: dict[str, object] = {}
    option = "--set-json" if as_json else "--set"
    for text in texts:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise UpdateError(f"{option} {name.strip() or '?'}: write it as FIELD=VALUE.")
        if not as_json:
            fields[name.strip()] = value
            continue
        try:
            fields[name.strip()] = json.loads(value, parse_float=decimal.Decimal)  # money stays exact
        except ValueError:
            raise UpdateError(
                f"--set-json {name.strip()}: the value is not JSON; quote text as JSON."
            ) from None
    if {"Id", "SyncToken", "sparse"} & fields.keys():
        raise UpdateError("Id, SyncToken and sparse are set by the command itself: drop them from --set.")
    return fields


@click.command()
@click.option(
    "--config",
    "configs",
    multiple=True,
    required=True,
    help="The tap's settings file (repeatable; ENV reads TAP_QUICKBOOKS_CDC_* variables).",
)
@click.option("--realm", "realm_id", required=True, help="The company (realm ID), one of `companies`.")
@click.option("--entity", required=True, help="QBO entity name, e.g. Invoice.")
@click.option("--id", "record_id", required=True, help="The record's Id.")
@click.option("--set", "texts", multiple=True, metavar="FIELD=VALUE", help="A text field (repeatable).")
@click.option(
    "--set-json", "json_texts", multiple=True, metavar="FIELD=JSON", help="A JSON value (repeatable)."
)
@click.option("--max-attempts", default=3, show_default=True, type=click.IntRange(1, 10))
def main(
    *,
    configs: tuple[str, ...],
    realm_id: str,
    entity: str,
    record_id: str,
    texts: tuple[str, ...],
    json_texts: tuple[str, ...],
    max_attempts: int,
) -> None:
    """Sparse-update a QuickBooks record with the SyncToken it was read with (operator tool)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    fields = _assignments(texts, as_json=False) | _assignments(json_texts, as_json=True)
    if not fields:
        raise UpdateError("Nothing to set: pass --set FIELD=VALUE (or --set-json FIELD=JSON).")
    name = ENTITY_NAMES.get(entity.lower())
    if name is None or not record_id.isalnum():
        raise UpdateError(
            f"--entity {entity} / --id {record_id}: name a QBO entity (e.g. Invoice) and its Id."
        )
    try:
        settings = parse_settings(load_config(configs))
        client = RealmRegistry(settings, logger, lambda _realm: {}).session(realm_id).client
        outcome = sparse_update(client, name, record_id, fields, max_attempts=max_attempts)
    except QboTapError as exc:
        raise UpdateError(str(exc)) from None
    changed = ", ".join(sorted(fields))
    if outcome.already_set:
        click.echo(
            f"{name} {record_id} in realm {realm_id}: {changed} already held these values; nothing written."
        )
        return
    click.echo(
        f"{name} {record_id} in realm {realm_id}: set {changed} (SyncToken {outcome.read_sync_token} -> "
        f"{outcome.record.get('SyncToken')}, {outcome.attempts} write(s))."
    )
