"""The ladder's rules, pure: where a disagreement starts, where it goes next, when it must be settled, who may
settle it and who may see it. Everything comes from the governance model; nothing here names a party or forum."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.directory.people import Person
from bot.disagreement.records import Disagreement, Level
from bot.forum.calendar import Change, next_sitting
from bot.forum.seats import representatives as seat_holders
from bot.model import parties
from bot.model.schema import Forum, GovernanceModel


def attends(model: GovernanceModel, forum: Forum, party: str) -> bool:
    return parties.attends(model, forum, party)


def meets(model: GovernanceModel, forum: Forum, party: str) -> bool:
    """The party has a say at the forum: a seat of its own, or its representative's."""
    return attends(model, forum, parties.speaker(model, forum, party))


def _rungs(model: GovernanceModel) -> list[Level]:
    assert model.ladder is not None
    return [Level(r.forum, r.grace_days) for r in model.ladder.rungs]


def _forum(model: GovernanceModel, key: str) -> Forum:
    found = model.forum(key)
    assert found is not None, key  # the model loader checks every ladder reference
    return found


def leader(model: GovernanceModel) -> str | None:
    """The party that leads questions between suppliers: the City's oversight organisation (section 8.10)."""
    return next((p.key for p in model.parties if p.oversight), None)


def path_for(model: GovernanceModel, pair: tuple[str, str]) -> tuple[tuple[Level, ...], int, str | None]:
    """The disagreement's ladder, the level it starts at, and the party leading it when it is not a party itself.

    Two parties that meet at a rung start at the lowest rung both meet at, by their own seat or their
    representative's (the City and the lead supplier at the service forum; the local IT support and the supplier
    locally). Otherwise the model's special forums apply (GOVERNANCE.md): the product supplier's forum, or the
    City-led collaboration forum. Between two suppliers (no City on either side) that forum is the only level: the
    City leads the question to a clarified responsibility boundary, and it never becomes a formal dispute, for the
    suppliers have no agreement with each other (section 8.10). With the City on one side, the special forum stands
    in for the lower rungs and the question continues above the lowest rung where the City and the lead supplier
    meet.

    Between the City and a supplier other than the lead supplier the ladder does not apply at all (5.4 is the City's
    and the lead supplier's; the others have agreements of their own): the question is led by the City at the first
    forum of the model's `city_and_other_supplier` where both sit, and goes no higher.
    """
    assert model.ladder is not None
    rungs = _rungs(model)
    if (elsewhere := _city_and_other_supplier(model, pair)) is not None:
        return (Level(elsewhere, rungs[_base(model, rungs)].grace_days),), 0, leader(model)
    for index, level in enumerate(rungs):
        forum = _forum(model, level.forum)
        if all(meets(model, forum, p) for p in pair):
            return tuple(rungs), index, None
    special = model.ladder.product_supplier_forum
    if not (special and all(meets(model, _forum(model, special), p) for p in pair)):
        special = model.ladder.supplier_to_supplier
    if not special:
        return tuple(rungs), 0, None
    base = _base(model, rungs)
    first = Level(special, rungs[base].grace_days)
    city = leader(model)
    if city is not None and (not any(parties.is_city(model, p) for p in pair) or outside_the_contract(model, pair)):
        return (first,), 0, city
    return (first, *rungs[base + 1:]), 0, None


def _base(model: GovernanceModel, rungs: list[Level]) -> int:
    """The lowest rung where the City's oversight and the lead supplier both sit."""
    oversight = [p.key for p in model.parties if p.oversight]
    lead = [p.key for p in model.parties if p.lead_supplier]
    return next((i for i, level in enumerate(rungs)
                 if any(attends(model, _forum(model, level.forum), p) for p in oversight)
                 and any(attends(model, _forum(model, level.forum), p) for p in lead)), 0)


def outside_the_contract(model: GovernanceModel, pair: tuple[str, str]) -> bool:
    """A question between the City (or a unit it represents) and a supplier other than the lead supplier: the
    ladder of 5.4 is the City's and the lead supplier's, and that supplier has an agreement of its own."""
    city = [p for p in pair if parties.is_city(model, p)]
    if len(city) != 1:
        return False
    other = model.party(next(p for p in pair if p not in city))
    return other is not None and not other.lead_supplier


def _city_and_other_supplier(model: GovernanceModel, pair: tuple[str, str]) -> str | None:
    """Where the model sends a question between the City and another supplier: the first of its forums for them
    where both sit (by their own seat or their representative's)."""
    assert model.ladder is not None
    if not outside_the_contract(model, pair):
        return None
    return next((key for key in model.ladder.city_and_other_supplier
                 if all(meets(model, _forum(model, key), p) for p in pair)), None)


def led_text(model: GovernanceModel, d: Disagreement, key: str) -> str:
    """The catalogue key of a text about a led question: the words for a question between suppliers, or (`_other`)
    for one between the City and a supplier other than the lead supplier, which the City leads as a party."""
    return f"{key}_other" if outside_the_contract(model, d.parties) else key


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


def level_forum(model: GovernanceModel, d: Disagreement) -> Forum:
    """The forum the disagreement is at, as it sits (one catalogue's sitting of a per-catalogue forum)."""
    return model.sitting_forum(d.forum) or _forum(model, d.rung.forum)


def deadline(forum: Forum, level: Level, since: datetime, changes: Iterable[Change]) -> datetime | None:
    """The level's next held sitting after `since` must settle it: when that sitting is over plus the rung's grace
    days, it moves up. A forum without sittings gives no deadline (only a person can move it on)."""
    if not forum.convenes:
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


def answers_for(model: GovernanceModel, person: Person, d: Disagreement) -> str | None:
    """The party to the disagreement the person may accept or reject a settlement for at its level, if any.

    The level's forum decides (section 5.4: "behöriga företrädare för varje nivå"): whoever speaks for the party
    there (the party itself, or for the City's local IT support at the central forums, the City's central ordering
    organisation) answers through someone holding a role the forum requires of it, at Affärsforum the contract
    signatory and the supplier's authorised representative. Where the forum names no role of that party, its
    representative roles answer (a supplier's Kundansvarig, 6.2 A), and for the City its authorised approvers.
    A question the City leads between two suppliers is answered by the suppliers; the City clarifies it instead.
    """
    forum = level_forum(model, d)
    for party in d.parties:
        speaker = parties.speaker(model, forum, party)
        if person.party != speaker:
            continue
        roles = parties.required_roles(model, forum, speaker)
        if roles:
            if person.roles & roles:
                return party
            continue
        representing = set(model.ladder.representative_roles) if model.ladder else set()
        if person.roles & representing or "approver" in person.authority:
            return party
    return None


def authorised(model: GovernanceModel, person: Person, d: Disagreement) -> bool:
    return answers_for(model, person, d) is not None


def representatives(model: GovernanceModel, forum: Forum, party: str, people: Iterable[Person]) -> list[Person]:
    """Who must attend the forum for the party (its speaker there: pass the speaker's people)."""
    representing = model.ladder.representative_roles if model.ladder else []
    return seat_holders(model, forum, party, people, representing)


def answering(model: GovernanceModel, d: Disagreement, party: str) -> tuple[str, list[str], bool]:
    """Who may accept or reject a settlement for the party at the disagreement's level, as `answers_for` decides
    it: (the party that speaks for it there, the roles that answer, whether its authorised approvers answer)."""
    forum = level_forum(model, d)
    speaker = parties.speaker(model, forum, party)
    roles = parties.required_roles(model, forum, speaker)
    if roles:
        return speaker, sorted(roles), False
    return speaker, list(model.ladder.representative_roles if model.ladder else []), True
