"""Bilaga 3's forums clause by clause, as the shipped model has them: who convenes each forum, who must attend with
which roles, what is owed before it and how often it sits. docs/contract.md cites these tests row by row, and its
own test checks that each names the row's forum, parties and roles."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.clock import STOCKHOLM
from bot.forum.calendar import sittings
from bot.model import load_model, parties
from bot.model.schema import Forum, GovernanceModel

YEAR = (datetime(2027, 3, 1, tzinfo=STOCKHOLM), datetime(2028, 2, 29, 23, 59, tzinfo=STOCKHOLM))  # a year


@pytest.fixture(scope="module")
def model() -> GovernanceModel:
    return load_model()


def forum(model: GovernanceModel, key: str) -> Forum:
    found = model.forum(key)
    assert found is not None, key
    return found


def seats(model: GovernanceModel, key: str) -> dict[str, list[str]]:
    """Each seat (a party's or a class's key) with the roles it must send, sorted."""
    return {a.ref: sorted(a.roles) for a in forum(model, key).attendees}


def owed(model: GovernanceModel, key: str) -> dict[str, str]:
    """Each report owed before the forum's sittings, with the party that owes it."""
    return {r.key: r.owner for r in forum(model, key).reports}


def per_year(model: GovernanceModel, key: str) -> int:
    return len([s for s in sittings(forum(model, key), *YEAR) if s.held])


# -- 2.1 ------------------------------------------------------------------------------------------------------------
def test_arbetsmiljoforum_is_the_citys_forum_with_the_supplier_twice_a_year(model: GovernanceModel) -> None:
    assert forum(model, "arbetsmiljoforum").chair == ["city"]
    assert seats(model, "arbetsmiljoforum") == {"city": [], "supplier": []}
    assert per_year(model, "arbetsmiljoforum") == 2


# -- 2.2, 2.4 -------------------------------------------------------------------------------------------------------
def test_the_central_suppliers_are_reached_through_gsits_service_desk(model: GovernanceModel) -> None:
    mi = model.major_incidents
    assert mi is not None
    [reach] = mi.reached_through
    assert reach.party_class == "central-supplier"
    assert [(r.party, r.roles) for r in reach.via] == [("gsit", ["servicedesk"])]
    central = model.party("central-systems")
    assert central is not None and "central-supplier" in central.classes


def test_the_lead_suppliers_service_desk_leads_every_war_room(model: GovernanceModel) -> None:
    mi = model.major_incidents
    assert mi is not None
    assert mi.commander.party == "supplier" and mi.commander.roles == ["incidentansvarig-i-tjanst"]
    assert ("supplier", ["incidentansvarig-i-tjanst"]) in [(r.party, r.roles) for r in mi.always]


# -- 5.2 ------------------------------------------------------------------------------------------------------------
def test_where_the_text_names_no_convener_the_city_convenes(model: GovernanceModel) -> None:
    for key in ("tjansteforum", "andringshantering", "releaseplaner", "samverkansforum"):
        assert forum(model, key).chair == ["city"], key


def test_kontraktsforum_and_tjansteforum_are_held_in_the_citys_premises(model: GovernanceModel) -> None:
    assert (forum(model, "kontraktsforum").place or "").startswith("Stadshuset")
    assert (forum(model, "tjansteforum").place or "").startswith("Utbildningsförvaltningen")


def test_the_supplier_reports_before_kontraktsforum_and_overgripande_tjansteforum(model: GovernanceModel) -> None:
    assert owed(model, "kontraktsforum") == {"avtalsuppfoljning": "supplier", "eskalerade-fragor": "supplier"}
    assert owed(model, "overgripande-tjansteforum") == {"tjanstenivaer": "supplier"}


def test_kontraktsforum_is_the_citys_quarterly_with_the_suppliers_kundansvarig(model: GovernanceModel) -> None:
    assert forum(model, "kontraktsforum").chair == ["city"]
    assert seats(model, "kontraktsforum") == {"city": ["avtalsansvarig"], "supplier": ["kundansvarig"]}
    assert per_year(model, "kontraktsforum") == 4


def test_overgripande_tjansteforum_seats_the_kundansvarig_and_the_teknisk_kundansvarig(
        model: GovernanceModel) -> None:
    assert forum(model, "overgripande-tjansteforum").chair == ["city"]
    assert seats(model, "overgripande-tjansteforum")["supplier"] == ["kundansvarig", "teknisk-kundansvarig"]
    assert per_year(model, "overgripande-tjansteforum") == 4
    # It is the escalation level for the service forums (the rung above tjansteforum), and kontraktsforum is its.
    rungs = [r.forum for r in model.ladder.rungs]  # type: ignore[union-attr]
    assert rungs.index("overgripande-tjansteforum") == rungs.index("tjansteforum") + 1
    assert rungs.index("kontraktsforum") == rungs.index("overgripande-tjansteforum") + 1


def test_leveransuppfoljning_is_convened_by_the_supplier_with_its_uppdragsledare_and_kundansvarig(
        model: GovernanceModel) -> None:
    assert forum(model, "leveransuppfoljning").chair == ["supplier"]
    assert seats(model, "leveransuppfoljning") == {"city": [], "supplier": ["kundansvarig", "uppdragsledare"]}
    assert owed(model, "leveransuppfoljning") == {"leveransrapport": "supplier"}
    assert per_year(model, "leveransuppfoljning") == 12


