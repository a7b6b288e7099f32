"""Naming the people of a war room in messages: a mention where the platform has an account, a name otherwise."""

from __future__ import annotations

from collections.abc import Callable

from bot.directory.people import Person, mention
from bot.message import Inline, Mention, Text
from bot.ports import UnitOfWork


def actor_of(person: Person | None, user_id: str) -> str:
    return person.key if person else f"user:{user_id}"


def mention_actor(uow: UnitOfWork, actor: str | None, nobody: str) -> Inline:
    return _named(uow, actor, nobody, mention)


def name_of(uow: UnitOfWork, actor: str | None, nobody: str) -> str:
    named = _named(uow, actor, nobody, lambda person: Text(person.name))
    return named.name if isinstance(named, Mention) else named.text if isinstance(named, Text) else nobody


def _named(uow: UnitOfWork, actor: str | None, nobody: str, how: Callable[[Person], Inline]) -> Inline:
    """An actor as recorded (a directory key, or user:<id> for someone not in it), as a message names them."""
    if not actor:
        return Text(nobody)
    if actor.startswith("user:"):
        user = actor.removeprefix("user:")
        return Mention(user, user=user)
    person = uow.directory.by_key(actor)
    return how(person) if person else Text(actor)
