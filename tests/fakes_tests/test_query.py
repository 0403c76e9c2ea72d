"""The query endpoint: paging, limits, inactive name-list rows, filters, COUNT and parser errors."""

from __future__ import annotations

import re
from datetime import timedelta

import requests

from tests.fakes.qbo import QboSimulator
from tests.fakes.qbo.fixtures import SimFactory
from tests.fakes.qbo.timefmt import parse_iso
from tests.fakes_tests.client import Company, decimal_json, fault_code


def test_pages_with_startposition_and_maxresults_cover_every_row_once(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    total = qbo_sim.count(company.realm_id, "Invoice")
    seen: list[str] = []
    start = 1
    while True:
        page = company.rows(
            f"SELECT * FROM Invoice ORDERBY Metadata.LastUpdatedTime STARTPOSITION {start} MAXRESULTS 7"
        )
        seen.extend(row["Id"] for row in page)
        if len(page) < 7:
            break
        start += 7

    assert len(seen) == total == len(set(seen))


def test_page_reports_start_position_and_size(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)

    body = company.query("select * from Invoice startposition 3 maxresults 5").json()

    assert body["QueryResponse"]["startPosition"] == 3
    assert body["QueryResponse"]["maxResults"] == 5
    assert len(body["QueryResponse"]["Invoice"]) == 5
    assert body["time"]


def test_default_page_size_is_100(qbo_sim_factory: SimFactory) -> None:
    company = Company(qbo_sim_factory(companies=1, records_per_company=2000))

    assert len(company.rows("select * from Invoice")) == 100


def test_maxresults_above_1000_is_a_fault_and_1000_is_served(qbo_sim_factory: SimFactory) -> None:
    company = Company(qbo_sim_factory(companies=1, records_per_company=6000))

    too_many = company.query("select * from Invoice maxresults 1001")

    assert too_many.status_code == 400
    assert fault_code(too_many) == "4000"
    assert len(company.rows("select * from Invoice maxresults 1000")) == 1000


def test_rows_come_in_last_updated_order(qbo_sim: QboSimulator) -> None:
    rows = Company(qbo_sim).rows("select * from Bill orderby Metadata.LastUpdatedTime maxresults 1000")
    stamps = [parse_iso(row["MetaData"]["LastUpdatedTime"]) for row in rows]

    assert stamps == sorted(stamps)


def test_last_updated_filter_is_inclusive(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    rows = company.rows("select * from Invoice maxresults 1000")
    pivot = rows[len(rows) // 2]["MetaData"]["LastUpdatedTime"]

    newer = company.rows(f"select * from Invoice where Metadata.LastUpdatedTime >= '{pivot}' maxresults 1000")

    assert newer[0]["MetaData"]["LastUpdatedTime"] == pivot
    assert all(parse_iso(r["MetaData"]["LastUpdatedTime"]) >= parse_iso(pivot) for r in newer)
    assert len(newer) == len(
        [r for r in rows if parse_iso(r["MetaData"]["LastUpdatedTime"]) >= parse_iso(pivot)]
    )


def test_name_lists_hide_inactive_rows_unless_active_in_true_false(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)

    default = company.rows("select * from Customer maxresults 1000")
    everything = company.rows("select * from Customer where Active IN (true, false) maxresults 1000")

    assert all(row["Active"] for row in default)
    assert any(not row["Active"] for row in everything)
    assert len(everything) == qbo_sim.count(company.realm_id, "Customer", include_inactive=True)
    assert len(default) == qbo_sim.count(company.realm_id, "Customer", include_inactive=False)


def test_active_in_combines_with_last_updated_filter(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    statement = (
        "SELECT * FROM Customer WHERE Metadata.LastUpdatedTime >= '2000-01-01T00:00:00-07:00' "
        "AND Active IN (true,false) ORDERBY Metadata.LastUpdatedTime STARTPOSITION 1 MAXRESULTS 1000"
    )

    assert len(company.rows(statement)) == qbo_sim.count(company.realm_id, "Customer")


def test_count_star(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)

    body = company.query("SELECT COUNT(*) FROM Invoice").json()

    assert body["QueryResponse"] == {"totalCount": qbo_sim.count(company.realm_id, "Invoice")}


def test_empty_page_has_no_entity_key(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)

    body = company.query("select * from Invoice startposition 100000").json()

    assert body["QueryResponse"] == {}
    assert "time" in body


def test_keywords_and_entity_are_case_insensitive_and_post_is_accepted(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)

    lower = company.rows("select * from invoice where metadata.lastupdatedtime > '2000-01-01' maxresults 3")
    posted = requests.post(
        f"{company.url}/query",
        data="SELECT * FROM Invoice MAXRESULTS 3",
        headers={**company.headers(), "Content-Type": "application/text"},
        timeout=10,
    )

    assert [r["Id"] for r in lower] == [r["Id"] for r in decimal_json(posted)["QueryResponse"]["Invoice"]]


def test_bad_query_is_fault_4000(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)

    for statement in (
        "SELEC * FROM Invoice",
        "select * from Nope",
        "select * from Invoice where Foo ~ 1",
        "select * from Invoice maxresults x",
    ):
        answer = company.query(statement)
        assert answer.status_code == 400, statement
        assert fault_code(answer) == "4000"
        assert answer.json()["Fault"]["Error"][0]["Message"] == "Error parsing query"


def test_non_numeric_minorversion_is_rejected_and_any_number_accepted(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)

    assert company.get("query", query="select * from Term", minorversion="4").status_code == 200
    assert company.get("query", query="select * from Term", minorversion="abc").status_code == 400


def test_deleted_rows_disappear_from_queries(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    before = qbo_sim.count(company.realm_id, "Invoice")

    qbo_sim.delete(company.realm_id, "Invoice", "2")

    ids = [row["Id"] for row in company.rows("select * from Invoice maxresults 1000")]
    assert "2" not in ids
    assert len(ids) == before - 1


def test_updated_record_moves_to_the_end_of_last_updated_order(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    qbo_sim.clock_offset = timedelta(seconds=5)

    updated = qbo_sim.update(company.realm_id, "Invoice", "1", {"PrivateNote": "changed"})

    rows = company.rows("select * from Invoice orderby Metadata.LastUpdatedTime maxresults 1000")
    assert rows[-1]["Id"] == "1"
    assert rows[-1]["PrivateNote"] == "changed"
    assert rows[-1]["SyncToken"] == updated["SyncToken"]


def test_id_conditions_select_single_records(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)

    one = company.rows("select * from Invoice where Id = '7'")
    some = company.rows("select * from Invoice where Id in ('3', '5', '999999')")

    assert [row["Id"] for row in one] == ["7"]
    assert sorted(row["Id"] for row in some) == ["3", "5"]


def test_descending_order_and_upper_bound(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    ascending = company.rows("select * from Bill orderby Metadata.LastUpdatedTime maxresults 1000")
    pivot = ascending[10]["MetaData"]["LastUpdatedTime"]

    descending = company.rows("select * from Bill orderby Metadata.LastUpdatedTime desc maxresults 1000")
    older = company.rows(f"select * from Bill where Metadata.LastUpdatedTime < '{pivot}' maxresults 1000")

    assert [r["Id"] for r in descending] == [r["Id"] for r in reversed(ascending)]
    assert {r["Id"] for r in older} == {
        r["Id"] for r in ascending if parse_iso(r["MetaData"]["LastUpdatedTime"]) < parse_iso(pivot)
    }


def test_active_false_selects_only_inactive_rows(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)

    inactive = company.rows("select * from Customer where Active = false maxresults 1000")

    assert inactive
    assert all(row["Active"] is False for row in inactive)
    total = qbo_sim.count(company.realm_id, "Customer")
    assert len(inactive) == total - qbo_sim.count(company.realm_id, "Customer", include_inactive=False)


def test_selected_fields_come_back_sparse(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)

    rows = company.rows("select Id, SyncToken, TotalAmt from Invoice maxresults 5")

    full = company.rows("select * from Invoice maxresults 5")
    assert rows == [
        {
            "Id": r["Id"],
            "SyncToken": r["SyncToken"],
            "TotalAmt": r["TotalAmt"],
            "domain": "QBO",
            "sparse": True,
        }
        for r in full
    ]
    assert re.search(rb'"TotalAmt":\d+\.\d\d[,}]', company.query("select Id, TotalAmt from Invoice").content)


def test_data_responses_carry_an_intuit_tid(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)

    first, second = company.query("select * from Term"), company.query("select * from Nope")

    assert len(first.headers["intuit_tid"]) == 32
    assert first.headers["intuit_tid"] != second.headers["intuit_tid"]
