"""A unit of work read once per key, for a batch: a sweep's escalations, the notices they send, the redraws after.

Within one read the directory, the agreed dates and the disagreements do not change (the batch changes none of
them, or reads after its writes), yet the same party's people, the same person, the same forum's dates and the same
disagreement are asked for again for every item. This answers the second time from what the first read.
"""

from __future__ import annotations

from typing import Any

from bot.directory.people import Person
from bot.disagreement.records import Disagreement
from bot.forum.calendar import Change
from bot.ports import UnitOfWork


class Remembering:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self.directory = _Directory(uow)
        self.forum = _Dates(uow)
        self.disagreements = _Disagreements(uow)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)


class _Directory:
    def __init__(self, uow: UnitOfWork) -> None:
        self._directory = uow.directory
        self._people: dict[str | None, list[Person]] = {}
        self._by_key: dict[str, Person | None] = {}

    def people(self, party: str | None = None) -> list[Person]:
        if party not in self._people:
            self._people[party] = list(self._directory.people(party))
        return self._people[party]

    def by_key(self, key: str) -> Person | None:
        if key not in self._by_key:
            self._by_key[key] = self._directory.by_key(key)
        return self._by_key[key]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._directory, name)


class _Dates:
    def __init__(self, uow: UnitOfWork) -> None:
        self._forum = uow.forum
        self._changes: dict[str | None, list[Change]] = {}

    def changes(self, forum: str | None = None) -> list[Change]:
        if forum not in self._changes:
            self._changes[forum] = list(self._forum.changes(forum))
        return self._changes[forum]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._forum, name)


class _Disagreements:
    def __init__(self, uow: UnitOfWork) -> None:
        self._disagreements = uow.disagreements
        self._found: dict[int, Disagreement | None] = {}

    def get(self, disagreement_id: int, lock: bool = False) -> Disagreement | None:
        if lock:
            return self._disagreements.get(disagreement_id, lock=True)
        if disagreement_id not in self._found:
            self._found[disagreement_id] = self._disagreements.get(disagreement_id)
        return self._found[disagreement_id]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._disagreements, name)
