"""Who is called into a war room: what the service catalogue names for the chosen services, plus the roles that
join every war room, plus GSIT 2.0's service desk when the administrative side is touched or a central supplier's
service is (section 2.2: operational collaboration with the central suppliers goes through that service desk)."""

from __future__ import annotations

from collections.abc import Iterable

from bot.directory.people import Person
from bot.model import parties
from bot.model.schema import GovernanceModel, RoleRequirement, Service
from bot.ports import UnitOfWork


def holders(uow: UnitOfWork, requirements: Iterable[RoleRequirement]) -> list[Person]:
    """Everyone in the directory holding one of the roles at the party (everyone of the party when no roles)."""
    found: list[Person] = []
    for req in requirements:
        for person in uow.directory.people(req.party):
            if not req.roles or person.roles & set(req.roles):
                found.append(person)
    return found


def war_room_people(uow: UnitOfWork, model: GovernanceModel, services: Iterable[str]) -> list[Person]:
    mi = model.major_incidents
    assert mi is not None
    chosen = [s for s in (model.service(key) for key in services) if s is not None]
    people: list[Person] = holders(uow, mi.always)
    for service in chosen:
        people.extend(p for p in map(uow.directory.by_key, service.contacts) if p is not None)
        people.extend(holders(uow, service.contact_roles))
        people.extend(holders(uow, reached_through(model, service)))
    if any(s.administrative for s in chosen):
        people.extend(holders(uow, mi.administrative))
    unique: dict[str, Person] = {}
    for person in people:
        unique.setdefault(person.key, person)
    return list(unique.values())


def service_people(uow: UnitOfWork, model: GovernanceModel, service_key: str) -> list[Person]:
    service = model.service(service_key)
    if service is None:
        return []
    people = [p for p in map(uow.directory.by_key, service.contacts) if p is not None]
    people.extend(holders(uow, service.contact_roles))
    people.extend(holders(uow, reached_through(model, service)))
    if service.administrative and model.major_incidents:
        people.extend(holders(uow, model.major_incidents.administrative))
    return people


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
