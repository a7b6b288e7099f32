"""The ladder's rules, pure: where a disagreement starts, where it goes next, when it must be settled, who may
settle it and who may see it. Everything comes from the governance model; nothing here names a party or forum."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.directory.people import Person
from bot.disagreement.records import Disagreement, Level
from bot.forum.calendar import Change, next_sitting
from bot.model.schema import Forum, GovernanceModel


def attends(forum: Forum, party: str) -> bool:
    return party in forum.chair or any(r.party == party for r in forum.attendees)


def required_roles(forum: Forum, party: str) -> set[str]:
    return {role for r in forum.attendees if r.party == party for role in r.roles}


def _rungs(model: GovernanceModel) -> list[Level]:
    assert model.ladder is not None
    return [Level(r.forum, r.grace_days) for r in model.ladder.rungs]


def _forum(model: GovernanceModel, key: str) -> Forum:
    found = model.forum(key)
    assert found is not None, key  # the model loader checks every ladder reference
    return found


def path_for(model: GovernanceModel, parties: tuple[str, str]) -> tuple[tuple[Level, ...], int]:
    """The disagreement's ladder and the level it starts at.

    Two parties that meet at a rung start at the lowest rung both attend (the City and the lead supplier at the
    service forum; the local IT support and the supplier locally). Otherwise the model's special forums apply
    (GOVERNANCE.md): the product supplier's forum, or the City-led collaboration forum for two suppliers. Such a
    forum stands in for the lower rungs: unsettled there, it continues above the lowest rung where the City's
    oversight and the lead supplier meet.
    """
    assert model.ladder is not None
    rungs = _rungs(model)
    for index, level in enumerate(rungs):
        forum = _forum(model, level.forum)
        if all(attends(forum, p) for p in parties):
            return tuple(rungs), index
    special = model.ladder.product_supplier_forum
    if not (special and all(attends(_forum(model, special), p) for p in parties)):
        special = model.ladder.supplier_to_supplier
    if not special:
        return tuple(rungs), 0
    oversight = [p.key for p in model.parties if p.oversight]
    lead = [p.key for p in model.parties if p.lead_supplier]
    base = next((i for i, level in enumerate(rungs)
                 if any(attends(_forum(model, level.forum), p) for p in oversight)
                 and any(attends(_forum(model, level.forum), p) for p in lead)), 0)
    return (Level(special, rungs[base].grace_days), *rungs[base + 1:]), 0


def catalogue_for(model: GovernanceModel, service: str | None) -> str | None:
    """A per-catalogue forum needs a catalogue: the service's, or else the first one."""
    found = model.service(service) if service else None
    if found and found.catalogue:
        return found.catalogue
    return model.catalogues[0].key if model.catalogues else None


def sitting_forum(model: GovernanceModel, level: Level, catalogue: str | None) -> Forum:
    forum = _forum(model, level.forum)
    if forum.per_catalogue and catalogue:
        expanded = model.sitting_forum(f"{forum.key}-{catalogue}")
        if expanded:
            return expanded
    return model.sitting_forum(forum.key) or forum


def deadline(forum: Forum, level: Level, since: datetime, changes: Iterable[Change]) -> datetime | None:
    """The level's next held sitting after `since` must settle it: when that sitting is over plus the rung's grace
    days, it moves up. A forum without sittings gives no deadline (only a person can move it on)."""
    if not forum.sits:
        return None
    sitting = next_sitting(forum, since, changes)
    return sitting.end + timedelta(days=level.grace_days) if sitting else None


def is_top(d: Disagreement) -> bool:
    return d.level + 1 >= len(d.path)


def may_see(model: GovernanceModel, person: Person | None, d: Disagreement) -> bool:
    if person is None:
        return False
    return person.party in d.parties or oversees(model, person)


def oversees(model: GovernanceModel, person: Person) -> bool:
    party = model.party(person.party)
    return bool(party and party.oversight)


def scope(model: GovernanceModel, person: Person) -> str | None:
    """The party whose disagreements the person sees; None for the City's oversight, which sees them all."""
    return None if oversees(model, person) else person.party


def authorised(model: GovernanceModel, person: Person, d: Disagreement) -> bool:
    """Whether the person may accept a settlement for their party at the disagreement's level: by holding a key
    role the level's forum requires of that party, or as the City's authorised approver.

    A party the forum names no roles for still needs a way to answer: its people with approver authority may,
    and so may a supplier's holders of the roles the forum requires of the lead supplier (a supplier the forum does
    not name is held to what the lead supplier must send).
    """
    if person.party not in d.parties:
        return False
    if "approver" in person.authority and oversees(model, person):
        return True
    forum = _forum(model, d.rung.forum)
    roles = required_roles(forum, person.party)
    if not roles:
        if "approver" in person.authority:
            return True
        roles = {role for lead in model.parties if lead.lead_supplier for role in required_roles(forum, lead.key)}
    return bool(person.roles & roles)


def representatives(model: GovernanceModel, forum: Forum, party: str, people: Iterable[Person]) -> list[Person]:
    """Who must attend the forum for the party: holders of the roles it requires of that party. A party the forum
    names no roles for is held to what it requires of the lead supplier (as in `authorised`); failing that all its
    people are summoned, so that no party to a disagreement goes untold."""
    everyone = list(people)
    required = required_roles(forum, party)
    if required:
        # Nobody holding them is a gap the notice warns about, not a reason to tell everyone.
        return [p for p in everyone if p.roles & required]
    lead_roles = {role for lead in model.parties if lead.lead_supplier for role in required_roles(forum, lead.key)}
    return [p for p in everyone if p.roles & lead_roles] or everyone
