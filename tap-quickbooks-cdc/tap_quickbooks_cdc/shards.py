"""Which of the configured companies one run syncs, when many runs split one company list (`company_shard`).

Many `meltano run` processes (on one machine or many) can share one `companies` list, each with its own shard
and its own Meltano state (`--state-id-suffix`). A shard is either "K/N", shard K (1-based) of N, or an
explicit list of realm IDs.

"K/N" holds the companies whose realm ID hashes to K - 1 modulo N. The hash is of the realm ID, not of its
position in the list: adding or removing a company never moves another company to a different shard, so no
company's bookmarks are left behind in another shard's state (a realm that moved would be backfilled again
by its new shard). sha256 rather than Python's `hash()`: that one is salted per process.
"""

from __future__ import annotations

import hashlib
import re
import typing as t
from dataclasses import dataclass

from typing_extensions import override

from tap_quickbooks_cdc.errors import ConfigError

if t.TYPE_CHECKING:
    from collections.abc import Sequence

    from tap_quickbooks_cdc.settings import Company

_K_OF_N = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")
_MAX_SHARDS = 10_000
_FORMS = 'use "K/N" (shard K of N, 1 <= K <= N, e.g. "3/16") or a list of realm IDs (e.g. ["123", "456"])'


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` (1-based), or the explicit `realms` (then index and count are 0)."""

    index: int = 0
    count: int = 0
    realms: tuple[str, ...] = ()

    def holds(self, realm_id: str) -> bool:
        if self.realms:
            return realm_id in self.realms
        return shard_of(realm_id, self.count) == self.index

    @override
    def __str__(self) -> str:
        return f"{self.index}/{self.count}" if self.count else f"[{', '.join(self.realms)}]"


def shard_of(realm_id: str, count: int) -> int:
    """The 1-based shard of `realm_id` among `count` shards: the same in every process, on every machine."""
    digest = hashlib.sha256(realm_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def parse_shard(value: object) -> Shard | None:
    """The `company_shard` setting (None, "" or [] = every company): "K/N", or realm IDs as a list or as text
    separated by commas. One-line ConfigError for anything else."""
    if value is None or value in ("", []):
        return None
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str) and "/" in value[0]:
        value = value[0]  # TAP_QUICKBOOKS_CDC_COMPANY_SHARD=3/16 as the SDK reads it: ["3/16"]
    if isinstance(value, str):
        match = _K_OF_N.fullmatch(value)
        if match:
            index, count = int(match[1]), int(match[2])
            if not 1 <= index <= count <= _MAX_SHARDS:
                raise ConfigError(f"Setting 'company_shard' is {value.strip()!r}: {_FORMS}.")
            return Shard(index=index, count=count)
        if "/" in value:
            raise ConfigError(f"Setting 'company_shard' is {value.strip()[:40]!r}: {_FORMS}.")
        value = value.split(",")
    if not isinstance(value, list):
        raise ConfigError(f"Setting 'company_shard' is {str(value)[:40]!r}: {_FORMS}.")
    realms = [str(item).strip() if isinstance(item, (str, int)) else None for item in value]
    if not all(realm and realm.isascii() and realm.isdigit() for realm in realms):
        raise ConfigError(
            f"Setting 'company_shard' lists something that is not a numeric realm ID: {_FORMS}."
        )
    return Shard(realms=tuple(dict.fromkeys(t.cast("list[str]", realms))))


def select(companies: Sequence[Company], shard: Shard | None) -> tuple[Company, ...]:
    """The companies of `shard`, in their configured order; a shard that holds none is a ConfigError (a run
    that syncs nothing would look like a success)."""
    if shard is None:
        return tuple(companies)
    if shard.realms:
        configured = {company.realm_id for company in companies}
        missing = [realm for realm in shard.realms if realm not in configured]
        if missing:
            raise ConfigError(
                f"Setting 'company_shard' lists realm(s) {', '.join(missing[:10])} that 'companies' does "
                "not: add them to 'companies' (or companies_file) or drop them from the shard."
            )
    chosen = tuple(company for company in companies if shard.holds(company.realm_id))
    if not chosen:
        raise ConfigError(
            f"Setting 'company_shard' {shard} holds none of the {len(companies)} configured companies (each "
            "realm ID hashes to one shard, so with few companies per shard some shards are empty): use "
            "fewer shards, or list the shard's realm IDs."
        )
    return chosen
