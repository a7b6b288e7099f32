"""Section 4.6 in dialogue with the core on SQLite and PostgreSQL: the supplier's Kundansvarig owes the City
underlag for its IT reporting per tertial (April, August, year-end) and for the annual IT accounts, reminded and
flagged like reports; the City's central ordering organisation asks for reports at short notice, the Kundansvarig
is told at once and reminded, and a late one is flagged to whoever asked."""

from __future__ import annotations

import io
import json
from datetime import datetime

import pytest

from bot.clock import STOCKHOLM
from bot.forum.underlag import due_times
from samverkan.export import export
from tests.conftest import Dialogue

EVA, KARIN, LARS, JOHAN, MARIA, PER = ("U01EVALIND", "U01KARINBG", "U01LARSHLM", "U02JOHANEK", "U02MARIASD",
                                       "U0PERSTRAND")


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


def items(talk: Dialogue) -> list[tuple[str | None, str, datetime, str | None]]:
    with talk.core.unit_of_work() as uow:
        return [(i.key, i.ref, i.due, i.delivered_by) for i in uow.forum.every_underlag()]


def test_the_model_owes_tertial_and_annual_accounts_input_from_the_kundansvarig(talk: Dialogue) -> None:
    model = talk.core.model
    tertial, accounts = model.underlag
    assert (tertial.key, tertial.owner, tertial.roles, tertial.to) == ("tertial", "supplier", ["kundansvarig"], "city")
    assert tertial.due == ["04-10", "08-20", "01-15"]  # April, August and the year-end accounts ("i bokslut")
    assert (accounts.key, accounts.owner, accounts.roles, accounts.to) == ("itbokslut", "supplier", ["kundansvarig"],
                                                                         "city")
    assert model.short_notice is not None and (model.short_notice.requested_by, model.short_notice.owner,
                                               model.short_notice.roles) == ("city", "supplier", ["kundansvarig"])
    # Due at noon; on a day that is no working day, the working day before (10 April 2027 is a Saturday).
    year = due_times(tertial, datetime(2027, 1, 1, tzinfo=STOCKHOLM), datetime(2027, 12, 31, tzinfo=STOCKHOLM))
    assert [d.strftime("%Y-%m-%d %H:%M") for d in year] == ["2027-01-15 12:00", "2027-04-09 12:00",
                                                            "2027-08-20 12:00"]


def test_tertial_input_is_flagged_when_missing_and_the_annual_accounts_input_is_reminded(talk: Dialogue) -> None:
    [(key, ref, due, _)] = items(talk)
    assert key == "tertial" and due == datetime(2027, 1, 15, 12, 0, tzinfo=STOCKHOLM)
    at(talk, 2027, 1, 15, 11, 59)
    assert dms(talk, KARIN, ref) == []
    at(talk, 2027, 1, 15, 12, 0)
    [flag] = dms(talk, KARIN, ref)
    assert flag == (f"⚠️ *{ref} Underlag till stadens tertialrapportering om it* (Leverantören) skulle ha lämnats "
                    "senast fredag 15 januari 2027 kl. 12:00 men har inte kommit in.")
    assert len(dms(talk, EVA, ref)) == 1 and dms(talk, LARS, ref) == []  # the City's people with authority
    at(talk, 2027, 1, 15, 12, 5)
    assert talk.say("johan.ek", f"/forum deliver {ref} https://intranat.example/tertial.xlsx") == (
        f"{ref} är lämnad: Underlag till stadens tertialrapportering om it ⚠️ *för sent*")
    [told] = [t for t in dms(talk, KARIN, ref) if t.startswith("📄")]
    assert "lämnad av Johan Ek: https://intranat.example/tertial.xlsx ⚠️ *för sent*" in told
    assert talk.say("johan.ek", f"/forum deliver {ref} igen").startswith(f"{ref} är redan lämnad")
    # The annual IT accounts' input (due Monday 15 February) is planned as it comes into view and reminded to the
    # Kundansvarig ten working days before, not to his colleagues.
    at(talk, 2027, 1, 25, 9, 0)
    accounts = [r for k, r, _, _ in items(talk) if k == "itbokslut"]
    assert len(accounts) == 1
    at(talk, 2027, 2, 1, 12, 0)
    [reminder] = dms(talk, JOHAN, accounts[0])
    assert reminder == (f"Påminnelse: *{accounts[0]} Underlag till stadens it-bokslut* ska lämnas senast måndag 15 "
                        f"februari 2027 kl. 12:00. Lämna med `/forum deliver {accounts[0]} <länk eller text>`.")
    assert dms(talk, MARIA, accounts[0]) == []
    listed = talk.say("eva.lind", "/forum underlag")
    assert listed.startswith("*Underlag och rapporter till staden* (2)")
    assert (f"• *{ref}* Underlag till stadens tertialrapportering om it (avsnitt 4.6) – senast fredag 15 januari"
            in listed)
    assert f"*{accounts[0]}* Underlag till stadens it-bokslut (avsnitt 4.6)" in listed and "ska lämnas" in listed


