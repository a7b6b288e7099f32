"""The forums as the contract seats them, in dialogue with the core on SQLite and PostgreSQL: the other suppliers take
their seats, section 7's forums are the City Executive Office's, each catalogue's service forum seats its owners,
Service Desk-samverkan meets as needed, GSIT 2.0's weekly meeting takes announced changes, and war rooms reach the
central suppliers through GSIT 2.0's service desk."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.clock import STOCKHOLM, ManualClock
from bot.forum.reminders import attendance
from tests.conftest import Dialogue

PER, NINA, SARA = "U0PERSTRAND", "U0NINA", "U0SARANORD"


@pytest.fixture
def talk(dialogue: Dialogue) -> Dialogue:
    dialogue.chat.emails.update({PER: "per.strand@skolplattform.example", NINA: "nina.vik@devices.example",
                                 SARA: "sara.nord@slk.stockholm.example"})
    dialogue.chat.usergroups["S02SDJOUR"] = ["U02SDJOUR1"]
    return dialogue


def at(talk: Dialogue, when: datetime) -> None:
    talk.core.clock.set(when)  # type: ignore[attr-defined]
    talk.core.tick()


def posted(talk: Dialogue, channel: str) -> list[str]:
    return talk.chat.posted_in(channel)


# -- other suppliers take their seats -------------------------------------------------------------------------------
@pytest.mark.parametrize("forum", ["operativt-samverkansmote", "samverkansforum", "produktionssattning",
                                   "problemmote", "nyckelleverantorsmote", "arkitekturrad"])
def test_an_other_supplier_proposes_agenda_items_where_it_has_a_seat(talk: Dialogue, forum: str) -> None:
    assert talk.say(PER, f"/forum agenda {forum} add Gemensam inloggning").startswith("Punkten är anmäld till")
    assert "1. Gemensam inloggning (anmäld av per.strand)" in talk.say("eva.lind", f"/forum agenda {forum}")


def test_where_the_contract_gives_an_other_supplier_no_seat_it_is_refused(talk: Dialogue) -> None:
    refused = talk.say(PER, "/forum agenda kontraktsforum add X")
    assert refused == "Bara parter som deltar i Kontraktsforum kan göra det."
    # The product supplier is not one of the "other suppliers": it has its own forum.
    assert talk.say(NINA, "/forum agenda problemmote add X").startswith("Bara parter som deltar")
    assert talk.say(NINA, "/forum agenda forum-it-service add Garantier").startswith("Punkten är anmäld")


def test_other_suppliers_are_listed_as_a_class_and_may_have_the_reminders(talk: Dialogue, clock: ManualClock) -> None:
    talk.core.tick()
    assert talk.say(PER, "/forum subscribe problemmote").startswith("Du får nu påminnelserna")
    at(talk, datetime(2027, 1, 14, 10, 0, tzinfo=STOCKHOLM))  # a week before Problemmöte 21 January
    [reminder] = posted(talk, "#forum-problemmote")
    assert ("• Stadens Övriga Leverantörer: Leverantör av Skolplattformen, Leverantör av nätdrift (WAN/LAN/WLAN), "
            "Telefonileverantör, Licensåterförsäljare, S:t Erik Kommunikation AB") in reminder
    assert (PER, reminder) in talk.chat.directs


def test_a_class_seat_with_roles_names_who_holds_them_and_who_does_not(talk: Dialogue) -> None:
    # Arkitekturråd's seat for the other suppliers, as if it required their chief architects.
    talk.say("eva.lind", "/samverkan role add per.strand chefsarkitekt")
    model = talk.core.model
    forum = model.forum("arkitekturrad")
    assert forum is not None
    changed = forum.model_copy(update={"attendees": [*forum.attendees[:3],
                                                     forum.attendees[3].model_copy(update={"roles": ["chefsarkitekt"]}),
                                                     forum.attendees[4]]})
    with talk.core.unit_of_work() as uow:
        lines = [m.plain() for m in attendance(uow, model, changed, talk.core.texts)]
    [line] = [x for x in lines if x.startswith("• Stadens Övriga Leverantörer")]
    assert line.startswith("• Stadens Övriga Leverantörer – Chefsarkitekt: @Per Strand · ⚠️ ingen i katalogen är "
                           "Chefsarkitekt hos Leverantör av nätdrift (WAN/LAN/WLAN), Telefonileverantör")


# -- section 7: Stadsledningskontoret leads ---------------------------------------------------------------------------
def test_the_city_executive_office_convenes_section_7_and_the_ordering_organisation_does_not(talk: Dialogue) -> None:
    assert talk.say("eva.lind", "/forum move arkitekturrad 2027-02-10 2027-02-11").startswith(
        "Bara ordförandepartens personer (Stadsledningskontoret)")
    assert talk.say(SARA, "/forum move arkitekturrad 2027-02-10 2027-02-11 13:00") == (
        "Arkitekturråd: sammanträdet onsdag 10 februari 2027 kl. 13:00 är flyttat till torsdag 11 februari 2027 "
        "kl. 13:00 (av Sara Nord).")
    agenda = talk.say("eva.lind", "/forum agenda nyckelleverantorsmote")
    assert "Ordförande/sammankallande: Stadsledningskontoret" in agenda
    assert "Stadsledningskontoret – Stadens IT-direktör: @Sara Nord" in agenda


def test_the_architecture_council_sits_every_year(talk: Dialogue) -> None:
    coming = talk.say("eva.lind", "/forum next arkitekturrad").splitlines()[1:]
    assert [line.split("*")[2].strip().split(" kl.")[0] for line in coming[:5]] == [
        "onsdag 10 februari 2027", "onsdag 14 april 2027", "onsdag 9 juni 2027", "onsdag 8 september 2027",
        "onsdag 10 november 2027"]


# -- Tjänsteforum: per catalogue, its owners, convened by the City ------------------------------------------------
def test_a_catalogues_service_forum_calls_that_catalogues_owners_only(talk: Dialogue) -> None:
    talk.say("eva.lind", "/samverkan role add maria.sund H")
    devices = talk.say("eva.lind", "/forum agenda tjansteforum-digitala-enheter")
    assert "Staden (Stadens Centrala Beställarorganisation) – Stadens ansvarig Tjänstekatalog Digitala Enheter: " \
           "@Karin Berg" in devices
    assert "Service Desk" not in devices.split("Ska delta:")[1].split("*Dagordning*")[0]
    desk = talk.say("eva.lind", "/forum agenda tjansteforum-service-desk")
    assert "Leverantören – Ansvarig Tjänstekatalog Service Desk: @Maria Sund" in desk
    assert "Ordförande/sammankallande: Staden (Stadens Centrala Beställarorganisation)" in desk
    assert talk.say("johan.ek", "/forum cancel tjansteforum-service-desk 2027-01-12").startswith(
        "Bara ordförandepartens personer")


# -- Service Desk-samverkan: continuous ---------------------------------------------------------------------------
def test_a_continuous_forum_keeps_a_standing_agenda_until_its_chair_convenes(talk: Dialogue,
                                                                           clock: ManualClock) -> None:
    talk.core.tick()
    assert talk.say(PER, "/forum agenda servicedesk-samverkan add Ärenden om inloggning studsar").startswith(
        "Punkten står på den stående dagordningen för Service Desk-samverkan")
    standing = talk.say("eva.lind", "/forum agenda servicedesk-samverkan")
    assert standing.startswith("*Stående dagordning för Service Desk-samverkan* – inget sammanträde inkallat")
    assert "1. Ärenden om inloggning studsar (anmäld av per.strand)" in standing
    assert "när ordföranden kallar" in talk.say("eva.lind", "/forum list")
    # Fourteen days without a sitting: the chair party (the Service Desk's rota, a team) is reminded in the channel.
    at(talk, datetime(2027, 1, 25, 9, 1, tzinfo=STOCKHOLM))
    [nudge] = posted(talk, "#samverkan-servicedesk")
    assert nudge.startswith("@Service Desk jour: 1 punkt har väntat på den stående dagordningen")
    at(talk, datetime(2027, 1, 26, 9, 1, tzinfo=STOCKHOLM))
    assert len(posted(talk, "#samverkan-servicedesk")) == 1  # once
    # The supplier convenes; the waiting item is on that sitting's agenda, and reminded with it.
    assert talk.say("johan.ek", "/forum extra servicedesk-samverkan 2027-01-28 10:00").startswith(
        "Service Desk-samverkan: extra sammanträde torsdag 28 januari 2027 kl. 10:00")
    convened = talk.say(PER, "/forum agenda servicedesk-samverkan")
    assert convened.startswith("📅 *Service Desk-samverkan* – torsdag 28 januari 2027 kl. 10:00–11:00")
    assert "1. Ärenden om inloggning studsar (anmäld av per.strand)" in convened
    at(talk, datetime(2027, 1, 29, 9, 0, tzinfo=STOCKHOLM))  # after that sitting: taken up, no longer waiting
    assert "Inget väntar" in talk.say("eva.lind", "/forum agenda servicedesk-samverkan")


# -- announced changes (8.7, 8.9) ----------------------------------------------------------------------------------
def test_a_change_on_the_administrative_side_is_announced_to_gsits_weekly_meeting_too(talk: Dialogue) -> None:
    answer = talk.say("johan.ek", "/deploy announce e-post 2027-01-20 18:00 Ny Outlook-profil på elevdatorerna")
    ref = answer.split()[1]  # ids come from the database, which PostgreSQL does not roll back
    assert answer == (f"Produktionssättningen {ref} är anmäld. Den står på dagordningen för Samverkan om "
                      "produktionssättningar onsdag 20 januari 2027 kl. 14:00. Den står på dagordningen för GSIT 2.0 "
                      "veckovis avstämningsmöte måndag 18 januari 2027 kl. 10:00.")
    assert any("Ny Outlook-profil" in p for p in posted(talk, "#forum-gsit-veckomote"))
    talk.say("johan.ek", "/deploy announce wlan 2027-01-20 18:00 Ny firmware")
    assert not any("Ny firmware" in p for p in posted(talk, "#forum-gsit-veckomote"))
    talk.core.clock.set(datetime(2027, 1, 18, 11, 0, tzinfo=STOCKHOLM))  # type: ignore[attr-defined]
    weekly = talk.say("maria.sund", "/forum agenda gsit-veckomote")  # the sitting of 25 January
    assert "Ny Outlook-profil" not in weekly  # it was on 18 January's
    late = talk.say("johan.ek", "/deploy announce e-post 2027-01-19 18:00 Byte av certifikat")
    assert "⚠️" in late
    weekly = talk.say("maria.sund", "/forum agenda gsit-veckomote")
    assert "Byte av certifikat" in weekly and "anmäld för sent" in weekly


# -- war rooms reach the central suppliers through GSIT 2.0 -----------------------------------------------------
def test_a_war_room_on_a_central_suppliers_service_invites_gsits_service_desk(talk: Dialogue) -> None:
    answer = talk.say("eva.lind", '/incident declare "ID-portalen nere" id-portal 1')
    assert "är deklarerad" in answer
    [(name, channel)] = talk.chat.channels.items()
    assert talk.chat.shared[channel] == {"servicedesk@gsit.example"}  # not the central supplier's own rota
    brief = talk.chat.posted_in(channel)[0]
    assert "ID-portalen levereras av en central leverantör: den nås genom GSIT 2.0-leverantörens service desk" in brief
