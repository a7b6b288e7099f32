"""Message shortcuts: acting on a message someone wrote, from its menu.

"Raise as disagreement" opens the disagreement form with the message's text in it and its link kept; "Add to a
forum's agenda" asks which forum (among those the person's party attends) with the text to start from; "Add to the
incident timeline" asks which war room (the one it was written in, when it was) and puts the text in its timeline.
Opening a form changes nothing, so it is done straight away; what the form sends back goes through the inbox as the
command it stands for, and the permission matrix is asked again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot import permissions
from bot.chat import Command
from bot.directory.lookup import recognise
from bot.directory.people import Person
from bot.disagreement.commands import TITLE_MAX, opening_form_for
from bot.forms import Form
from bot.i18n import Texts
from bot.message import Message
from bot.native import forms, language
from bot.ports import UnitOfWork

if TYPE_CHECKING:
    from bot.app import Samverkan

RAISE = "disagreement.raise"
AGENDA = "forum.agenda_item"
TIMELINE = "incident.timeline"


@dataclass(frozen=True)
class MessageShortcut:
    """A shortcut chosen on a message: which, by whom, and the message (its text, where it is, its link)."""

    callback: str
    user_id: str
    channel_id: str
    text: str
    link: str
    trigger_id: str
    received_at: datetime
    response_url: str | None = None


Builder = Callable[["Samverkan", UnitOfWork, Person, Texts, MessageShortcut], Form | Message]


def _raise(core: Samverkan, uow: UnitOfWork, person: Person, t: Texts, shortcut: MessageShortcut) -> Form | Message:
    first = next((line.strip() for line in shortcut.text.splitlines() if line.strip()), "")
    return opening_form_for(core.model, t, shortcut.channel_id, title=first[:TITLE_MAX], description=shortcut.text,
                            link=shortcut.link)


def _agenda(core: Samverkan, uow: UnitOfWork, person: Person, t: Texts, shortcut: MessageShortcut) -> Form | Message:
    rule = permissions.rule("forum", "agenda")
    forums = [f for f in core.model.calendar if (f.convenes or f.continuous)
              and rule.allows(permissions.kinds(core.model, uow, person, f))]
    if not forums:
        return t("native.shortcut.no_forum")
    return forms.agenda_item(t, shortcut.channel_id, None, forums, shortcut.text, shortcut.link)


def _timeline(core: Samverkan, uow: UnitOfWork, person: Person, t: Texts,
              shortcut: MessageShortcut) -> Form | Message:
    rule = permissions.rule("incident", "note")
    open_now = [i for i in uow.incidents.open_incidents() if i.state == "open"
                and permissions.may_see_incident(core.model, uow, person, i)
                and rule.allows(permissions.kinds(core.model, uow, person, i))]
    if not open_now:
        return t("native.shortcut.no_incident")
    here = uow.incidents.by_channel(shortcut.channel_id)
    chosen = here.ref if here is not None and here in open_now else (open_now[0].ref if len(open_now) == 1 else None)
    return forms.timeline_note(t, shortcut.channel_id, [(i.ref, i.title) for i in open_now], chosen, shortcut.text,
                               shortcut.link)


SHORTCUTS: dict[str, Builder] = {RAISE: _raise, AGENDA: _agenda, TIMELINE: _timeline}


def build(core: Samverkan, shortcut: MessageShortcut) -> Form | Message | None:
    """The shortcut's form, or what to tell the person instead (not in the directory, nothing to add it to); None
    for a shortcut Samverkan does not have. Reads only: a platform whose dialog must be answered at once (a Teams
    message action's task module) shows the form itself."""
    build_one = SHORTCUTS.get(shortcut.callback)
    if build_one is None:
        return None
    person = recognise(core.unit_of_work, core.chat, shortcut.user_id, core.clock)
    t = Texts(language.of(core, shortcut.user_id))
    if person is None:
        return t("directory.not_in_directory")
    with core.unit_of_work(read_only=True) as uow:
        return build_one(core, uow, person, t, shortcut)


def open_form(core: Samverkan, shortcut: MessageShortcut) -> bool:
    """Opens the shortcut's form, or tells the person (to them alone) why there is none; True when opened."""
    command = Command(name="samverkan", user_id=shortcut.user_id, channel_id=shortcut.channel_id,
                      response_url=shortcut.response_url, trigger_id=shortcut.trigger_id,
                      received_at=shortcut.received_at)
    made = build(core, shortcut)
    if made is None:
        return False
    if isinstance(made, Message):
        core.chat.reply(command, made)
        return False
    return core.chat.open_form(command, made)
