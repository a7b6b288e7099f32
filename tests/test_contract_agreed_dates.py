"""Dates "as the Parties agree" (2.1, 5.2), in dialogue with the core on SQLite and PostgreSQL: a moved or cancelled
sitting is told to every attending party directly; a cancellation that leaves a forum longer than its cadence
without a sitting is flagged to the City; the City may add a sitting to any forum."""

from __future__ import annotations

import pytest

from bot.forum.calendar import next_sitting
from tests.conftest import Dialogue

EVA, KARIN, JOHAN, LENA, STERIK = "U01EVALIND", "U01KARINBG", "U02JOHANEK", "U0LENA", "U0STERIK"
DAT = "datakommunikation"  # chaired by the lead supplier; S:t Erik and network operations attend; twice a year


@pytest.fixture
def talk(dialogue: Dialogue) -> Dialogue:
    dialogue.chat.emails.update({LENA: "lena.dahl@netops.example", STERIK: "drift@sterik.example"})
    for user in (LENA, STERIK):
        dialogue.say(user, "/samverkan whoami")  # people of other organisations are linked when first seen
    return dialogue


def dms(talk: Dialogue, user: str, containing: str) -> list[str]:
    return [text for who, text in talk.chat.directs if who == user and containing in text]


def test_a_moved_sitting_is_told_to_every_attending_party(talk: Dialogue) -> None:
    talk.say("johan.ek", f"/forum move {DAT} 2027-03-23 2027-03-25")
    # Network operations through its Kundansvarig (the forum names no role of it), S:t Erik through its people.
    for user in (LENA, STERIK):
        [told] = dms(talk, user, "är flyttat till")
        assert told.startswith("Samverkan om datakommunikation: sammanträdet tisdag 23 mars 2027 kl. 13:00 är flyttat "
                               "till torsdag 25 mars 2027 kl. 13:00 (av Johan Ek)")
    assert dms(talk, JOHAN, "är flyttat till") == []  # who moved it is answered, not messaged


def test_a_cancellation_leaving_the_forum_without_a_sitting_for_longer_than_its_cadence_is_flagged_to_the_city(
        talk: Dialogue) -> None:
    talk.say("johan.ek", f"/forum cancel {DAT} 2027-03-23")
    assert len(dms(talk, LENA, "är inställt")) == 1  # the attending parties are told
    [flag] = dms(talk, KARIN, "⚠️ Samverkan om datakommunikation")
    assert flag.startswith("⚠️ Samverkan om datakommunikation: sammanträdet tisdag 23 mars 2027 kl. 13:00 är inställt "
                           "av Johan Ek (Leverantören) och inget ersätter det, så forumet går")
    assert "längre än dess intervall (minst två gånger per år)" in flag
    assert len(dms(talk, EVA, "⚠️ Samverkan om datakommunikation")) == 1
    with talk.core.unit_of_work() as uow:
        assert [e.subject for e in uow.events.history(kind_prefix="forum.long_gap", limit=5)] == [DAT]
    # The City may add a sitting to a forum it does not chair.
    assert talk.say("karin.berg", f"/forum extra {DAT} 2027-04-20 13:00").startswith(
        "Samverkan om datakommunikation: extra sammanträde")


def test_a_cancellation_with_another_sitting_in_its_place_is_not_flagged(talk: Dialogue) -> None:
    talk.say("johan.ek", f"/forum extra {DAT} 2027-03-30 13:00")
    talk.say("johan.ek", f"/forum cancel {DAT} 2027-03-23")
    assert dms(talk, KARIN, "⚠️ Samverkan om datakommunikation") == []
    # The supplier cannot add sittings to the City's forums, only the chair and the City can.
    assert talk.say("johan.ek", "/forum extra kontraktsforum 2027-02-02 10:00").startswith(
        "Bara ordförandepartens personer (Staden (Stadens Centrala Beställarorganisation)) och Stadens Centrala "
        "Beställarorganisation kan lägga till sammanträden")


def test_the_city_cancelling_its_own_affarsforum_for_half_a_year_is_flagged_too(talk: Dialogue) -> None:
    # Affärsforum sits twice a year; Eva cancels its next sitting: a year without one, so the City is warned.
    found = talk.core.model.forum("affarsforum")
    assert found is not None
    sitting = next_sitting(found, talk.core.clock.now(), [])
    assert sitting is not None
    day = sitting.start.date().isoformat()
    talk.say("eva.lind", f"/forum cancel affarsforum {day}")
    [flag] = dms(talk, KARIN, "⚠️ Affärsforum")
    assert "av Eva Lind (Staden (Stadens Centrala Beställarorganisation)) och inget ersätter det" in flag
    assert dms(talk, EVA, "⚠️ Affärsforum") == []  # not the one who cancelled it
    assert dms(talk, JOHAN, "är inställt")  # the supplier's authorised representative is told of the cancellation