def test_andringshantering_seats_the_citys_ordering_organisation_and_the_suppliers_andringsansvarig(
        model: GovernanceModel) -> None:
    assert seats(model, "andringshantering") == {"city": [], "supplier": ["andringsansvarig"]}
    assert 51 <= per_year(model, "andringshantering") <= 53  # weekly


def test_verksamhetsforum_seats_the_suppliers_lokalt_kundansvariga_monthly(model: GovernanceModel) -> None:
    assert seats(model, "verksamhetsforum") == {"city": [], "supplier": ["lokalt-kundansvarig"]}
    assert per_year(model, "verksamhetsforum") == 12


def test_samverkansforum_seats_the_other_suppliers_and_the_supplier_with_relevant_knowledge(
        model: GovernanceModel) -> None:
    assert seats(model, "samverkansforum") == {"city": [], "other-supplier": [], "supplier": []}


def test_forum_it_service_seats_the_city_and_both_suppliers_kundansvariga_monthly(model: GovernanceModel) -> None:
    assert seats(model, "forum-it-service") == {"city": [], "supplier": ["kundansvarig"],
                                                "product-supplier": ["kundansvarig"]}
    assert per_year(model, "forum-it-service") == 12


def test_innovationsmote_is_convened_by_the_supplier_for_all_catalogues_twice_a_year(model: GovernanceModel) -> None:
    found = forum(model, "innovationsmote")
    assert found.chair == ["supplier"] and not found.per_catalogue
    assert seats(model, "innovationsmote") == {"city": [], "supplier": []}
    assert per_year(model, "innovationsmote") == 2


# -- 7 --------------------------------------------------------------------------------------------------------------
def test_the_city_executive_office_convenes_the_city_wide_meetings(model: GovernanceModel) -> None:
    for key in ("nyckelleverantorsmote", "operativt-samverkansmote", "arkitekturrad"):
        assert forum(model, key).chair == ["city-exec"], key


def test_nyckelleverantorsmote_seats_the_it_direktor_and_every_suppliers_account_manager(
        model: GovernanceModel) -> None:
    found = seats(model, "nyckelleverantorsmote")
    assert found["city-exec"] == ["it-direktor"] and found["supplier"] == ["kundansvarig"]
    assert {"other-supplier", "central-supplier", "product-supplier"} <= set(found)
    assert per_year(model, "nyckelleverantorsmote") == 4


def test_operativt_samverkansmote_seats_the_kundansvarig_and_every_supplier(model: GovernanceModel) -> None:
    found = seats(model, "operativt-samverkansmote")
    assert found["supplier"] == ["kundansvarig"]
    assert {"other-supplier", "central-supplier", "product-supplier"} <= set(found)
    assert per_year(model, "operativt-samverkansmote") == 4


def test_arkitekturrad_seats_the_chefsarkitekt_and_a_commercial_representative(model: GovernanceModel) -> None:
    found = seats(model, "arkitekturrad")
    assert found["supplier"] == ["chefsarkitekt", "kundansvarig"]  # the Kundansvarig: its commercial mandate
    assert found["city-exec"] == ["it-strateg", "losningsarkitekt"]
    assert 4 <= per_year(model, "arkitekturrad") <= 6


# -- 8 --------------------------------------------------------------------------------------------------------------
def test_servicedesk_samverkan_is_the_suppliers_continuous_meeting_with_the_other_suppliers(
        model: GovernanceModel) -> None:
    found = forum(model, "servicedesk-samverkan")
    assert found.chair == ["supplier"] and found.continuous
    assert seats(model, "servicedesk-samverkan") == {"city": [], "supplier": ["servicedesk"], "other-supplier": []}


def test_produktionssattning_is_called_by_the_suppliers_service_desk_every_other_week(model: GovernanceModel) -> None:
    found = forum(model, "produktionssattning")
    assert found.chair == ["supplier"] and found.announcements == "all"
    assert seats(model, "produktionssattning") == {"city": [], "supplier": ["servicedesk"], "other-supplier": []}
    assert 25 <= per_year(model, "produktionssattning") <= 27


def test_datakommunikation_is_convened_by_the_supplier_with_st_erik_and_network_ops(model: GovernanceModel) -> None:
    assert forum(model, "datakommunikation").chair == ["supplier"]
    assert seats(model, "datakommunikation") == {"st-erik": [], "network-ops": [], "supplier": []}
    assert per_year(model, "datakommunikation") >= 2


def test_gsits_meetings_are_convened_by_gsit_and_the_supplier_reports_to_them(model: GovernanceModel) -> None:
    for key, supplier_roles, report in (("gsit-veckomote", ["andringsansvarig"], "rapportering"),
                                        ("gsit-problemmote", ["servicedesk"], "problemrapport")):
        assert forum(model, key).chair == ["gsit"]
        assert seats(model, key) == {"gsit": ["servicedesk"], "supplier": supplier_roles}
        assert owed(model, key) == {report: "supplier"}
        assert "supplier" in parties.seated(model, forum(model, key))
