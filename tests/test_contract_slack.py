"""The contract's clauses as Slack meets them: signed slash commands to the real bolt app, on SQLite and PostgreSQL,
and what the fake Web API received: other suppliers' seats, the City leading a question between suppliers to its
clarification, Affärsforum's authority, reports owed and flagged, changes announced to GSIT 2.0, and a war room that
reaches a central supplier through GSIT 2.0's service desk."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from bot.clock import STOCKHOLM
from handlers.slack_chat import SlackChat, web_client
from tests.conftest import BACKENDS

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", BACKENDS, indirect=True)]

EVA, KARIN, LARS, JOHAN, PER, LENA = "U01EVALIND", "U01KARINBG", "U01LARSHLM", "U02JOHANEK", "U0PERSTRAND", "U0LENA"


@pytest.fixture
def slack(slack_app):  # type: ignore[no-untyped-def]
    slack_app.fake.users.update({PER: "per.strand@skolplattform.example", LENA: "lena.dahl@netops.example"})
    slack_app.fake.usergroups["S02SDJOUR"] = ["U02SDJOUR1"]
    return slack_app


def sweep(slack) -> int:  # type: ignore[no-untyped-def]
    core = slack.runtime.core
    core.plan()
    return core.duty_runner(SlackChat(web_client("xoxb-test", slack.fake.base_url)), "sweeper",
                            timedelta(minutes=2)).sweep()


def texts_in(slack, channel: str, containing: str = "", timeout: float = 10.0,  # type: ignore[no-untyped-def]
             count: int = 1) -> list[str]:
    """What a channel or a person's direct messages show, once at least `count` such messages have arrived."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m.get("text") or "" for m in slack.fake.posted(channel) if containing in (m.get("text") or "")]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def test_an_other_supplier_proposes_an_item_for_the_operational_meeting(slack) -> None:  # type: ignore[no-untyped-def]
    assert slack.ask("/forum", "agenda operativt-samverkansmote add Gemensam inloggning", PER).startswith(
        "Punkten är anmäld till Operativt samverkansmöte")
    agenda = slack.ask("/forum", "agenda operativt-samverkansmote", EVA)
    assert "Ordförande/sammankallande: Stadsledningskontoret" in agenda
    assert "Gemensam inloggning (anmäld av per.strand)" in agenda
    assert slack.ask("/forum", "agenda kontraktsforum add X", PER).startswith("Bara parter som deltar")


def test_the_city_leads_a_question_between_suppliers_to_its_clarification(slack) -> None:  # type: ignore[no-untyped-def]
    opened = slack.ask("/disagreement", "open network-ops Vem felsöker inloggning via WLAN", PER)
    assert opened.startswith("Oenigheten är registrerad som *D-1*") and "Staden" in opened
    [to_eva] = texts_in(slack, f"D{EVA}", "D-1")
    assert "<@U01EVALIND>" in to_eva and "<@U01KARINBG>" in to_eva  # the City, mentioned
    assert "Lena Dahl" in to_eva and texts_in(slack, f"D{LENA}", "D-1")  # the other organisation's people too
    assert not texts_in(slack, f"D{JOHAN}", "D-1", timeout=0)
    assert slack.ask("/disagreement", "escalate D-1 Ingen enighet", PER).startswith(
        "D-1 är en fråga mellan leverantörer som Staden")
    assert slack.ask("/disagreement", "clarify D-1 Nätdriften felsöker till accesspunkten", PER).startswith(
        "Bara Stadens Centrala Beställarorganisation klargör")
    assert slack.ask("/disagreement", "clarify D-1 Nätdriften felsöker till accesspunkten", EVA).startswith(
        "D-1 är klargjord (K-1): Nätdriften felsöker till accesspunkten.")
    [clarified] = texts_in(slack, f"D{PER}", "klargjord av Staden")
    assert "K-1" in clarified
    for channel, messages in slack.fake.messages.items():
        if not channel.startswith("D"):
            assert not any("D-1" in (m.get("text") or "") for m in messages), channel


def test_at_the_business_forum_only_its_authority_settles(slack) -> None:  # type: ignore[no-untyped-def]
    slack.ask("/disagreement", "open supplier nivå=affarsforum Vite för tillgänglighet", EVA)
    slack.ask("/disagreement", "propose D-1 Halva vitet", JOHAN)
    assert slack.ask("/disagreement", "accept D-1", EVA).startswith("Du kan inte ta ställning")
    assert slack.ask("/disagreement", "accept D-1", JOHAN).startswith("Du har godtagit")
    assert slack.ask("/disagreement", "accept D-1", LARS) == "D-1 är avgjord: Halva vitet"


def test_a_report_is_delivered_as_a_link_and_a_missing_one_is_flagged(slack, clock) -> None:  # type: ignore[no-untyped-def]
    link = "https://intranat.example/avtal.pdf"
    # Slack hands over a link typed in a command as <https://…> (the manifest's should_escape).
    assert slack.ask("/forum", f"report kontraktsforum avtalsuppfoljning <{link}>", JOHAN).startswith(
        "Avtalsuppföljning och avvikelser är lämnad till Kontraktsforum tisdag 19 januari 2027")
    [post] = texts_in(slack, "#forum-kontraktsforum", "📄")
    assert f"<{link}|{link}>" in post
    assert slack.ask("/forum", "report kontraktsforum avtalsuppfoljning X", PER).startswith(
        "Bara Leverantörens personer")
    sweep(slack)
    clock.set(datetime(2027, 1, 15, 10, 1, tzinfo=STOCKHOLM))
    sweep(slack)
    sweep(slack)  # a second sweep flags nothing twice
    [flag] = [t for t in texts_in(slack, f"D{KARIN}", "har inte kommit in") if "till Kontraktsforum" in t]
    assert flag.startswith("⚠️ *Eskalerade frågor* (Leverantören) till Kontraktsforum")
    agenda = slack.ask("/forum", "agenda kontraktsforum", EVA)
    assert f"lämnad av Johan Ek måndag 11 januari 2027 kl. 09:00: <{link}|{link}>" in agenda and "*saknas*" in agenda


def test_a_change_to_e_mail_is_announced_to_gsits_weekly_meeting(slack) -> None:  # type: ignore[no-untyped-def]
    answer = slack.ask("/deploy", "announce e-post 2027-01-20 18:00 Ny Outlook-profil", JOHAN)
    assert "GSIT 2.0 veckovis avstämningsmöte måndag 18 januari 2027" in answer
    assert texts_in(slack, "#forum-gsit-veckomote", "Ny Outlook-profil")
    assert texts_in(slack, "#forum-produktionssattning", "Ny Outlook-profil")


def test_a_war_room_on_the_id_portal_reaches_its_supplier_through_gsit(slack) -> None:  # type: ignore[no-untyped-def]
    assert "är deklarerad" in slack.ask("/incident", 'declare "ID-portalen nere" id-portal 1', EVA)
    [invite] = slack.fake.wait_for("conversations.inviteShared")
    assert invite.params["emails"] == "servicedesk@gsit.example"
    assert all(c.params["emails"] != "jour@idportal.example" for c in slack.fake.calls_to("conversations.inviteShared"))
    room = slack.fake.channel_named("mi-20270111-id-portalen-nere")
    [brief] = texts_in(slack, room, "Större incident MI-1")
    assert "nås genom GSIT 2.0-leverantörens service desk" in brief
