"""Messages marked with the pin reaction go into the incident's timeline: once, however often Slack delivers it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.incident.people import actor_of
from bot.incident.records import TimelineEntry

if TYPE_CHECKING:
    from bot.app import Samverkan


def mark(core: Samverkan, channel: str, ref: str, user_id: str, reaction: str) -> bool:
    """True when the message was added; False for another reaction, another channel or a repeated delivery."""
    mi = core.model.major_incidents
    if mi is None or reaction != mi.pin_reaction:
        return False
    with core.unit_of_work() as uow:
        incident = uow.incidents.by_channel(channel)
        if incident is None:
            return False
    text = core.chat.message_text(channel, ref) or ""
    with core.unit_of_work() as uow:
        actor = actor_of(uow.directory.by_account(user_id), user_id)
        added = uow.incidents.add_to_timeline(f"pin:{channel}:{ref}",
                                              TimelineEntry(incident.id, core.clock.now(), actor, "pinned", text))
        uow.commit()
    return added


def joined(core: Samverkan, channel: str, user_id: str) -> bool:
    """Someone joined a war room: for a person of another organisation, that is when they accepted the Slack
    Connect invitation; the report says when each party joined."""
    with core.unit_of_work() as uow:
        incident = uow.incidents.by_channel(channel)
        if incident is None:
            return False
        waiting = [m for m in uow.incidents.members(incident.id) if m.joined_at is None]
    if not waiting:
        return False
    found = next((m for m in waiting if m.account == user_id), None)
    if found is None:
        email = (core.chat.email_of(user_id) or "").lower()
        found = next((m for m in waiting if email and (m.email or "").lower() == email), None)
    if found is None:
        return False
    with core.unit_of_work() as uow:
        now = core.clock.now()
        first = uow.incidents.joined(incident.id, found.key, now)
        if first:
            uow.incidents.add_to_timeline(f"joined:{incident.id}:{found.key}", TimelineEntry(
                incident.id, now, found.key, "joined", found.name))
        uow.commit()
    return first