def test_a_report_asked_for_at_short_notice_is_told_at_once_reminded_and_flagged_when_late(talk: Dialogue) -> None:
    answer = talk.say("karin.berg", "/forum request 2027-01-13 14:00 Antal utbytta datorer per skola i december")
    ref = answer.split("*")[1]
    assert answer == (f"Begäran är registrerad som *{ref}*, att lämnas senast onsdag 13 januari 2027 kl. 14:00 av "
                      "Leverantören. Underrättade: Johan Ek.")
    # The Kundansvarig, who prioritises it, is told at once; nobody else at the supplier.
    [asked] = dms(talk, JOHAN, ref)
    assert asked == (f"📝 *{ref}*: Karin Berg (Staden (Stadens Centrala Beställarorganisation)) begär med kort varsel, "
                     "senast onsdag 13 januari 2027 kl. 14:00: Antal utbytta datorer per skola i december\n"
                     f"Lämna med `/forum deliver {ref} <länk eller text>`.")
    assert dms(talk, MARIA, ref) == []
    # Reminded when three quarters of the time given has passed (53 hours: at 00:45 on the 13th).
    at(talk, 2027, 1, 13, 0, 44)
    assert len(dms(talk, JOHAN, ref)) == 1
    at(talk, 2027, 1, 13, 0, 45)
    assert dms(talk, JOHAN, ref)[-1].startswith(f"Påminnelse: *{ref} Antal utbytta datorer per skola i december*")
    # Late: flagged to whoever asked.
    at(talk, 2027, 1, 13, 14, 0)
    [flag] = [t for t in dms(talk, KARIN, ref) if t.startswith("⚠️")]
    assert flag.startswith(f"⚠️ *{ref} Antal utbytta datorer per skola i december* (Leverantören) skulle ha lämnats")
    assert [t for t in dms(talk, EVA, ref) if t.startswith("⚠️")] == []
    talk.say("johan.ek", f"/forum deliver {ref} 412 datorer, fördelning i bifogad fil")
    assert any(t.startswith(f"📄 *{ref}") and "412 datorer" in t for t in dms(talk, KARIN, ref))
    with talk.core.unit_of_work() as uow:
        kinds = [e.kind for e in uow.events.history(kind_prefix="forum.underlag", limit=10)]
    assert sorted(kinds) == ["forum.underlag_delivered", "forum.underlag_requested"]


def test_who_may_ask_deliver_and_see(talk: Dialogue) -> None:
    ref = talk.say("karin.berg", "/forum request 2027-01-20 Kostnad per elevdator").split("*")[1]
    assert talk.say("johan.ek", "/forum request 2027-01-20 Något").startswith(
        "Bara Staden (Stadens Centrala Beställarorganisation)s personer begär")
    assert talk.say("karin.berg", f"/forum deliver {ref} Svar").startswith("Bara Leverantörens personer lämnar")
    missing = talk.say(PER, "/forum deliver U-999 x").replace("U-999", ref)
    assert talk.say(PER, f"/forum deliver {ref} x") == missing  # one that does not concern it does not exist to it
    assert talk.say(PER, "/forum underlag").startswith("Bara Leverantörens och Staden")
    assert "Kostnad per elevdator (begärd av karin.berg)" in talk.say("maria.sund", "/forum underlag")


def test_bad_input_is_explained_and_nothing_is_saved(talk: Dialogue) -> None:
    before = items(talk)
    say = lambda line: talk.say("karin.berg", line)  # noqa: E731
    assert say("/forum request").startswith("Skriv `/forum request <datum> [tid] <vad som behövs>`")
    assert say("/forum request 2027-01-20").startswith("Skriv `/forum request")
    assert say("/forum request 2027-01-20 14:00").startswith("Skriv `/forum request")
    assert say("/forum request imorgon Något").startswith('"imorgon" är inget datum')
    assert say("/forum request 2026-12-01 Något").startswith("2026-12-01 har redan varit")
    assert say("/forum request 2031-01-01 Något").startswith("2031-01-01 ligger för långt fram")
    assert say("/forum request 2027-01-20 25:00 Något").startswith('"25:00"')
    assert talk.say("johan.ek", "/forum deliver").startswith("Skriv `/forum deliver <U-nr>")
    assert items(talk) == before and not [text for _, text in talk.chat.directs if "📝" in text]


def test_english_and_the_export(talk: Dialogue) -> None:
    from bot.app import Samverkan

    core = talk.core
    english = Dialogue(Samverkan(core.model, core.unit_of_work, core.clock, talk.chat, lang="en"), talk.chat)
    answer = english.say("karin.berg", "/forum request 2027-01-12 Licences per school")
    ref = answer.split("*")[1]
    assert answer.startswith(f"The request is recorded as *{ref}*, to be delivered by Lead supplier by")
    assert english.say("johan.ek", f"/forum deliver {ref} 1 200 licences") == f"{ref} is delivered: Licences per school"
    out = io.StringIO()
    with talk.core.unit_of_work() as uow:
        export(uow, talk.core.model, "json", out)
    [record] = [r for r in json.loads(out.getvalue())["underlag"] if r["ref"] == ref]
    assert record["requested_by"] == "karin.berg" and record["content"] == "1 200 licences" and not record["late"]
