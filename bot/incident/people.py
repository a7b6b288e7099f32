"""Naming the people of a war room in messages: a mention where the platform has one, a name otherwise."""

from __future__ import annotations

from bot.directory.people import Person, mention
from bot.ports import UnitOfWork


def actor_of(person: Person | None, user_id: str) -> str:
    return person.key if person else f"user:{user_id}"


def mention_actor(uow: UnitOfWork, actor: str | None, nobody: str) -> str:
    if not actor:
        return nobody
    if actor.startswith("user:"):
        return f"<@{actor[5:]}>"
    person = uow.directory.by_key(actor)
    return mention(person) if person else actor


def name_of(uow: UnitOfWork, actor: str | None, nobody: str) -> str:
    if not actor:
        return nobody
    if actor.startswith("user:"):
        return f"<@{actor[5:]}>"
    person = uow.directory.by_key(actor)
    return person.name if person else actor
