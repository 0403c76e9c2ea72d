"""`company_shard`: a run syncs one shard of the companies, "K/N" by a hash of the realm ID, or a list.

Shards of one list cover every company exactly once, and a company's shard depends on its realm ID only, so
adding a company moves no other one (its bookmarks stay in its shard's state).
"""

from __future__ import annotations

import typing as t

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tap_quickbooks_cdc.errors import ConfigError
from tap_quickbooks_cdc.settings import CONFIG_SCHEMA, environment_config, parse_settings
from tap_quickbooks_cdc.shards import shard_of

REALMS = st.lists(st.integers(1, 10**15).map(str), min_size=1, max_size=60, unique=True)


def config(realms: t.Iterable[str], shard: object = None) -> dict[str, t.Any]:
    companies = [{"realm_id": realm, "refresh_token": f"seed-{realm}"} for realm in realms]
    settings: dict[str, t.Any] = {"client_id": "id", "client_secret": "secret", "companies": companies}
    if shard is not None:
        settings["company_shard"] = shard
    return settings


def shard_realms(realms: t.Iterable[str], shard: object) -> list[str]:
    try:
        return [company.realm_id for company in parse_settings(config(realms, shard)).companies]
    except ConfigError as exc:
        if "holds none" in str(exc):
            return []
        raise


@given(realms=REALMS, count=st.integers(1, 8))
def test_the_shards_of_one_company_list_cover_every_company_exactly_once(
    realms: list[str], count: int
) -> None:
    covered = [realm for k in range(1, count + 1) for realm in shard_realms(realms, f"{k}/{count}")]
    assert sorted(covered) == sorted(realms)


@given(realms=REALMS, added=st.integers(1, 10**15).map(str), count=st.integers(2, 8))
def test_adding_a_company_moves_no_other_company_to_another_shard(
    realms: list[str], added: str, count: int
) -> None:
    assume(added not in realms)
    before = {k: shard_realms(realms, f"{k}/{count}") for k in range(1, count + 1)}
    grown = [*realms, added]
    after = {k: shard_realms(grown, f"{k}/{count}") for k in range(1, count + 1)}
    for k, realms_before in before.items():
        assert [r for r in after[k] if r != added] == realms_before


def test_a_realms_shard_is_its_hash_not_its_position_in_the_list() -> None:
    realms = [str(9_130_000_000 + i) for i in range(12)]
    assert shard_realms(realms, "2/3") == shard_realms(list(reversed(realms)), "2/3")[::-1]
    assert all(shard_of(r, 3) == 2 for r in shard_realms(realms, "2/3"))


def test_a_shard_keeps_the_configured_order_and_is_what_settings_companies_holds() -> None:
    realms = [str(4_000 + i) for i in range(20)]
    mine = shard_realms(realms, "1/4")
    assert mine == [r for r in realms if shard_of(r, 4) == 1]
    assert 0 < len(mine) < len(realms)


def test_an_explicit_list_of_realm_ids_picks_those_companies_as_a_list_or_as_comma_separated_text() -> None:
    realms = ["101", "202", "303"]
    assert shard_realms(realms, ["303", "101"]) == ["101", "303"]
    assert shard_realms(realms, "303, 101") == ["101", "303"]


def test_no_shard_or_an_empty_one_syncs_every_company() -> None:
    unset: object
    for unset in (None, "", []):
        assert shard_realms(["1", "2", "3"], unset) == ["1", "2", "3"]


def test_the_shard_from_the_environment_variable_is_read_as_k_of_n(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAP_QUICKBOOKS_CDC_COMPANY_SHARD", "2/3")
    from_env = environment_config(CONFIG_SCHEMA, "TAP_QUICKBOOKS_CDC_")["company_shard"]
    realms = [str(7_000 + i) for i in range(15)]
    assert shard_realms(realms, from_env) == shard_realms(realms, "2/3")


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("0/4", "'0/4': use \"K/N\""),
        ("5/4", "'5/4': use \"K/N\""),
        ("1/0", "'1/0': use \"K/N\""),
        ("a/b", "'a/b': use \"K/N\""),
        ("3 of 4", "not a numeric realm ID"),
        (["101", "x"], "not a numeric realm ID"),
        (7, "is '7': use \"K/N\""),
        (["999"], "lists realm(s) 999 that 'companies' does not: add them"),
        ("9999/10000", "holds none of the 3 configured companies"),
    ],
)
def test_a_bad_company_shard_is_one_line_naming_the_fix(value: object, says: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_settings(config(["101", "202", "303"], value))
    message = str(raised.value)
    assert says in message
    assert "\n" not in message
    assert "company_shard" in message
    assert "seed-" not in message  # never a refresh token
