"""What is written down about a major incident: the incident, who was asked into its war room, the steps of the
war room's assembly, and its timeline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

MemberState = Literal["pending", "invited", "failed"]


@dataclass(frozen=True)
class Incident:
    id: int
    title: str
    services: tuple[str, ...]
    severity: int
    description: str
    declared_by: str  # the actor: a directory key, or user:<id>
    declared_at: datetime
    last_update_at: datetime  # the declaration counts as the first update
    channel_name: str | None = None
    channel_id: str | None = None
    commander: str | None = None  # a directory key, or user:<id>
    communications: str | None = None
    scribe: str | None = None
    assembled_at: datetime | None = None
    resolved_at: datetime | None = None
    summary: str = ""
    closed_at: datetime | None = None

    @property
    def ref(self) -> str:
        return f"MI-{self.id}"

    @property
    def state(self) -> Literal["open", "resolved", "closed"]:
        if self.closed_at:
            return "closed"
        return "resolved" if self.resolved_at else "open"


@dataclass(frozen=True)
class Member:
    """Someone asked into a war room: a directory person (or a platform user outside the directory), how they are
    reached, and what came of it."""

    incident: int
    key: str
    party: str
    name: str
    account: str | None = None  # the account on the chat platform in use (Slack user id, Entra object id)
    group: str | None = None  # a user group standing for a team (Slack only)
    email: str | None = None
    external: bool = False
    state: MemberState = "pending"
    reason: str = ""
    asked_at: datetime | None = None
    joined_at: datetime | None = None


@dataclass(frozen=True)
class TimelineEntry:
    incident: int
    at: datetime
    author: str
    kind: str  # declared, update, role, severity, invite, pinned, resolved, closed
    text: str


class IncidentStore(Protocol):
    def declare(self, incident: Incident) -> Incident:
        """Inserts the incident (its id is given by the store) and returns it with its id."""
        ...

    def get(self, incident_id: int) -> Incident | None: ...

    def by_channel(self, channel_id: str) -> Incident | None: ...

    def open_incidents(self) -> Sequence[Incident]:
        """Not closed, oldest first."""
        ...

    def declared_between(self, after: datetime, before: datetime | None = None) -> Sequence[Incident]: ...

    def lock_declarations(self) -> None:
        """Serialises declarations until this transaction ends: of two presses arriving together, the second
        waits for the first and then finds it."""
        ...

    def recent(self, declared_by: str, title: str, since: datetime) -> Sequence[Incident]:
        """Declared by this actor with this title since then: a second press of the same declaration."""
        ...

    def save(self, incident: Incident) -> None:
        """Replaces the incident's changeable fields."""
        ...

    def add_member(self, member: Member) -> bool:
        """False when the person is already a member of that war room."""
        ...

    def add_members(self, members: Sequence[Member]) -> int:
        """`add_member` for many (a war room's whole roster) in one look and one insert; returns how many were
        not members already."""
        ...

    def members(self, incident_id: int) -> Sequence[Member]: ...

    def set_member(self, incident_id: int, key: str, state: MemberState, reason: str,
                   at: datetime | None) -> None: ...

    def set_members(self, incident_id: int, outcomes: Mapping[str, tuple[MemberState, str, datetime | None]]) -> None:
        """`set_member` for many: member key -> (state, reason, joined at)."""
        ...

    def joined(self, incident_id: int, key: str, at: datetime) -> bool:
        """Records when an invited member joined; False when they had joined already."""
        ...

    def step(self, incident_id: int, name: str) -> dict[str, Any] | None:
        """The recorded result of an assembly step, or None when it has not been done."""
        ...

    def steps(self, incident_id: int) -> dict[str, dict[str, Any]]:
        """Every recorded step's result, by the step's name."""
        ...

    def record_step(self, incident_id: int, name: str, result: dict[str, Any], at: datetime) -> None:
        """Records (or replaces) a step's result."""
        ...

    def add_to_timeline(self, key: str, entry: TimelineEntry) -> bool:
        """False when an entry with this key is there already (an event Slack delivered twice)."""
        ...

    def timeline(self, incident_id: int) -> Sequence[TimelineEntry]:
        """Oldest first."""
        ...
