"""Who fills a party's seat at a forum: the people a reminder, a report or a disagreement is addressed to."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from bot.directory.people import Person, mention
from bot.duties import OnceChat
from bot.message import Message, line, phrase, separated
from bot.model import parties
from bot.model.schema import Forum, GovernanceModel


def representatives(model: GovernanceModel, forum: Forum, party: str, people: Iterable[Person],
                    representing: Sequence[str] = (), always_someone: bool = False) -> list[Person]:
    """The party's people who must attend: holders of the roles the forum requires of it. Nobody holding them is a
    gap the notice warns about, not a reason to tell everyone, unless someone must be told (`always_someone`: a
    report falls due). A party the forum names no roles of attends through whoever represents it (`representing`
    roles, a supplier's Kundansvarig), or for the City its authorised approvers; failing those, all its people."""
    everyone = list(people)
    required = parties.required_roles(model, forum, party)
    if required:
        holders = [p for p in everyone if p.roles & required]
        if holders or not always_someone:
            return holders
    chosen = set(representing)
    return ([p for p in everyone if p.roles & chosen] or [p for p in everyone if "approver" in p.authority]
            or everyone)


def chair_people(model: GovernanceModel, forum: Forum, people_of, representing: Sequence[str] = ()  # type: ignore[no-untyped-def]
                 ) -> list[Person]:
    """Who speaks for the chair party (or parties): someone must be told."""
    found: dict[str, Person] = {}
    for key in forum.chair:
        for party in parties.members(model, key):
            for person in representatives(model, forum, party, people_of(party), representing, always_someone=True):
                found.setdefault(person.key, person)
    return list(found.values())


def tell(once: OnceChat, forum: Forum, people: Sequence[Person], text: Message,
         written: Mapping[str, Message] | None = None) -> None:
    """Tells each person directly (in `written[person.key]`, their own language, when given); a seat filled by a
    team (a user group such as the Service Desk's rota), which has no inbox of its own, is told by a mention in the
    forum's channel instead."""
    unreachable: list[Person] = []
    for person in people:
        user = person.account or (once.chat.find_user_by_email(person.email) if person.email else None)
        if user:
            once.direct(user, (written or {}).get(person.key, text), part=person.key)
        elif person.group:
            unreachable.append(person)
    if unreachable:
        once.post(forum.channel, phrase(line(*separated(mention(p) for p in unreachable)), text, separator=": "),
                  part="teams")
