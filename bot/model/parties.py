"""Which parties a forum seats, once classes of parties are expanded: the one place that answers "does this party
attend", "does it chair", "what must it send", and "who speaks for it where it has no seat"."""

from __future__ import annotations

from bot.model.schema import Forum, GovernanceModel, Lang


def members(model: GovernanceModel, key: str) -> list[str]:
    """The parties a key stands for: the party itself, or every party of a class."""
    if model.party(key) is not None:
        return [key]
    return [p.key for p in model.parties if key in p.classes]


def of(model: GovernanceModel, party: str, key: str) -> bool:
    """Whether a key (a party's or a class's) stands for the party."""
    return party == key or party in members(model, key)


def chairs(model: GovernanceModel, forum: Forum, party: str) -> bool:
    return any(of(model, party, key) for key in forum.chair)


def attends(model: GovernanceModel, forum: Forum, party: str) -> bool:
    return chairs(model, forum, party) or any(of(model, party, a.ref) for a in forum.attendees)


def follows(model: GovernanceModel, forum: Forum, party: str) -> bool:
    """The party follows the forum without a seat (the model's `followers`): it is told nothing it must attend."""
    return any(of(model, party, key) for key in forum.followers)


def seated(model: GovernanceModel, forum: Forum) -> list[str]:
    """Every party the forum seats, in the model's order."""
    return [p.key for p in model.parties if attends(model, forum, p.key)]


def required_roles(model: GovernanceModel, forum: Forum, party: str) -> set[str]:
    """The roles the forum requires of the party, by its own seat or its class's."""
    return {role for a in forum.attendees if of(model, party, a.ref) for role in a.roles}


def speaker(model: GovernanceModel, forum: Forum, party: str) -> str:
    """Who answers for the party at the forum: itself where it has a seat, otherwise the party that represents it
    there (the City's central ordering organisation for its local IT support at the central forums)."""
    if attends(model, forum, party):
        return party
    found = model.party(party)
    if found and found.represented_by and attends(model, forum, found.represented_by):
        return found.represented_by
    return party


def is_city(model: GovernanceModel, party: str) -> bool:
    """The City's oversight organisation, or a unit of the City that it represents."""
    found = model.party(party)
    if found is None:
        return False
    if found.oversight:
        return True
    represented = model.party(found.represented_by or "")
    return bool(represented and represented.oversight)


def name(model: GovernanceModel, key: str, lang: Lang) -> str:
    """A party's or a class's name."""
    party = model.party(key)
    if party is not None:
        return party.name(lang)
    found = model.party_class(key)
    return found.name(lang) if found else key
