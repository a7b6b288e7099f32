"""Linking a person added by e-mail to their chat account: looked up once, after the commit that added them, and
remembered. Nobody in the workspace has the address: they are of another organisation, reached through Slack
Connect."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.duties import Duty, OnceChat, Outcome
from bot.events import Event

if TYPE_CHECKING:
    from bot.app import Samverkan

LINK = "directory.link"


def link_duty(person_key: str, now: datetime) -> Duty:
    return Duty(f"{LINK}:{person_key}:{now.timestamp():.6f}", LINK, now, payload={"person": person_key})


def perform_link(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    with core.unit_of_work() as uow:
        person = uow.directory.by_key(duty.payload["person"])
    if person is None or person.account or not person.email:
        return "dropped"  # removed, or linked meanwhile (the person spoke first)
    user = once.chat.find_user_by_email(person.email)
    with core.unit_of_work() as uow:
        current = uow.directory.by_key(person.key)
        if current is None or current.account:
            return "dropped"
        if user and uow.directory.by_account(user) is None:
            uow.directory.save(current.with_account(user))
            uow.events.record(Event(now, "samverkan", "directory.linked", current.key, {"account": user}))
        else:
            uow.directory.save(current.as_external())
        uow.commit()
    return "done"
