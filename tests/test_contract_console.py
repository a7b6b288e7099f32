"""The contract's clauses in the console, as a person would try them: typed as directory people, with the clock
moved by hand, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.conftest import transcript

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                                     indirect=True)


def test_other_suppliers_take_their_seats_and_section_7_is_the_city_executive_offices(console) -> None:  # type: ignore[no-untyped-def]
    said = transcript(console, "/as per.strand", "/forum agenda operativt-samverkansmote add Gemensam inloggning",
                      "/forum agenda operativt-samverkansmote", "/forum agenda kontraktsforum add X")
    assert "Punkten är anmäld till Operativt samverkansmöte torsdag 4 mars 2027 kl. 13:00" in said
    assert "Ordförande/sammankallande: Stadsledningskontoret" in said
    assert "• Stadens Övriga Leverantörer: Leverantör av Skolplattformen" in said
    assert "Bara parter som deltar i Kontraktsforum kan göra det." in said


def test_a_question_between_suppliers_is_led_by_the_city_and_clarified(console) -> None:  # type: ignore[no-untyped-def]
    said = transcript(console, "/as per.strand", "/disagreement open supplier Gränsdragning för inloggning",
                      "/as johan.ek", "/disagreement escalate D-1 Ingen enighet",
                      "/as eva.lind", "/disagreement clarify D-1 Leverantören äger klienten, Skolplattformen "
                                      "inloggningen", "/disagreement show D-1")
    assert "[DM → Eva Lind] Samverkan: *D-1 Gränsdragning för inloggning*" in said
    assert "Leder: @Eva Lind, @Karin Berg" in said
    assert "D-1 är en fråga mellan leverantörer som Staden (Stadens Centrala Beställarorganisation) leder" in said
    assert "D-1 är klargjord (K-1): Leverantören äger klienten, Skolplattformen inloggningen." in said
    assert "[DM → Johan Ek] Samverkan: *D-1 Gränsdragning för inloggning* (Leverantör av Skolplattformen – " \
           "Leverantören) är klargjord av Staden" in said
    assert "är nu en *formell tvist*" not in said


def test_local_it_support_settles_and_the_business_forum_answers_through_its_authority(console) -> None:  # type: ignore[no-untyped-def]
    said = transcript(console, "/as eva.lind", "/samverkan role add maria.sund lokalt-kundansvarig",
                      "/as anna.strom", "/disagreement open supplier Laddare på Västberga skola",
                      "/as maria.sund", "/disagreement propose D-1 Leverantören byter laddarna",
                      "/disagreement accept D-1", "/as anna.strom", "/disagreement accept D-1",
                      "/as eva.lind", "/disagreement open supplier nivå=affarsforum Vite",
                      "/as johan.ek", "/disagreement propose D-2 Halva vitet", "/disagreement accept D-2",
                      "/as karin.berg", "/disagreement accept D-2", "/as lars.holm", "/disagreement accept D-2")
    assert "D-1 är avgjord: Leverantören byter laddarna" in said
    assert "Du kan inte ta ställning till förslaget i D-2" in said
    assert "D-2 är avgjord: Halva vitet" in said


def test_reports_are_reminded_delivered_and_flagged(console) -> None:  # type: ignore[no-untyped-def]
    said = transcript(console, "/as johan.ek", "/clock 2027-01-13 10:00",
                      "/forum report kontraktsforum avtalsuppfoljning https://intranat.example/avtal.pdf",
                      "/clock 2027-01-15 10:01", "/forum agenda kontraktsforum")
    assert ("[DM → Johan Ek] Samverkan: Påminnelse: *Avtalsuppföljning och avvikelser* till Kontraktsforum tisdag "
            "19 januari 2027 kl. 10:00 ska lämnas senast fredag 15 januari 2027 kl. 10:00.") in said
    assert "[#forum-kontraktsforum] Samverkan: 📄 *Avtalsuppföljning och avvikelser*" in said
    assert ("[DM → Karin Berg] Samverkan: ⚠️ *Eskalerade frågor* (Leverantören) till Kontraktsforum tisdag 19 januari "
            "2027 kl. 10:00 skulle ha lämnats senast fredag 15 januari 2027 kl. 10:00 men har inte kommit in.") in said
    assert "lämnad av Johan Ek onsdag 13 januari 2027 kl. 10:00: https://intranat.example/avtal.pdf" in said
    assert "Rapport: Eskalerade frågor (Leverantören) – skulle lämnas senast fredag 15 januari 2027 kl. 10:00 – " \
           "⚠️ *saknas*" in said


def test_service_desk_collaboration_meets_when_convened(console) -> None:  # type: ignore[no-untyped-def]
    said = transcript(console, "/as per.strand", "/forum agenda servicedesk-samverkan add Ärenden studsar",
                      "/clock 2027-01-25 09:01", "/as johan.ek", "/forum extra servicedesk-samverkan 2027-01-28 10:00",
                      "/forum agenda servicedesk-samverkan")
    assert "Punkten står på den stående dagordningen för Service Desk-samverkan" in said
    assert "[#samverkan-servicedesk] Samverkan: @Service Desk jour: 1 punkt har väntat" in said
    assert "📅 *Service Desk-samverkan* – torsdag 28 januari 2027 kl. 10:00–11:00" in said
    assert "1. Ärenden studsar (anmäld av per.strand)" in said


def test_changes_for_gsits_weekly_meeting_are_announced_and_war_rooms_reach_central_suppliers_through_it(
        console) -> None:  # type: ignore[no-untyped-def]
    said = transcript(console, "/as johan.ek", "/deploy announce e-post 2027-01-20 18:00 Ny Outlook-profil",
                      "/as eva.lind", '/incident declare "ID-portalen nere" id-portal 1')
    assert "[#forum-gsit-veckomote] Samverkan: 🚀 *Planerad produktionssättning P-1*" in said
    assert "bjuder in servicedesk@gsit.example till #mi-20270111-id-portalen-nere via Slack Connect" in said
    assert "jour@idportal.example" not in said
