"""The shipped model read against the contract (Bilaga 3), clause by clause, and the model's new vocabulary (classes
of parties, reports with owners, continuous forums) explained where it is wrong: file, line and field, once."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.clock import STOCKHOLM
from bot.forum.calendar import sittings
from bot.model import GovernanceModel, ModelError, load_model_text, parties, shipped_model_path

OTHER_SUPPLIERS = ["school-platform", "network-ops", "telephony", "licence-reseller", "st-erik"]


def seated(model: GovernanceModel, key: str) -> list[str]:
    forum = model.sitting_forum(key) or model.forum(key)
    assert forum is not None, key
    return parties.seated(model, forum)


def roles(model: GovernanceModel, forum_key: str, party: str) -> set[str]:
    forum = model.sitting_forum(forum_key)
    assert forum is not None
    return parties.required_roles(model, forum, party)


# -- the shipped model, clause by clause ----------------------------------------------------------------------------
def test_other_suppliers_are_a_class_and_sit_where_the_contract_seats_them(model: GovernanceModel) -> None:
    assert parties.members(model, "other-supplier") == OTHER_SUPPLIERS
    # 5.2 specific services, 7.2, 8.5, 8.6, 8.7: the City and the other suppliers.
    for key in ("samverkansforum", "operativt-samverkansmote", "servicedesk-samverkan", "problemmote",
                "produktionssattning", "nyckelleverantorsmote", "arkitekturrad"):
        assert set(OTHER_SUPPLIERS) <= set(seated(model, key)), key
        assert "city" in seated(model, key), key
    # Where the contract seats only the City and its lead supplier, the other suppliers have no seat.
    for key in ("kontraktsforum", "affarsforum", "overgripande-tjansteforum", "tjansteforum-service-desk"):
        assert not set(OTHER_SUPPLIERS) & set(seated(model, key)), key


def test_the_lead_supplier_sends_people_of_relevant_knowledge_to_the_specific_services_forum(
        model: GovernanceModel) -> None:
    assert roles(model, "samverkansforum", "supplier") == set()  # 5.2: not a fixed Kundansvarig


def test_section_7_forums_are_led_by_the_city_executive_office(model: GovernanceModel) -> None:
    for key in ("nyckelleverantorsmote", "operativt-samverkansmote", "arkitekturrad"):
        forum = model.forum(key)
        assert forum and forum.chair == ["city-exec"], key


def test_the_architecture_council_is_a_rule_that_never_runs_out(model: GovernanceModel) -> None:
    council = model.forum("arkitekturrad")
    assert council and council.rrule and not council.dates
    for year in (2027, 2030, 2040):
        held = [s for s in sittings(council, datetime(year, 1, 1, tzinfo=STOCKHOLM),
                                    datetime(year + 1, 1, 1, tzinfo=STOCKHOLM)) if s.held]
        assert 4 <= len(held) <= 6, year


def test_each_catalogues_service_forum_seats_that_catalogues_owners_and_the_city_convenes(
        model: GovernanceModel) -> None:
    devices = "tjansteforum-digitala-enheter"
    assert roles(model, devices, "city") == {"stadens-ansvarig-digitala-enheter"}
    assert roles(model, devices, "supplier") == {"ansvarig-digitala-enheter"}
    assert roles(model, "tjansteforum-service-desk", "supplier") == {"ansvarig-service-desk"}
    assert model.forum("tjansteforum").chair == ["city"]  # type: ignore[union-attr]


def test_the_business_forums_city_side_is_the_director_of_education_alone(model: GovernanceModel) -> None:
    assert roles(model, "affarsforum", "city") == {"utbildningsdirektor"}
    assert roles(model, "affarsforum", "supplier") == {"kundansvarig"}
    holders = [p.key for p in model.people if "utbildningsdirektor" in p.roles]
    assert holders == ["lars.holm"]
    assert model.role("avtalstecknare") is None  # the signatory is no second role


def test_gsit_holds_two_forums_and_the_lead_supplier_attends_both(model: GovernanceModel) -> None:
    weekly, problems = model.forum("gsit-veckomote"), model.forum("gsit-problemmote")
    assert weekly and problems
    for forum in (weekly, problems):
        assert forum.chair == ["gsit"] and "supplier" in parties.seated(model, forum)
        assert [(r.owner, r.due) for r in forum.reports] == [("supplier", "1d")]
    assert weekly.announcements == "administrative" and problems.announcements is None


def test_service_desk_collaboration_is_continuous(model: GovernanceModel) -> None:
    forum = model.forum("servicedesk-samverkan")
    assert forum and forum.continuous and not forum.sits and forum.convenes
    assert forum.chair == ["supplier"]


def test_meetings_are_held_in_the_citys_premises(model: GovernanceModel) -> None:
    # 5.2: "Om inte annat särskilt överenskommes ska möten hållas på plats i Stadens lokaler". GSIT 2.0's forums are
    # its own to place.
    for forum in model.forums:
        if "gsit" not in forum.chair:
            assert forum.place and ("Stadshuset" in forum.place or "Utbildningsförvaltningen" in forum.place), (
                forum.key)


def test_every_report_has_an_owner_and_a_due_time(model: GovernanceModel) -> None:
    owed = [(f.key, r) for f in model.forums for r in f.reports]
    assert len(owed) >= 10
    assert all(r.owner == "supplier" for _, r in owed)  # 5.2: "Leverantören ska inför möten tillhandahålla"
    assert {f for f, _ in owed} >= {"kontraktsforum", "problemmote", "gsit-veckomote", "gsit-problemmote"}


def test_the_citys_units_are_represented_by_its_central_ordering_organisation(model: GovernanceModel) -> None:
    service_forum = model.sitting_forum("tjansteforum-digitala-enheter")
    local = model.sitting_forum("lokal-samverkan")
    assert service_forum and local
    assert parties.speaker(model, service_forum, "city-local") == "city"
    assert parties.speaker(model, local, "city-local") == "city-local"
    assert parties.is_city(model, "city-exec") and not parties.is_city(model, "gsit")


def test_central_suppliers_are_reached_through_gsits_service_desk(model: GovernanceModel) -> None:
    assert model.major_incidents
    [reach] = model.major_incidents.reached_through
    assert reach.party_class == "central-supplier"
    assert [(r.party, r.roles) for r in reach.via] == [("gsit", ["servicedesk"])]
    assert parties.of(model, "central-systems", "central-supplier")


# -- the model's new vocabulary, explained where it is wrong ---------------------------------------------------------
def broken(old: str, new: str) -> str:
    text = shipped_model_path().read_text(encoding="utf-8")
    assert old in text, old
    return text.replace(old, new, 1)


def explained(text: str) -> tuple[str, list[str]]:
    with pytest.raises(ModelError) as caught:
        load_model_text(text, source="m.yaml")
    explanation = caught.value.explain("sv")
    return explanation, explanation.splitlines()[1:]


def line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


@pytest.mark.parametrize(("old", "new", "field", "says"), [
    ("attendees: [{party: city}, {class: other-supplier}, {party: supplier}]",
     "attendees: [{party: city}, {class: other-suppliers}, {party: supplier}]",
     "forums[9].attendees[1].class", 'partsklassen "other-suppliers" finns inte under `party_classes`'),
    ("    classes: [other-supplier]\n  - key: network-ops", "    classes: [others]\n  - key: network-ops",
     "parties[7].classes[0]", 'partsklassen "others" finns inte'),
    ("    chair: [city-exec]\n    attendees: [{party: city-exec, roles: [it-direktor]}",
     "    chair: [city-exe]\n    attendees: [{party: city-exec, roles: [it-direktor]}",
     "forums[13].chair[0]", '"city-exe" är varken en part under `parties` eller en partsklass'),
    ("attendees: [{party: city}, {class: other-supplier}, {party: supplier}]",
     "attendees: [{party: city}, {class: other-supplier, party: telephony}, {party: supplier}]",
     "forums[9].attendees[1]", "ange antingen `party` eller `class`"),
    ("owner: supplier, due: 5d, remind: 5d}\n  - key: kontraktsforum",
     "owner: suplier, due: 5d, remind: 5d}\n  - key: kontraktsforum",
     "forums[1].reports[0].owner", 'parten "suplier" finns inte'),
    ("    continuous: true\n", "    continuous: true\n    rrule: \"FREQ=WEEKLY\"\n    starts: 2026-01-01\n",
     "forums[18]", "ett löpande forum (`continuous: true`) har inga egna datum"),
    ("{key: service-desk, name: {sv: Service Desk, en: Service desk}, owner_roles: [ansvarig-service-desk, "
     "stadens-ansvarig-service-desk]}",
     "{key: service-desk, name: {sv: Service Desk, en: Service desk}, owner_roles: [ansvarig-service-desk]}",
     "catalogues[1].owner_roles", 'forumet "tjansteforum" kräver av "city"'),
    ("    represented_by: city\n  - key: city-local", "    represented_by: city-exec\n  - key: city-local",
     "parties[1].represented_by", '"city-exec" kan inte företrädas av sig själv'),
    ("{class: central-supplier, via: [{party: gsit, roles: [servicedesk]}]}",
     "{class: central, via: [{party: gsit, roles: [servicedesk]}]}",
     "major_incidents.reached_through[0].class", 'partsklassen "central" finns inte'),
    ("announcements: administrative", "announcements: some", "forums[22].announcements",
     '"some" är inte tillåtet'),
])
def test_a_mistake_in_the_new_vocabulary_is_explained_by_line_and_field(old: str, new: str, field: str,
                                                                        says: str) -> None:
    text = broken(old, new)
    explanation, problems = explained(text)
    [problem] = [p for p in problems if f", {field}: " in p]
    # Where the mistake is: the changed line, or for a rule about a whole forum, the forum's first line.
    where = "  - key: servicedesk-samverkan" if field == "forums[18]" else new.splitlines()[0]
    assert problem.startswith(f"  m.yaml, rad {line_of(text, where)}, "), explanation
    assert says in problem, explanation
    assert len(problems) == 1, explanation  # once, and nothing else


def test_a_class_may_not_share_a_key_with_a_party() -> None:
    text = broken("  - key: central-supplier\n", "  - key: gsit\n")
    _, problems = explained(text)
    assert any("party_classes[1].key" in p and "redan nyckeln för en part" in p for p in problems), problems


def test_a_services_unknown_contact_is_reported_once() -> None:
    text = broken("contacts: [noc, sterik-drift]", "contacts: [noc, nobody]")
    _, problems = explained(text)
    assert problems == [f'  m.yaml, rad {line_of(text, "contacts: [noc, nobody]")}, services[1].contacts[1]: '
                        'personen "nobody" finns inte under `people`']


def test_a_forum_may_be_chaired_by_a_class() -> None:
    head = ("  - key: servicedesk-samverkan\n    name: {sv: Service Desk-samverkan, en: Service desk coordination}\n"
            "    channel: \"#samverkan-servicedesk\"\n    cadence: {sv: löpande, en: continuous}\n")
    model = load_model_text(broken(head + "    chair: [supplier]", head + "    chair: [other-supplier]"))
    forum = model.forum("servicedesk-samverkan")
    assert forum is not None
    assert parties.chairs(model, forum, "telephony") and not parties.chairs(model, forum, "supplier")
