"""What is written down about a disagreement, and the store that keeps it.

The history is append-only: the store can add entries and read them, never change or remove one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

# exhausted: past the top rung unsettled, informal dispute resolution is over and either party may invoke the formal
# one; formal: a party invoked formal dispute resolution (5.4, "innan formell tvistelösning påkallas");
# clarified: a question between suppliers that the City closed by recording the responsibility boundary (8.10)
State = Literal["open", "settled", "exhausted", "formal", "clarified"]
Kind = Literal["opened", "commented", "escalated", "proposed", "accepted", "rejected", "settled", "exhausted",
               "formal", "awaiting", "clarified"]


@dataclass(frozen=True)
class Level:
    """One step of a disagreement's own ladder, fixed when it is opened: later model edits do not move it."""

    forum: str  # the model's forum key (tjansteforum, not tjansteforum-service-desk)
    grace_days: int


@dataclass(frozen=True)
class Proposal:
    text: str
    by: str  # directory key
    party: str
    at: datetime
    accepted: tuple[str, ...] = ()  # the parties that have accepted, in order


@dataclass(frozen=True)
class Disagreement:
    id: int
    title: str
    description: str
    raised_by: str
    parties: tuple[str, str]  # the raiser's party first
    path: tuple[Level, ...]
    level: int  # index into path
    forum: str  # the sitting forum of the current level (a per-catalogue forum expanded)
    catalogue: str | None
    service: str | None
    state: State
    opened_at: datetime
    level_since: datetime
    deadline: datetime | None  # when it moves up unless settled; None once nothing further is automatic
    settled_at: datetime | None = None
    proposal: Proposal | None = None
    # The party leading it when not a party itself: the City, in a question between suppliers (section 8.10).
    led_by: str | None = None

    @property
    def ref(self) -> str:
        return f"D-{self.id}"

    @property
    def rung(self) -> Level:
        return self.path[self.level]

    @property
    def is_open(self) -> bool:
        return self.state == "open"


@dataclass(frozen=True)
class Entry:
    disagreement: int
    at: datetime
    actor: str
    party: str
    kind: Kind
    level: int
    forum: str
    text: str = ""
    ref: str = ""  # the duty that made an automatic escalation, so a recovering performer can find its own work
    id: int = 0


@dataclass(frozen=True)
class Page:
    items: Sequence[Disagreement]
    total: int


@dataclass(frozen=True)
class NewDisagreement:
    title: str
    description: str
    raised_by: str
    parties: tuple[str, str]
    path: tuple[Level, ...]
    level: int
    forum: str
    catalogue: str | None
    service: str | None
    opened_at: datetime
    deadline: datetime | None
    led_by: str | None = None


@dataclass(frozen=True)
class Clarification:
    """A responsibility boundary the City recorded to end a question between suppliers: the register that
    section 8.10's "förtydligade ansvarsgränser" become."""

    id: int
    disagreement: int
    parties: tuple[str, str]
    service: str | None
    text: str
    by: str
    at: datetime

    @property
    def ref(self) -> str:
        return f"K-{self.id}"


class DisagreementStore(Protocol):
    def add(self, new: NewDisagreement) -> Disagreement: ...

    def get(self, disagreement_id: int, lock: bool = False) -> Disagreement | None:
        """`lock` holds the row until commit, so two people accepting at once do not overwrite each other."""
        ...

    def get_many(self, ids: Sequence[int], lock: bool = False) -> Mapping[int, Disagreement]:
        """Those of these that exist, by id, in one read; `lock` as for `get`."""
        ...

    def move(self, disagreement_id: int, from_level: int, to_level: int, forum: str, since: datetime,
             deadline: datetime | None, state: State = "open") -> bool:
        """Moves an open disagreement up from `from_level` only if it is still there: of two processes (or a
        person and the sweep) exactly one wins. True for the winner."""
        ...

    def move_many(self, moves: Sequence[tuple[int, Disagreement]]) -> int:
        """For each (the level it is moving from, the disagreement as moved), as `move` with the moved one's level,
        forum, level_since, deadline and state, in one go; returns how many moved."""
        ...

    def save_proposal(self, disagreement_id: int, proposal: Proposal | None) -> None: ...

    def settle(self, disagreement_id: int, at: datetime) -> None: ...

    def invoke_formal(self, disagreement_id: int, at: datetime) -> bool:
        """Marks an exhausted disagreement as one in which formal dispute resolution was invoked, only if it is
        still exhausted: of two invoking at once, exactly one wins. True for the winner."""
        ...

    def set_deadline(self, disagreement_id: int, deadline: datetime | None) -> None: ...

    def clarify(self, disagreement_id: int, text: str, by: str, at: datetime) -> Clarification:
        """Records the boundary in the register and closes the disagreement as clarified."""
        ...

    def clarifications(self) -> Sequence[Clarification]:
        """The register, oldest first."""
        ...

    def append(self, entry: Entry) -> None: ...

    def append_many(self, entries: Sequence[Entry]) -> None: ...

    def history(self, disagreement_id: int) -> Sequence[Entry]:
        """Oldest first."""
        ...

    def page(self, party: str | None, open_only: bool, level_forum: str | None, offset: int,
             limit: int) -> Page:
        """Newest first; `party` None means every disagreement (the City's oversight). The total counts only
        what this party may see."""
        ...

    def at_forum(self, forum: str) -> Sequence[Disagreement]:
        """Open disagreements whose current level sits in this (expanded) forum, oldest first."""
        ...

    def every(self, party: str | None = None) -> Sequence[Disagreement]: ...

    def every_entry(self, party: str | None = None) -> Sequence[Entry]: ...
