"""Leveransuppföljning's decision (5.2), in dialogue with the core on SQLite and PostgreSQL: before each sitting the
supplier owes the month's delivery report; the City's central ordering organisation, through its authorised
approvers, formally approves or rejects each month's service levels and KPIs and settles any service credit; a month
left undecided is flagged to the City; the register is listed and exported."""

from __future__ import annotations

import io
import json
from datetime import datetime

import pytest

from bot.clock import STOCKHOLM
from samverkan.export import export
from tests.conftest import Dialogue

EVA, KARIN, LARS, JOHAN, PER = "U01EVALIND", "U01KARINBG", "U01LARSHLM", "U02JOHANEK", "U0PERSTRAND"
CHANNEL = "#forum-leveransuppfoljning"


@pytest.fixture
def talk(dialogue: Dialogue) -> Dialogue:
    dialogue.chat.emails[PER] = "per.strand@skolplattform.example"
    dialogue.core.tick()
    return dialogue


def at(talk: Dialogue, *when: int) -> None:
    talk.core.clock.set(datetime(*when, tzinfo=STOCKHOLM))  # type: ignore[attr-defined]
    talk.core.tick()


def dms(talk: Dialogue, user: str, containing: str) -> list[str]:
    return [text for who, text in talk.chat.directs if who == user and containing in text]


def register(talk: Dialogue) -> list[tuple[str, bool, int | None, str]]:
    with talk.core.unit_of_work() as uow:
        return [(d.month, d.approved, d.credit_sek, d.by) for d in uow.forum.service_level_decisions()]


def test_the_model_seats_the_decision_at_leveransuppfoljning_with_the_citys_approvers(talk: Dialogue) -> None:
    found = talk.core.model.forum("leveransuppfoljning")
    assert found is not None and found.service_levels is not None
    assert found.chair == ["supplier"]  # the supplier convenes (5.2) ...
    # The City decides, through its authorised approvers.
    assert found.service_levels.decided_by == "city" and found.service_levels.authority == "approver"
    assert found.service_levels.decide_within == 5
    # ... and owes the month's service-level report before each sitting, as every report.
    [report] = found.reports
    assert report.key == "leveransrapport" and report.owner == "supplier"


def test_the_citys_approvers_approve_one_month_and_reject_another_with_a_credit(talk: Dialogue) -> None:
    assert talk.say("karin.berg", "/forum sla 2026-12 godkänn Samtliga servicenivåer uppfyllda") == (
        "Registrerat: servicenivåerna och nyckeltalen för 2026-12 är formellt godkända (Leveransuppföljning).")
    assert talk.say("eva.lind", "/forum sla 2026-11 underkänn kredit=12500 Tillgängligheten 98,1 % mot 99,5 %") == (
        "Registrerat: servicenivåerna och nyckeltalen för 2026-11 är formellt underkända med servicekredit 12 500 kr "
        "(Leveransuppföljning).")
    # The forum's parties read it in its channel (the supplier convenes it and sits there).
    posts = [p for p in talk.chat.posted_in(CHANNEL) if p.startswith("📋")]
    assert posts == [
        "📋 Servicenivåerna och nyckeltalen för *2026-12* är formellt *godkända* av Staden (Stadens Centrala "
        "Beställarorganisation) (Karin Berg): Samtliga servicenivåer uppfyllda",
        "📋 Servicenivåerna och nyckeltalen för *2026-11* är formellt *underkända* med servicekredit 12 500 kr av "
        "Staden (Stadens Centrala Beställarorganisation) (Eva Lind): Tillgängligheten 98,1 % mot 99,5 %"]
    assert register(talk) == [("2026-11", False, 12500, "eva.lind"), ("2026-12", True, None, "karin.berg")]
    # One decision a month.
    assert talk.say("eva.lind", "/forum sla 2026-12 underkänn Fel").startswith(
        "Servicenivåerna för 2026-12 är redan godkända av karin.berg")
    assert len(register(talk)) == 2
    # The register: to the forum's parties, the supplier too; in the event log and the export.
    listed = talk.say("johan.ek", "/forum sla lista")
    assert listed.startswith("*Servicenivåer – beslut i Leveransuppföljning* (2)")
    assert "• *2026-11*: underkända med servicekredit 12 500 kr – eva.lind" in listed
    assert "• *2026-12*: godkända – karin.berg" in listed
    with talk.core.unit_of_work() as uow:
        events = [e.subject for e in uow.events.history(kind_prefix="forum.service_levels_decided", limit=10)]
    assert sorted(events) == ["2026-11", "2026-12"]
    out = io.StringIO()
    with talk.core.unit_of_work() as uow:
        export(uow, talk.core.model, "json", out)
    records = json.loads(out.getvalue())["service_levels"]
    assert [(r["month"], r["decision"], r["credit_sek"], r["by"]) for r in records] == [
        ("2026-11", "rejected", 12500, "eva.lind"), ("2026-12", "approved", None, "karin.berg")]
    out = io.StringIO()
    with talk.core.unit_of_work() as uow:
        export(uow, talk.core.model, "csv", out)
    assert any(row.startswith("service_levels,2026-11,") and "rejected" in row and "12500" in row
               for row in out.getvalue().splitlines())


