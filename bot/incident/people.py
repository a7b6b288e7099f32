"""Naming the people of a war room in messages: a mention where the platform has one, a name otherwise."""

from __future__ import annotations

from collections.abc import Callable

from bot.directory.people import Person, mention
from bot.ports import UnitOfWork


def actor_of(person: Person | None, user_id: str) -> str:
    return person.key if person else f"user:{user_id}"


def mention_actor(uow: UnitOfWork, actor: str | None, nobody: str) -> str:
    return _named(uow, actor, nobody, mention)


def name_of(uow: UnitOfWork, actor: str | None, nobody: str) -> str:
    return _named(uow, actor, nobody, lambda person: person.name)


def _named(uow: UnitOfWork, actor: str | None, nobody: str, how: Callable[[Person], str]) -> str:
    """An actor as recorded (a directory key, or user:<id> for someone not in it), as a message names them."""
    if not actor:
        return nobody
    if actor.startswith("user:"):
        return f"<@{actor[5:]}>"
    person = uow.directory.by_key(actor)
    return how(person) if person else actor
