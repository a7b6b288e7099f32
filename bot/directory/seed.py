"""The directory starts from the model file; after that, chat is where it is kept current."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.chain import ERASED
from bot.directory.people import Person
from bot.events import Event
from bot.model import GovernanceModel
from bot.model.schema import PersonSeed
from bot.ports import UnitOfWork


def seed_directory(uow: UnitOfWork, model: GovernanceModel, at: datetime) -> int:
    """Adds the model's people whom the directory has never had. Everyone it has had is left as the administrators
    made them, removed ones included: a restart or a new model must not undo a change made in chat."""
    known = uow.directory.keys() | uow.events.subjects("directory.person_added")
    # An erased person's events name a pseudonym, no longer the key: they too were had, and stay erased.
    erased = uow.events.subjects(ERASED)
    added = 0
    for seed in model.people:
        if seed.key not in known and erased and uow.erasure.pseudonym(seed.key) in erased:
            continue
        if seed.key in known:
            _fill_group(uow, seed, at)
            continue
        uow.directory.save(
            Person(
                key=seed.key,
                name=seed.name,
                party=seed.party,
                roles=frozenset(seed.roles),
                authority=frozenset(seed.authority),
                email=seed.email.lower() if seed.email else None,
                group=seed.slack_usergroup,
                external=seed.external,
            ),
            seed.accounts(),
            seed.groups(),
        )
        uow.events.record(Event(at, "model", "directory.person_added", seed.key, {"party": seed.party,
                                                                                   "name": seed.name}))
        added += 1
    return added


def _fill_group(uow: UnitOfWork, seed: PersonSeed, at: datetime) -> None:
    """A group the model now gives an entry the directory already has (an Entra ID group named for the Service
    Desk's rota when a deployment moves to Teams): filled in where the entry has none on this platform. Nothing
    made in chat is undone: no command changes an entry's group, and a removed entry is not here."""
    group = seed.groups().get(uow.directory.platform)
    if not group:
        return
    person = uow.directory.by_key(seed.key)
    if person is None or person.group:
        return
    uow.directory.save(replace(person, group=group))
    uow.events.record(Event(at, "model", "directory.group_linked", seed.key, {"group": group}))
