"""The render cache and the next-page prefetch: faster re-reads that never serve an old version."""

from __future__ import annotations

from tests.fakes.qbo.fixtures import SimFactory
from tests.fakes_tests.client import Company

PAGE = "select * from Invoice orderby Metadata.LastUpdatedTime startposition {start} maxresults 50"


def test_the_page_after_a_full_page_is_rendered_ahead(qbo_sim_factory: SimFactory) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=2000)
    company = Company(sim)
    table = sim.stores[company.realm_id].tables["Invoice"]

    company.rows(PAGE.format(start=1))
    second_page = list(table.view(hide_inactive=False)[50:100])
    assert sim.service.prefetcher is not None
    sim.service.prefetcher.wait_for(table, second_page)

    assert all(table.cache.get(("Invoice", idx)) is not None for idx in second_page)
    assert [r["Id"] for r in company.rows(PAGE.format(start=51))] == [str(i + 1) for i in second_page]


def test_a_change_after_prefetch_is_served_fresh(qbo_sim_factory: SimFactory) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=2000)
    company = Company(sim)
    table = sim.stores[company.realm_id].tables["Invoice"]
    company.rows(PAGE.format(start=1))
    target = str(table.view(hide_inactive=False)[60] + 1)

    sim.update(company.realm_id, "Invoice", target, {"PrivateNote": "after the prefetch"})

    [fresh] = company.rows(f"select * from Invoice where Id = '{target}'")
    assert fresh["PrivateNote"] == "after the prefetch"
    assert company.get(f"invoice/{target}").json()["Invoice"]["PrivateNote"] == "after the prefetch"


def test_without_cache_or_prefetch_answers_are_the_same(qbo_sim_factory: SimFactory) -> None:
    cached = Company(qbo_sim_factory(companies=1, records_per_company=600))
    plain = Company(qbo_sim_factory(companies=1, records_per_company=600, render_cache_mb=0, prefetch=False))

    for start in (1, 51, 101):
        statement = PAGE.format(start=start)
        strip = {"time"}
        first = {k: v for k, v in cached.query(statement).json().items() if k not in strip}
        again = {k: v for k, v in cached.query(statement).json().items() if k not in strip}
        other = {k: v for k, v in plain.query(statement).json().items() if k not in strip}
        assert first == again
        assert [r["Id"] for r in first["QueryResponse"]["Invoice"]] == [
            r["Id"] for r in other["QueryResponse"]["Invoice"]
        ]
