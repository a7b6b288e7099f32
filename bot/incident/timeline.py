"""Messages marked with the pin reaction go into the incident's timeline: once, however often the platform delivers
it (Slack's `reaction_added`, Teams' `messageReaction`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.i18n import spoken_platform
from bot.incident.people import actor_of
from bot.incident.records import TimelineEntry

if TYPE_CHECKING:
    from bot.app import Samverkan
    from bot.model.schema import MajorIncidents

# Teams' reaction types as Teams shows them (https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/
# conversations/subscribe-to-conversation-events, "Message reaction events").
TEAMS_REACTIONS = {"like": "👍", "heart": "❤️", "laugh": "😆", "surprised": "😮", "sad": "😢", "angry": "😡"}


def pin_reaction(mi: MajorIncidents) -> str:
    """The reaction that marks a message for the timeline on the platform this process serves."""
    return mi.teams_pin_reaction if spoken_platform() == "teams" else mi.pin_reaction


def pin_reaction_shown(mi: MajorIncidents) -> str:
    """That reaction as the brief names it: `:pushpin:` on Slack, which shows it as the emoji; on Teams the
    emoji with its name."""
    if spoken_platform() == "teams":
        name = mi.teams_pin_reaction
        return f"{TEAMS_REACTIONS[name]} ({name})" if name in TEAMS_REACTIONS else name
    return f":{mi.pin_reaction}:"


def mark(core: Samverkan, channel: str, ref: str, user_id: str, reaction: str) -> bool:
    """True when the message was added; False for another reaction, another channel or a repeated delivery."""
    mi = core.model.major_incidents
    if mi is None or reaction != pin_reaction(mi):
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