def test_only_the_citys_authorised_approvers_decide_and_only_the_forums_parties_read_the_register(
        talk: Dialogue) -> None:
    refusal = ("Bara Staden (Stadens Centrala Beställarorganisation)s behöriga godkännare beslutar om månadens "
               "servicenivåer")
    # The Director of Education is of the City but no authorised approver; the supplier convenes but does not decide.
    for who in ("lars.holm", "johan.ek", "maria.sund"):
        assert talk.say(who, "/forum sla 2026-12 godkänn Ok").startswith(refusal), who
    # The school platform's supplier does not sit at Leveransuppföljning: it sees no register.
    assert talk.say(PER, "/forum sla lista").startswith(refusal)
    assert register(talk) == []
    # Once granted the authority in writing (4.7), the Director of Education may.
    talk.say("eva.lind", "/samverkan authority grant lars.holm approver")
    assert talk.say("lars.holm", "/forum sla 2026-12 godkänn Ok").startswith("Registrerat")


def test_bad_input_is_explained_and_nothing_is_saved(talk: Dialogue) -> None:
    say = lambda line: talk.say("karin.berg", line)  # noqa: E731
    assert say("/forum sla").startswith("Skriv `/forum sla <ÅÅÅÅ-MM>")
    assert say("/forum sla december godkänn Ok") == '"december" är ingen månad. Skriv månaden som 2027-01.'
    assert say("/forum sla 2026-13 godkänn Ok").startswith('"2026-13" är ingen månad')
    assert say("/forum sla 2027-01 godkänn Ok").startswith("2027-01 är inte slut än")  # the clock is in January 2027
    assert say("/forum sla 2024-01 godkänn Ok").startswith("2024-01 ligger mer än 24 månader bakåt")
    assert say("/forum sla 2026-12 kanske Ok").startswith('"kanske" är varken godkänn eller underkänn')
    assert say("/forum sla 2026-12 underkänn kredit=mycket Ok").startswith('"mycket" är inget belopp')
    assert say("/forum sla 2026-12 underkänn kredit=0 Ok").startswith('"0" är inget belopp')
    assert say("/forum sla 2026-12 underkänn kredit=5000").startswith("Skriv en motivering")
    assert say("/forum sla 2026-12").startswith("Skriv `/forum sla <ÅÅÅÅ-MM>")
    assert register(talk) == [] and not [p for p in talk.chat.posted_in(CHANNEL) if p.startswith("📋")]
    assert talk.say("eva.lind", "/forum sla lista") == (
        "Inga beslut om servicenivåer i registret för Leveransuppföljning än.")


def test_english_words_and_texts(talk: Dialogue) -> None:
    from bot.app import Samverkan

    core = talk.core
    english = Dialogue(Samverkan(core.model, core.unit_of_work, core.clock, talk.chat, lang="en"), talk.chat)
    assert english.say("karin.berg", "/forum sla 2026-12 reject credit=7500kr Service desk answer times") == (
        "Recorded: the service levels and KPIs for 2026-12 are formally rejected with a service credit of SEK 7 500 "
        "(Delivery follow-up).")
    assert english.say("karin.berg", "/forum sla 2026-12 approve Ok").startswith(
        "The service levels for 2026-12 are already rejected by karin.berg")
    assert english.say("karin.berg", "/forum sla 2026-11 maybe Ok").startswith('"maybe" is neither approve nor reject')
    assert english.say("johan.ek", "/forum sla list").startswith(
        "*Service levels – decisions at Delivery follow-up* (1)")


def test_a_month_left_undecided_is_flagged_to_the_city_and_a_decided_one_is_not(talk: Dialogue) -> None:
    # Leveransuppföljning sits Wednesday 13 January 2027 10:00-11:30 and follows up December 2026; five working days
    # later (Wednesday 20 January 11:30) December is still undecided.
    at(talk, 2027, 1, 20, 11, 29)
    assert dms(talk, KARIN, "2026-12") == []
    at(talk, 2027, 1, 20, 11, 30)
    [flag] = dms(talk, KARIN, "2026-12")
    assert flag == ("⚠️ Servicenivåerna och nyckeltalen för *2026-12* är ännu varken godkända eller underkända: "
                    "Leveransuppföljning hölls onsdag 13 januari 2027 kl. 10:00, och 5 arbetsdagar har gått. Besluta "
                    "med `/forum sla 2026-12 godkänn|underkänn [kredit=<kronor>] <motivering>`.")
    assert len(dms(talk, EVA, "2026-12")) == 1  # both authorised approvers of the City ...
    assert dms(talk, JOHAN, "2026-12") == [] and dms(talk, LARS, "2026-12") == []  # ... and nobody else
    assert "• *2026-12*: inte beslutad (följdes upp onsdag 13 januari 2027 kl. 10:00) ⚠️ försenad" in talk.say(
        "eva.lind", "/forum sla lista")
    at(talk, 2027, 1, 25, 9, 0)
    assert len(dms(talk, KARIN, "2026-12")) == 1  # flagged once
    # January is decided in time (its sitting is Wednesday 10 February): nothing is flagged for it.
    at(talk, 2027, 2, 3, 9, 0)
    talk.say("karin.berg", "/forum sla 2027-01 godkänn Uppfyllda")
    at(talk, 2027, 2, 17, 12, 0)
    assert dms(talk, KARIN, "2027-01") == []
    assert "2026-12*: inte beslutad" in talk.say("eva.lind", "/forum sla lista")
