"""The native surfaces in dialogue with the core (the fast tier, on SQLite and PostgreSQL): a click is its command,
a message kept current is updated only when it looks different and at most once a second, a Home is published
only when it changed, each person's language is read once and remembered, and the console has the same buttons as
numbered choices, a /home and a /lang."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.message import Message
from bot.native import buttons, home, language
from samverkan.console import open_console
from samverkan.settings import Settings
from tests.conftest import BACKENDS, Dialogue

EVA, KARIN, JOHAN, MARIA = "U01EVALIND", "U01KARINBG", "U02JOHANEK", "U02MARIASD"


def click(talk: Dialogue, user: str, action: str, value: str) -> str:
    """A click, as the platform hands it over: the command it stands for, through the same pipeline."""
    before = len(talk.chat.replies)
    command = buttons.click(action, value, user, f"D{user}", talk.core.clock.now())
    assert command is not None
    talk.core.handle(command)
    [answer] = [text for uid, text in talk.chat.replies[before:] if uid == user]
    return answer


def test_a_click_is_the_command_it_names_and_nothing_else() -> None:
    from datetime import UTC, datetime

    now = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)
    command = buttons.click("disagreement.accept", "D-7", KARIN, "D1", now, trigger_id="1.2")
    assert command is not None and (command.name, command.text, command.trigger_id) == ("disagreement", "accept D-7",
                                                                                       "1.2")
    assert buttons.click("forum.report:2", "kontraktsforum eskalerade-fragor", JOHAN, None, now).text == (
        "report kontraktsforum eskalerade-fragor")
    # Not a row of the permission matrix, or not ours at all: no command.
    for action in ("disagreement.settle", "samverkan", "static_select-action", "forum.done:x"):
        assert buttons.click(action, "x", KARIN, "D1", now) is None


def test_every_button_names_a_row_of_the_permission_matrix() -> None:
    from bot.permissions import MATRIX

    for action in buttons.ACTIONS:
        command, sub = action.split(".")
        assert sub in MATRIX[command], action


@pytest.mark.parametrize("sessions", BACKENDS, indirect=True)
def test_a_notice_is_updated_when_it_changes_and_at_most_once_a_second(dialogue: Dialogue) -> None:
    talk, chat, clock = dialogue, dialogue.chat, dialogue.core.clock
    answer = talk.say("johan.ek", "/disagreement open city nivå=kontraktsforum Vite för sena leveranser")
    d = answer.split("*")[1]
    [(where, notice)] = [(w, m) for w, m in chat.messages if w == f"dm:{KARIN}" and d in m.plain()]
    assert [(b.action, b.value) for b in notice.buttons] == [("disagreement.propose", d)]
    talk.say("karin.berg", f"/disagreement comment {d} Vi läser avtalet")  # nothing the notice shows
    assert chat.updates == []
    talk.say("karin.berg", f"/disagreement propose {d} Halva vitet")
    [(_, ref, shown)] = chat.updates
    assert "*Förslag* från Karin Berg" in shown.plain()
    assert [b.action for b in shown.buttons] == ["disagreement.accept", "disagreement.reject"]
    assert click(talk, JOHAN, "disagreement.accept", d).startswith(f"Du har godtagit förslaget i {d}")
    assert len(chat.updates) == 1  # updated this very second already: the rest waits for the next
    clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]
    talk.core.tick()
    assert len(chat.updates) == 2 and "Godtaget av 1 part: Leverantören." in chat.updates[-1][2].plain()
    talk.core.tick()
    assert len(chat.updates) == 2  # nothing changed: nothing sent


@pytest.mark.parametrize("sessions", BACKENDS, indirect=True)
def test_a_notice_drawn_before_a_change_is_drawn_again_once_written_down(dialogue: Dialogue,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A notice goes out drawn as the disagreement stood; if it changes while the notice is on its way (before it is
    written down, so the change's own redraw cannot find it), the redraw after writing it down must catch it."""
    talk, chat = dialogue, dialogue.chat
    send = chat.direct
    changed: list[str] = []

    def direct(user_id: str, message: Message, key: str | None = None) -> str:
        ref = send(user_id, message, key)
        found = re.search(r"D-\d+", message.plain())
        if user_id == KARIN and found and not changed:
            changed.append(found[0])  # Karin proposes while her own notice is still on its way
            talk.say("karin.berg", f"/disagreement propose {found[0]} Halva vitet")
        return ref

    monkeypatch.setattr(chat, "direct", direct)
    talk.say("johan.ek", "/disagreement open city nivå=kontraktsforum Vite för sena leveranser")
    assert changed, "Karin was sent no notice"
    first = next(m for w, m in chat.messages if w == f"dm:{KARIN}" and changed[0] in m.plain())
    assert "Förslag:* inget ännu" in first.plain()  # drawn before the proposal
    mine = [shown for to, _, shown in chat.updates if to == KARIN]
    assert mine and "*Förslag* från Karin Berg" in mine[-1].plain()


