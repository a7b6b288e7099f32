"""Reports owed before sittings (5.2, 8.6, 8.9), in dialogue with the core on SQLite and PostgreSQL: delivered with
`/forum report`, reminded to their owner before they are due, flagged to the chair party when missing, on the agenda
either way, and in the export."""

from __future__ import annotations

import io
import json
from datetime import datetime

import pytest

from bot.clock import STOCKHOLM
from bot.forum.reports import before
from bot.message import Link
from samverkan.export import export
from tests.conftest import Dialogue

EVA, KARIN, JOHAN, PER = "U01EVALIND", "U01KARINBG", "U02JOHANEK", "U0PERSTRAND"
GSIT = "U0GSITSD"  # GSIT 2.0's service desk, of another organisation
LINK = "https://intranat.example/avtalsuppfoljning-2027-01.pdf"


@pytest.fixture
def talk(dialogue: Dialogue) -> Dialogue:
    dialogue.chat.emails[PER] = "per.strand@skolplattform.example"
    dialogue.chat.usergroups["S02SDJOUR"] = ["U02SDJOUR1"]
    dialogue.core.tick()
    return dialogue


def at(talk: Dialogue, *when: int) -> None:
    talk.core.clock.set(datetime(*when, tzinfo=STOCKHOLM))  # type: ignore[attr-defined]
    talk.core.tick()


def dms(talk: Dialogue, user: str, containing: str) -> list[str]:
    return [text for who, text in talk.chat.directs if who == user and containing in text]


def test_the_owner_is_reminded_before_the_report_is_due_and_delivers_it(talk: Dialogue) -> None:
    # Kontraktsforum sits Tuesday 19 January 10:00; its reports are due two working days before (Friday 10:00) and
    # reminded two working days before that (Wednesday 13 January 10:00).
    at(talk, 2027, 1, 13, 9, 59)
    assert dms(talk, JOHAN, "Avtalsuppföljning") == []
    at(talk, 2027, 1, 13, 10, 0)
    [reminder] = dms(talk, JOHAN, "Avtalsuppföljning")
    assert reminder == ("Påminnelse: *Avtalsuppföljning och avvikelser* till Kontraktsforum tisdag 19 januari 2027 "
                        "kl. 10:00 ska lämnas senast fredag 15 januari 2027 kl. 10:00. Lämna den med "
                        "`/forum report kontraktsforum avtalsuppfoljning <länk eller text>`.")
    answer = talk.say("johan.ek", f"/forum report kontraktsforum avtalsuppfoljning {LINK}")
    assert answer == ("Avtalsuppföljning och avvikelser är lämnad till Kontraktsforum tisdag 19 januari 2027 "
                      "kl. 10:00; den står på sammanträdets dagordning.")
    [post] = [p for p in talk.chat.posted_in("#forum-kontraktsforum") if p.startswith("📄")]
    assert post.startswith("📄 *Avtalsuppföljning och avvikelser* till Kontraktsforum") and LINK in post
    [link] = [p for where, m in talk.chat.messages if where == "#forum-kontraktsforum" for line in m.lines
              for p in line.parts if isinstance(p, Link)]
    assert link.url == LINK  # a link, not text that happens to look like one
    # At its due time the delivered report is not flagged; the one still owed is, to the chair party.
    at(talk, 2027, 1, 15, 10, 1)
    assert dms(talk, KARIN, "Avtalsuppföljning") == []
    [flag] = dms(talk, KARIN, "Eskalerade frågor")
    assert flag == ("⚠️ *Eskalerade frågor* (Leverantören) till Kontraktsforum tisdag 19 januari 2027 kl. 10:00 skulle "
                    "ha lämnats senast fredag 15 januari 2027 kl. 10:00 men har inte kommit in.")
    agenda = talk.say("eva.lind", "/forum agenda kontraktsforum")
    assert (f"Rapport: Avtalsuppföljning och avvikelser (Leverantören) – lämnad av Johan Ek onsdag 13 januari 2027 "
            f"kl. 10:00: {LINK}") in agenda
    assert ("Rapport: Eskalerade frågor (Leverantören) – skulle lämnas senast fredag 15 januari 2027 kl. 10:00 – "
            "⚠️ *saknas*") in agenda
    # Delivered late, it is on the agenda, marked.
    talk.say("johan.ek", "/forum report kontraktsforum eskalerade-fragor Inga eskalerade frågor detta kvartal")
    agenda = talk.say("eva.lind", "/forum agenda kontraktsforum")
    assert ("Eskalerade frågor (Leverantören) – lämnad av Johan Ek fredag 15 januari 2027 kl. 10:01: Inga eskalerade "
            "frågor detta kvartal ⚠️ *lämnad för sent*") in agenda


def test_only_the_owners_people_deliver_and_the_report_is_named_when_there_are_several(talk: Dialogue) -> None:
    assert talk.say("karin.berg", f"/forum report kontraktsforum avtalsuppfoljning {LINK}") == (
        "Bara Leverantörens personer kan lämna Avtalsuppföljning och avvikelser till Kontraktsforum.")
    assert talk.say(PER, "/forum report problemmote Vår bild").startswith(
        "Bara Leverantörens personer kan lämna Status- och trendrapport för problem")
    assert talk.say("johan.ek", f"/forum report kontraktsforum {LINK}").startswith(
        "Vilken rapport? Kontraktsforum har: avtalsuppfoljning, eskalerade-fragor.")
    assert talk.say("johan.ek", "/forum report arbetsmiljoforum X") == (
        "Arbetsmiljöforum har inga rapporter som ska lämnas inför sammanträdena.")
    assert talk.say("johan.ek", "/forum report problemmote").startswith("Skriv `/forum report <forum>")
    with talk.core.unit_of_work() as uow:
        assert uow.forum.every_delivered_report() == []


