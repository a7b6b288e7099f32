"""Issue 18, item 5: one attendee cannot silence a forum. Sixty agenda items of 2,000 characters still leave a
reminder that every platform takes (summarised, the whole agenda one command away, a page at a time), and an item
over its bound is explained, in the person's language, and not saved."""

from __future__ import annotations

import re
from datetime import datetime

from bot.app import Samverkan
from bot.clock import STOCKHOLM, ManualClock
from bot.forum.reminders import REMINDER_ITEM_CHARS, REMINDER_ITEMS
from tests.conftest import Dialogue
from tests.fakes.recording_chat import RecordingChat

KONTRAKT = "#forum-kontraktsforum"
ITEMS = 60


def item(n: int, length: int = 2000) -> str:
    head = f"Punkt {n:02d} "
    return head + "x" * (length - len(head))


def flood(dialogue: Dialogue) -> None:
    for n in range(1, ITEMS + 1):
        assert dialogue.say("johan.ek", f"/forum agenda kontraktsforum add {item(n)}").startswith("Punkten är anmäld")


def test_an_item_over_its_bound_is_explained_and_not_saved(dialogue: Dialogue) -> None:
    answer = dialogue.say("johan.ek", f"/forum agenda kontraktsforum add {item(1, 2001)}")
    assert answer.startswith("En punkt på dagordningen får vara högst 2000 tecken, och din är 2001."), answer
    assert "Punkt 01" not in dialogue.say("eva.lind", "/forum agenda kontraktsforum")
    dialogue.chat.locales["U02MARIASD"] = "en-GB"
    assert dialogue.say("maria.sund", f"/forum agenda kontraktsforum add {item(1, 2500)}").startswith(
        "An agenda item may be at most 2000 characters, and yours is 2500.")


def test_sixty_long_items_give_a_reminder_with_the_first_items_and_the_way_to_the_rest(
        core: Samverkan, chat: RecordingChat, clock: ManualClock, dialogue: Dialogue) -> None:
    core.tick()
    flood(dialogue)
    clock.set(datetime(2027, 1, 12, 10, 0, tzinfo=STOCKHOLM))
    core.tick()
    [reminder] = [text for where, text in chat.posts if where == KONTRAKT]
    assert len(reminder) < 8000, len(reminder)
    shown = re.findall(r"^(\d+)\. Punkt (\d\d) x+…", reminder, re.MULTILINE)
    assert len(shown) == REMINDER_ITEMS and shown[0] == ("1", "01")
    longest = max(len(line) for line in reminder.splitlines() if line.startswith(tuple("0123456789")))
    assert longest <= REMINDER_ITEM_CHARS + 10
    more = ITEMS - REMINDER_ITEMS + 2  # the two reports owed before the sitting are on its agenda too
    assert f"… och {more} punkter till: hela dagordningen med `/forum agenda kontraktsforum`." in reminder


def test_the_whole_agenda_is_read_a_page_at_a_time(dialogue: Dialogue) -> None:
    flood(dialogue)
    first = dialogue.say("eva.lind", "/forum agenda kontraktsforum")
    assert f"1. {item(1)} (anmäld av johan.ek)" in first and "Punkt 60" not in first
    match = re.search(r"Sida 1 av (\d+)\. Nästa: `/forum agenda kontraktsforum sida=2`", first)
    assert match, first[-300:]
    pages = int(match.group(1))
    seen = set()
    for page in range(1, pages + 1):
        text = dialogue.say("eva.lind", f"/forum agenda kontraktsforum sida={page}")
        assert len(text) < 12000
        seen.update(re.findall(r"Punkt (\d\d) x{1900}", text))
    assert seen == {f"{n:02d}" for n in range(1, ITEMS + 1)}  # every item, whole, on some page
    assert "Nästa" not in dialogue.say("eva.lind", f"/forum agenda kontraktsforum sida={pages}")


def test_a_long_standing_agenda_is_read_a_page_at_a_time(dialogue: Dialogue) -> None:
    for n in range(1, 21):
        assert dialogue.say("eva.lind", f"/forum agenda servicedesk-samverkan add {item(n)}").startswith("Punkten")
    first = dialogue.say("eva.lind", "/forum agenda servicedesk-samverkan")
    assert f"1. {item(1)}" in first and "Punkt 20" not in first and len(first) < 12000
    assert "Nästa: `/forum agenda servicedesk-samverkan sida=2`" in first
    last = dialogue.say("eva.lind", "/forum agenda servicedesk-samverkan sida=99")  # past the end: the last page
    assert f"{item(20)}" in last and "Nästa" not in last