@pytest.mark.parametrize("sessions", BACKENDS, indirect=True)
def test_a_home_is_published_only_when_it_changed(dialogue: Dialogue) -> None:
    talk, chat = dialogue, dialogue.chat
    assert home.opened(talk.core, JOHAN)
    assert not home.opened(talk.core, JOHAN)  # the same: not sent again
    assert len(chat.homes[JOHAN]) == 1
    talk.say("karin.berg", "/forum action kontraktsforum johan.ek 2027-02-01 Ta fram tidplan")
    assert len(chat.homes[JOHAN]) == 2
    actions = next(s for s in chat.homes[JOHAN][-1].sections if s.heading.plain() == "Dina öppna åtgärder")
    [item] = actions.items
    assert item.plain().startswith("*A-") and [b.action for b in item.buttons] == ["forum.done"]
    talk.say("karin.berg", "/forum decision kontraktsforum Vitet halveras")  # not on Johan's Home
    assert len(chat.homes[JOHAN]) == 2
    assert home.opened(talk.core, JOHAN, shown=False)  # the platform shows nothing of ours: sent again


@pytest.mark.parametrize("sessions", BACKENDS, indirect=True)
def test_a_persons_language_is_read_from_their_locale_once_and_remembered(dialogue: Dialogue) -> None:
    talk, chat = dialogue, dialogue.chat
    chat.locales[KARIN] = "en-GB"
    assert talk.say("karin.berg", "/forum decision kontraktsforum Vitet halveras").startswith(
        "The decision is recorded")
    assert chat.posted_in("#forum-kontraktsforum")[-1].startswith("*Beslut i Kontraktsforum:*")
    chat.locales[KARIN] = "sv-SE"  # a later change of locale is not asked for with every command
    assert talk.say("karin.berg", "/samverkan whoami").startswith("You are")
    assert language.of(talk.core, KARIN, fresh=True) == "sv"  # opening the Home asks again
    assert talk.say("karin.berg", "/samverkan whoami").startswith("Du är")
    language.choose(talk.core, KARIN, "en")  # chosen: the locale no longer decides
    assert language.of(talk.core, KARIN, fresh=True) == "en"
    chat.locales[MARIA] = "de-DE"  # neither language: the default
    assert talk.say("maria.sund", "/samverkan whoami").startswith("Du är")


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_the_console_has_numbered_choices_a_home_and_a_language(database_url: str, clock: ManualClock) -> None:
    out = io.StringIO()
    console = open_console(Settings(database_url=database_url, samverkan_lang="sv"), clock, out)
    try:
        for line in ("/as karin.berg", "/forum action kontraktsforum johan.ek 2027-02-01 Ta fram tidplan",
                     "/as johan.ek", "/home"):
            console.say(line)
        shown = out.getvalue()
        assert "Dina öppna åtgärder\n  • *A-1* Ta fram tidplan · Kontraktsforum · senast 2027-02-01" in shown
        number = shown.split("*A-1* Ta fram tidplan")[1].split("[")[1].split("]")[0]
        start = out.tell()
        console.say(number)  # presses Done
        assert "A-1 är klar: Ta fram tidplan" in out.getvalue()[start:]
        start = out.tell()
        console.say("99")
        assert "Det finns ingen knapp nummer 99" in out.getvalue()[start:]
        start = out.tell()
        console.say("/lang en")
        console.say("/samverkan whoami")
        said = out.getvalue()[start:]
        assert "Samverkan now writes to you in English." in said and "You are *Johan Ek*" in said
        with console.runtime.core.unit_of_work() as uow:
            assert uow.languages.get("U02JOHANEK").chosen
    finally:
        console.runtime.close()

