"""Ordinary bad input gets an explanation in the person's language and changes nothing, on both backends; one bad
row kept from before input had bounds does not break the calendar, and can be withdrawn from chat (issue 10,
items 2 and 5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ManualClock
from bot.forum.calendar import Change
from bot.forum.ical import feed
from tests.conftest import Dialogue

EVA, JOHAN = "eva.lind", "johan.ek"
APOLOGY = "Något gick fel"


@pytest.mark.parametrize(("who", "line", "explained"), [
    (EVA, "/forum extra kontraktsforum 9999-12-31 23:59", "ligger för långt fram"),
    (EVA, "/forum move kontraktsforum 2027-01-19 9999-12-31", "ligger för långt fram"),
    (JOHAN, "/deploy announce service-desk 9999-12-31 23:59 x", "ligger för långt fram"),
    (EVA, "/forum action kontraktsforum johan.ek 9999-12-31 x", "ligger för långt fram"),
    (JOHAN, "/deploy cancel 99999999999999999999", "Det finns ingen aktiv anmälan"),
    (EVA, "/incident resolve MI-99999999999999999999 x", "finns inte"),
    (EVA, "/incident resolve MI-99999999999999 x", "finns inte"),
    (EVA, "/forum done ²", "finns inte"),
    (EVA, "/forum done A-²", "finns inte"),
    (EVA, "/disagreement list sida=²", "Nivån"),
    (EVA, "/incident severity MI-1 ²", ""),
    (EVA, "/forum agenda kontraktsforum add Noll\x00byte", "styrtecken"),
    (EVA, "/forum agenda kontrakts\x00forum", "styrtecken"),
    (EVA, "/samverkan person add supplier a@b.example \x07Pip", "styrtecken"),
    (EVA, "/forum agenda kontraktsforum add " + "x" * 2001, "högst 2000"),
    (EVA, "/forum decision kontraktsforum " + "y" * 2001, "högst 2000"),
    (JOHAN, "/disagreement open city " + "z" * 301, "högst 300"),
    (EVA, "/incident declare " + "w" * 151, "Rubriken är 151 tecken"),
    (EVA, "/disagreement show D-99999999999999999999", "finns inte"),
    (EVA, "/forum cancel kontraktsforum 0001-01-01", "har inget sammanträde"),
    (EVA, "/forum next kontraktsforum \U0001F600", "finns inte"),
])
def test_bad_input_is_explained_and_changes_nothing(dialogue: Dialogue, who: str, line: str, explained: str) -> None:
    before = _state(dialogue)
    answer = dialogue.say(who, line)
    assert APOLOGY not in answer and answer, answer
    assert explained in answer, answer
    assert _state(dialogue) == before


def test_a_superscript_digit_is_text_not_a_severity(dialogue: Dialogue) -> None:
    answer = dialogue.say(EVA, "/incident declare Titel ²")
    assert '"Titel ²" (allvarlighetsgrad 4) är deklarerad' in answer


def _state(dialogue: Dialogue) -> tuple:  # type: ignore[type-arg]
    with dialogue.core.unit_of_work() as uow:
        since = datetime(2000, 1, 1, tzinfo=UTC)
        return (len(uow.forum.changes()), len(uow.forum.decisions("kontraktsforum", since)),
                len(uow.forum.agenda_items("kontraktsforum", since)), len(uow.forum.open_actions()),
                len(uow.forum.deployments(since)), len(uow.incidents.declared_between(since)),
                len(uow.disagreements.every()), len(uow.directory.keys()))


def test_a_bad_date_kept_from_before_does_not_break_the_calendar(dialogue: Dialogue, clock: ManualClock) -> None:
    core = dialogue.core
    with core.unit_of_work() as uow:  # as an older version let it in
        far = datetime(9999, 12, 31, 22, 59, tzinfo=UTC)
        uow.forum.save_change(Change("kontraktsforum", "extra", None, far, "eva.lind", clock.now()))
        uow.commit()
    assert "Kontraktsforum" in dialogue.say(EVA, "/forum list")
    assert "tisdag 19 januari 2027" in dialogue.say(EVA, "/forum next kontraktsforum")
    assert "Dagordning" in dialogue.say(EVA, "/forum agenda kontraktsforum")
    core.plan()  # the other sittings still get their reminders
    clock.advance(timedelta(days=1, hours=1))
    core.tick()
    assert any(channel == "#forum-kontraktsforum" for channel, _ in dialogue.chat.posts)
    with core.unit_of_work() as uow:
        changes = {"kontraktsforum": list(uow.forum.changes("kontraktsforum"))}
    assert b"BEGIN:VCALENDAR" in feed(core.model, changes, clock.now(), core.texts)
    # And it is withdrawn from chat, by the forum's chair party, like any sitting.
    assert dialogue.say(JOHAN, "/forum cancel kontraktsforum 9999-12-31").startswith("Bara ordförandepartens")
    withdrawn = dialogue.say(EVA, "/forum cancel kontraktsforum 9999-12-31")
    assert "det extra sammanträdet 9999-12-31 är struket" in withdrawn
    with core.unit_of_work() as uow:
        assert not [c for c in uow.forum.changes("kontraktsforum") if c.kind == "extra"]