def test_a_missing_problem_report_is_flagged_to_the_chair_and_the_city(talk: Dialogue) -> None:
    # Problemmöte is chaired by the supplier that owes the report: its rota is told in the channel (a team has no
    # inbox), and the City's oversight at the forum hears of it directly.
    at(talk, 2027, 1, 20, 10, 1)
    [flag] = [p for p in talk.chat.posted_in("#forum-problemmote") if "har inte kommit in" in p]
    assert flag.startswith("@Service Desk jour: ⚠️ *Status- och trendrapport för problem* (Leverantören) till "
                           "Problemmöte torsdag 21 januari 2027 kl. 10:00")
    assert dms(talk, EVA, "Status- och trendrapport") and dms(talk, KARIN, "Status- och trendrapport")


def test_the_lead_supplier_reports_to_gsit_before_its_meetings(talk: Dialogue) -> None:
    talk.chat.emails[GSIT] = "servicedesk@gsit.example"
    # "När behov finns" (8.9): GSIT 2.0's service desk, which chairs, calls the lead supplier to a sitting; only the
    # chair may.
    assert talk.say("johan.ek", "/forum call gsit-veckomote 2027-01-18").startswith(
        "Bara ordförandepartens personer (GSIT 2.0-leverantören)")
    assert talk.say(GSIT, "/forum call gsit-veckomote 2027-01-18") == (
        "Inkallat: GSIT 2.0 veckovis avstämningsmöte måndag 18 januari 2027 kl. 10:00. De som deltar vid behov är "
        "underrättade, och rapporterna vid behov ska lämnas.")
    [called] = dms(talk, "U02MARIASD", "📣")
    assert "kallar er till GSIT 2.0 veckovis avstämningsmöte måndag 18 januari 2027 kl. 10:00" in called
    assert "Leverantörens rapportering inför avstämningsmötet" in called
    at(talk, 2027, 1, 14, 10, 0)  # GSIT 2.0's weekly meeting is Monday 18 January: due Friday, reminded Thursday
    [reminder] = dms(talk, "U02MARIASD", "Påminnelse: *Leverantörens rapportering")
    assert "ska lämnas senast fredag 15 januari 2027 kl. 10:00" in reminder
    assert talk.say("maria.sund", "/forum report gsit-veckomote Tre ändringar i klientmiljön, se ändringsloggen"
                    ).startswith("Leverantörens rapportering inför avstämningsmötet är lämnad till GSIT 2.0")
    # A week GSIT does not call, nothing is owed, reminded or flagged, and the seat is not expected.
    at(talk, 2027, 1, 22, 10, 1)
    assert len(dms(talk, "U02MARIASD", "Påminnelse: *Leverantörens rapportering")) == 1
    agenda = talk.say("eva.lind", "/forum agenda gsit-veckomote")
    assert ("Rapport: Leverantörens rapportering inför avstämningsmötet (Leverantören) – vid behov, när ordföranden "
            "kallar") in agenda
    assert "Leverantören – vid behov: ordföranden kallar med `/forum call gsit-veckomote <datum>`" in agenda


def test_a_moved_sitting_moves_the_reports_due_time(talk: Dialogue) -> None:
    talk.say("eva.lind", "/forum move kontraktsforum 2027-01-19 2027-01-26")
    at(talk, 2027, 1, 15, 10, 1)
    assert dms(talk, KARIN, "Eskalerade frågor") == []
    at(talk, 2027, 1, 22, 10, 1)
    assert len(dms(talk, KARIN, "Eskalerade frågor")) == 1


def test_delivered_reports_are_exported(talk: Dialogue) -> None:
    talk.say("johan.ek", f"/forum report kontraktsforum avtalsuppfoljning {LINK}")
    out = io.StringIO()
    with talk.core.unit_of_work() as uow:
        export(uow, talk.core.model, "json", out)
    [report] = [r for r in json.loads(out.getvalue())["reports"] if r["report"] == "avtalsuppfoljning"]
    assert report["content"] == LINK and report["party"] == "supplier" and report["forum"] == "kontraktsforum"
    assert report["sitting"] == "2027-01-19T09:00:00+00:00" and report["by"] == "johan.ek"
    out = io.StringIO()
    with talk.core.unit_of_work() as uow:
        export(uow, talk.core.model, "csv", out)
    assert any(r.startswith("report,avtalsuppfoljning,") and LINK in r for r in out.getvalue().splitlines())


def test_due_days_are_working_days() -> None:
    monday = datetime(2027, 1, 18, 10, 0, tzinfo=STOCKHOLM)
    assert before(monday, "1d") == datetime(2027, 1, 15, 10, 0, tzinfo=STOCKHOLM)
    assert before(monday, "2h") == datetime(2027, 1, 18, 8, 0, tzinfo=STOCKHOLM)
    # Over Easter: Thursday before Good Friday.
    assert before(datetime(2027, 3, 29, 9, 0, tzinfo=STOCKHOLM), "1d") == datetime(2027, 3, 25, 9, 0,
                                                                                   tzinfo=STOCKHOLM)
