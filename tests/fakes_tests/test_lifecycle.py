"""Starting and stopping: a simulator serves only between start and stop, and fixtures clean up."""

from __future__ import annotations

import pytest
import requests

from tests.fakes.qbo import QboSimulator, SimConfig
from tests.fakes.qbo.catalog import ENTITIES
from tests.fakes.qbo.fixtures import SimFactory


def _serving(sim: QboSimulator) -> bool:
    try:
        requests.get(f"{sim.base_url}/admin/info", timeout=2)
    except requests.ConnectionError:
        return False
    return True


def test_context_manager_serves_then_releases_the_port() -> None:
    with QboSimulator(SimConfig(companies=1, records_per_company=50)) as sim:
        assert sim.base_url.startswith("http://127.0.0.1:")
        assert sim.token_url == f"{sim.base_url}/oauth2/v1/tokens/bearer"
        assert _serving(sim)

    assert not _serving(sim)


def test_starting_twice_is_an_error() -> None:
    with QboSimulator(SimConfig(companies=1, records_per_company=50)) as sim, pytest.raises(RuntimeError):
        sim.start()


def test_factory_applies_config_fields(qbo_sim_factory: SimFactory) -> None:
    sim = qbo_sim_factory(companies=3, seed=7, records_per_company=100)

    assert sim.realm_ids == ["9341453000000001", "9341453000000002", "9341453000000003"]
    assert sim.config.seed == 7
    assert _serving(sim)


def test_default_fixture_has_two_companies_with_every_entity(qbo_sim: QboSimulator) -> None:
    assert len(qbo_sim.realm_ids) == 2
    for realm in qbo_sim.realm_ids:
        assert all(qbo_sim.count(realm, entity) > 0 for entity in ENTITIES)
