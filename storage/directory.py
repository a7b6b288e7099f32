"""The directory store: bot.ports.DirectoryStore on SQLAlchemy."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Literal

from sqlalchemy import Select, bindparam, delete, select
from sqlalchemy.orm import Session

from bot.directory.people import Person
from storage.models import PersonAuthorityRow, PersonRoleRow, PersonRow

Platform = Literal["slack", "teams"]


class SqlDirectoryStore:
    """`platform` says which of a person's accounts is *the* account the core sees: one deployment serves one chat
    platform, and a person may have an account on each (the model may give both)."""

    def __init__(self, session: Session, platform: Platform = "slack") -> None:
        self.session = session
        self.platform = platform
        self._columns = _COLUMNS[platform]
        self._lookups = _LOOKUPS[platform]

    def by_key(self, key: str) -> Person | None:
        return self._one(self._lookups["key"], key)

    def by_account(self, user_id: str) -> Person | None:
        return self._one(self._lookups["account"], user_id)

    def by_email(self, email: str) -> Person | None:
        return self._one(self._lookups["email"], email.lower())

    def by_usergroup(self, usergroup: str) -> Person | None:
        return self._one(self._lookups["usergroup"], usergroup)

    def people(self, party: str | None = None) -> Sequence[Person]:
        return self._people(None if party is None else [party])

    def people_of(self, parties: Collection[str]) -> Sequence[Person]:
        return self._people(sorted(parties)) if parties else []

    def _people(self, parties: list[str] | None) -> list[Person]:
        # Three plain queries (people, their roles, their authorities) into Person values: no ORM objects, which a
        # war room's roster of hundreds would otherwise build, track and throw away.
        ids = select(PersonRow.id)
        query = select(PersonRow.id, *self._columns)
        if parties is not None:
            ids = ids.where(PersonRow.party.in_(parties))
            query = query.where(PersonRow.party.in_(parties))
        roles: dict[int, set[str]] = defaultdict(set)
        for person, role in self.session.execute(select(PersonRoleRow.person_id, PersonRoleRow.role)
                                                 .where(PersonRoleRow.person_id.in_(ids))):
            roles[person].add(role)
        authority: dict[int, set[str]] = defaultdict(set)
        for person, granted in self.session.execute(select(PersonAuthorityRow.person_id, PersonAuthorityRow.authority)
                                                    .where(PersonAuthorityRow.person_id.in_(ids))):
            authority[person].add(granted)
        return [Person(key=row.key, name=row.name, party=row.party, roles=frozenset(roles[row.id]),
                       authority=frozenset(authority[row.id]),  # type: ignore[arg-type]
                       account=row.account, email=row.email, group=row.usergroup,
                       external=row.external)
                for row in self.session.execute(query.order_by(PersonRow.party, PersonRow.name))]

    def keys(self) -> set[str]:
        return set(self.session.scalars(select(PersonRow.key)))

    def save(self, person: Person, accounts: Mapping[str, str | None] | None = None,
             groups: Mapping[str, str | None] | None = None) -> None:
        row = self.session.scalar(select(PersonRow).where(PersonRow.key == person.key))
        if row is None:
            row = PersonRow(key=person.key)
            self.session.add(row)
        row.name = person.name
        row.party = person.party
        if accounts is not None:
            row.slack_user, row.teams_user = accounts.get("slack"), accounts.get("teams")
        elif self.platform == "teams":
            row.teams_user = person.account
        else:
            row.slack_user = person.account
        row.email = person.email.lower() if person.email else None
        if groups is not None:
            row.slack_usergroup, row.teams_usergroup = groups.get("slack"), groups.get("teams")
        elif self.platform == "teams":
            row.teams_usergroup = person.group
        else:
            row.slack_usergroup = person.group
        row.external = person.external
        row.roles = [PersonRoleRow(role=r) for r in sorted(person.roles)]
        row.authorities = [PersonAuthorityRow(authority=a) for a in sorted(person.authority)]
        self.session.flush()

    def remove(self, key: str) -> None:
        self.session.execute(delete(PersonRow).where(PersonRow.key == key))

    def _one(self, query, value: str) -> Person | None:  # type: ignore[no-untyped-def]
        # Every command looks up who sent it: one statement of plain rows (the person beside each role and each
        # authority they hold: a handful of rows, each found by index), a fraction of what loading ORM objects
        # with their collections costs; the statement is made once, for building it cost as much as running it.
        rows = self.session.execute(query, {"value": value}).all()
        if not rows:
            return None
        row = rows[0]
        return Person(key=row.key, name=row.name, party=row.party,
                      roles=frozenset(r.role for r in rows if r.role is not None),
                      authority=frozenset(r.authority for r in rows if r.authority is not None),  # type: ignore[misc]
                      account=row.account, email=row.email, group=row.usergroup,
                      external=row.external)


def _account(platform: Platform):  # type: ignore[no-untyped-def]
    return PersonRow.teams_user if platform == "teams" else PersonRow.slack_user


def _group(platform: Platform):  # type: ignore[no-untyped-def]
    """The entry's group on this platform: an Entra ID group on Teams, a Slack user group on Slack."""
    return PersonRow.teams_usergroup if platform == "teams" else PersonRow.slack_usergroup


def _columns(platform: Platform) -> tuple[Any, ...]:
    return (PersonRow.key, PersonRow.name, PersonRow.party, _account(platform).label("account"), PersonRow.email,
            _group(platform).label("usergroup"), PersonRow.external)


def _lookup(column, platform: Platform) -> Select[Any]:  # type: ignore[no-untyped-def]
    return (select(*_columns(platform), PersonRoleRow.role, PersonAuthorityRow.authority)
            .outerjoin(PersonRoleRow, PersonRoleRow.person_id == PersonRow.id)
            .outerjoin(PersonAuthorityRow, PersonAuthorityRow.person_id == PersonRow.id)
            .where(column == bindparam("value")))


# Made once, not per unit of work: building the labelled columns cost ~0.4 ms, paid by every transaction (the
# intake's write of each acknowledged command included), and a new label each time defeated the statement cache.
_COLUMNS: dict[Platform, tuple[Any, ...]] = {platform: _columns(platform) for platform in ("slack", "teams")}

# Each platform's statements, made once: the account the core sees is that platform's column.
_LOOKUPS: dict[Platform, dict[str, Select[Any]]] = {
    platform: {"key": _lookup(PersonRow.key, platform), "account": _lookup(_account(platform), platform),
               "email": _lookup(PersonRow.email, platform), "usergroup": _lookup(_group(platform), platform)}
    for platform in ("slack", "teams")
}
