"""Who is called into a war room: what the service catalogue names for the chosen services, plus the roles that
join every war room, plus GSIT 2.0's service desk when the administrative side is touched or a central supplier's
service is (section 2.2: operational collaboration with the central suppliers goes through that service desk)."""

from __future__ import annotations

from collections.abc import Iterable

from bot.directory.people import Person
from bot.model import parties
from bot.model.schema import GovernanceModel, RoleRequirement, Service
from bot.ports import UnitOfWork


def holders(uow: UnitOfWork, requirements: Iterable[RoleRequirement | str]) -> list[Person]:
    """Everyone in the directory holding one of the roles at the party (everyone of the party when no roles), in
    the order of the requirements; a requirement that is a string is a person's key. The parties' people are read
    in one look."""
    wanted = list(requirements)
    of_party: dict[str, list[Person]] = {}
    for person in uow.directory.people_of({r.party for r in wanted if not isinstance(r, str)}):
        of_party.setdefault(person.party, []).append(person)
    found: list[Person] = []
    for req in wanted:
        if isinstance(req, str):
            found.extend(p for p in [uow.directory.by_key(req)] if p is not None)
            continue
        for person in of_party.get(req.party, []):
            if not req.roles or person.roles & set(req.roles):
                found.append(person)
    return found


def war_room_people(uow: UnitOfWork, model: GovernanceModel, services: Iterable[str]) -> list[Person]:
    mi = model.major_incidents
    assert mi is not None
    chosen = [s for s in (model.service(key) for key in services) if s is not None]
    wanted: list[RoleRequirement | str] = list(mi.always)
    for service in chosen:
        wanted.extend(service.contacts)
        wanted.extend(service.contact_roles)
        wanted.extend(reached_through(model, service))
    if any(s.administrative for s in chosen):
        wanted.extend(mi.administrative)
    unique: dict[str, Person] = {}
    for person in holders(uow, wanted):
        unique.setdefault(person.key, person)
    return list(unique.values())


def service_people(uow: UnitOfWork, model: GovernanceModel, service_key: str) -> list[Person]:
    service = model.service(service_key)
    if service is None:
        return []
    wanted: list[RoleRequirement | str] = [*service.contacts, *service.contact_roles, *reached_through(model, service)]
    if service.administrative and model.major_incidents:
        wanted.extend(model.major_incidents.administrative)
    return holders(uow, wanted)


def reached_through(model: GovernanceModel, service: Service) -> list[RoleRequirement]:
    """Whom a service's responsible parties are reached through, by their class."""
    mi = model.major_incidents
    if mi is None:
        return []
    return [via for reach in mi.reached_through
            if any(parties.of(model, party, reach.party_class) for party in service.responsible)
            for via in reach.via]


def default_commander(uow: UnitOfWork, model: GovernanceModel) -> Person | None:
    assert model.major_incidents is not None
    found = holders(uow, [model.major_incidents.commander])
    return found[0] if found else None


def city_contacts(uow: UnitOfWork, model: GovernanceModel) -> list[Person]:
    assert model.major_incidents is not None
    return holders(uow, [model.major_incidents.city_contact])
