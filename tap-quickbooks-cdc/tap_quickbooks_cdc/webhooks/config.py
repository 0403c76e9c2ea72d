"""The receiver's settings, read from the tap's own settings file with the tap's own checks.

Why the tap's file and parser: the receiver and the tap must agree on the known realms (`companies`) and on
the inbox, and a bad file should fail the same way for both (one line, no secret). So `--config` goes
through `read_config_files` / `environment_config`, the schema check through `config_errors`, and the whole
config through `parse_settings`, before the three webhook settings are checked here.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from singer_sdk.plugin_base import JSONSchemaValidator
from typing_extensions import override

from tap_quickbooks_cdc.errors import ConfigError
from tap_quickbooks_cdc.settings import (
    CONFIG_SCHEMA,
    config_errors,
    environment_config,
    parse_settings,
    read_config_files,
)

if t.TYPE_CHECKING:
    from collections.abc import Sequence

ENV_PREFIX = "TAP_QUICKBOOKS_CDC_"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
MAX_BODY_CEILING = 64 * 1024 * 1024  # Intuit's bodies are about 1 MB at most


@dataclass(frozen=True)
class ReceiverSettings:
    """What the receiver needs: the verifier token, the inbox, the body limit and the known realms."""

    verifier_token: str
    inbox: str
    max_body_bytes: int
    realm_ids: frozenset[str]

    @override
    def __repr__(self) -> str:
        return f"ReceiverSettings(realms={sorted(self.realm_ids)}, max_body_bytes={self.max_body_bytes})"


def load_config(sources: Sequence[str]) -> dict[str, t.Any]:
    """Merge `--config` files in order, then `TAP_QUICKBOOKS_CDC_*` variables for `ENV`, like the tap."""
    config = read_config_files(sources)
    if "ENV" in sources:
        config |= environment_config(CONFIG_SCHEMA, ENV_PREFIX)
    return config


def receiver_settings(config: t.Mapping[str, t.Any]) -> ReceiverSettings:
    """Validate like the tap, then the webhook settings; ConfigError is one line with the fix."""
    errors = config_errors(JSONSchemaValidator(CONFIG_SCHEMA).iter_errors(dict(config)), CONFIG_SCHEMA)
    if errors:
        raise ConfigError(f"Invalid settings: {'; '.join(errors)}. See `tap-quickbooks-cdc --about`.")
    settings = parse_settings(config)
    token = config.get("webhook_verifier_token")
    if not isinstance(token, str) or not token.strip():
        raise ConfigError(
            "Missing setting 'webhook_verifier_token': copy the verifier token from the Intuit app's "
            "Webhooks page."
        )
    inbox = config.get("webhook_inbox")
    if not isinstance(inbox, str) or not inbox.strip():
        raise ConfigError(
            "Missing setting 'webhook_inbox': set a SQLite file path (e.g. output/webhooks.sqlite) or "
            "postgresql://user:password@host/db, the same one the tap drains."
        )
    limit = config.get("webhook_max_body_bytes", DEFAULT_MAX_BODY_BYTES)
    if limit is None:
        limit = DEFAULT_MAX_BODY_BYTES
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1024 <= limit <= MAX_BODY_CEILING:
        raise ConfigError(
            f"Setting 'webhook_max_body_bytes' is {limit!r}: use a whole number of bytes from 1024 to "
            f"{MAX_BODY_CEILING} (Intuit's bodies stay near 1 MB)."
        )
    return ReceiverSettings(
        verifier_token=token.strip(),
        inbox=inbox.strip(),
        max_body_bytes=limit,
        realm_ids=frozenset(c.realm_id for c in settings.companies),
    )
