"""What is written down about forums: agenda items, decisions, actions, subscriptions, deployments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from bot.forum.calendar import Change
from bot.model.schema import Forum, Report


@dataclass(frozen=True)
class AgendaItem:
    id: int
    forum: str
    sitting: datetime  # the sitting's identity (its rule instant)
    text: str
    added_by: str
    added_at: datetime


@dataclass(frozen=True)
class Decision:
    id: int
    forum: str
    text: str
    by: str
    at: datetime


@dataclass(frozen=True)
class Action:
    id: int
    forum: str
    owner: str  # directory key
    due: date
    text: str
    by: str
    at: datetime
    done_at: datetime | None = None

    @property
    def ref(self) -> str:
        return f"A-{self.id}"


@dataclass(frozen=True)
class Deployment:
    id: int
    service: str
    party: str
    at: datetime
    what: str
    announced_by: str
    announced_at: datetime
    cancelled_at: datetime | None = None

    @property
    def ref(self) -> str:
        return f"P-{self.id}"


@dataclass(frozen=True)
class OwedReport:
    """A report a forum's model entry says its owner owes before each sitting: what `/forum report` is about."""

    forum: Forum
    report: Report


@dataclass(frozen=True)
class DeliveredReport:
    id: int
    forum: str
    report: str  # the report's key in the model
    sitting: datetime  # the sitting's identity (its rule instant)
    party: str
    text: str  # a link, or the report itself
    by: str
    at: datetime


@dataclass(frozen=True)
class ServiceLevelMonth:
    """What `/forum sla` is about: one month's service levels to decide, or (month None) the register."""

    forum: Forum
    month: str | None


@dataclass(frozen=True)
class ServiceLevelDecision:
    """The City's formal approval or rejection of a month's service levels and KPIs, with any service credit
    (5.2, Leveransuppföljning): the register."""

    id: int
    month: str  # YYYY-MM
    forum: str
    approved: bool
    credit_sek: int | None
    reason: str
    party: str
    by: str
    at: datetime


@dataclass(frozen=True)
class Underlag:
    """Input the supplier owes the City (section 4.6): at a fixed time of the year (`key`, the model's entry), or
    asked for at short notice (`requested_by`)."""

    id: int
    key: str | None
    title: str
    owner: str
    due: datetime
    requested_by: str | None
    requested_at: datetime
    text: str | None = None
    delivered_by: str | None = None
    delivered_at: datetime | None = None

    @property
    def ref(self) -> str:
        return f"U-{self.id}"


@dataclass(frozen=True)
class UnderlagRegister:
    """What `/forum underlag` is about: what the owner party owes the party that receives it."""

    owner: str
    to: str


class ForumStore(Protocol):
    def changes(self, forum: str | None = None) -> Sequence[Change]: ...

    def save_change(self, change: Change) -> None:
        """A move or cancellation replaces an earlier one of the same sitting."""
        ...

    def withdraw_extra(self, forum: str, on: date) -> list[datetime]:
        """Removes the forum's agreed extra sittings on that day (Stockholm time); returns when they were."""
        ...

    def add_agenda_item(self, forum: str, sitting: datetime, text: str, by: str, at: datetime) -> AgendaItem: ...

    def agenda_items(self, forum: str, sitting: datetime) -> Sequence[AgendaItem]: ...

    def add_decision(self, forum: str, text: str, by: str, at: datetime) -> Decision: ...

    def decisions(self, forum: str, since: datetime) -> Sequence[Decision]: ...

    def add_action(self, forum: str, owner: str, due: date, text: str, by: str, at: datetime) -> Action: ...

    def action(self, action_id: int) -> Action | None: ...

    def open_actions(self, forum: str | None = None) -> Sequence[Action]: ...

    def actions_recorded(self, forum: str, since: datetime, until: datetime) -> Sequence[Action]:
        """The forum's actions recorded in [since, until), done or not (for its archive package)."""
        ...

    def finish_action(self, action_id: int, at: datetime) -> None: ...

    def subscribe(self, forum: str, person: str) -> bool: ...

    def unsubscribe(self, forum: str, person: str) -> bool: ...

    def subscribers(self, forum: str) -> Sequence[str]: ...

    def add_deployment(self, service: str, party: str, at: datetime, what: str, by: str,
                       announced_at: datetime) -> Deployment: ...

    def deployment(self, deployment_id: int) -> Deployment | None: ...

    def deployments(self, after: datetime, before: datetime | None = None,
                    service: str | None = None) -> Sequence[Deployment]: ...

    def cancel_deployment(self, deployment_id: int, at: datetime) -> None: ...

    def deliver_report(self, forum: str, report: str, sitting: datetime, party: str, text: str, by: str,
                       at: datetime) -> DeliveredReport: ...

    def delivered_reports(self, forum: str, sitting: datetime) -> Sequence[DeliveredReport]:
        """Oldest first: a later delivery of the same report replaces an earlier one."""
        ...

    def every_delivered_report(self) -> Sequence[DeliveredReport]: ...

    def decide_service_levels(self, month: str, forum: str, approved: bool, credit_sek: int | None, reason: str,
                              party: str, by: str, at: datetime) -> ServiceLevelDecision | None:
        """Records the month's decision; None when the month is already decided (by someone a moment ago)."""
        ...

    def service_level_decision(self, month: str) -> ServiceLevelDecision | None: ...

    def service_level_decisions(self) -> Sequence[ServiceLevelDecision]:
        """The register, by month."""
        ...

    def add_underlag(self, key: str | None, title: str, owner: str, due: datetime, requested_by: str | None,
                     at: datetime) -> Underlag | None:
        """None when a model entry's underlag for that due time is already there (planned by another process)."""
        ...

    def underlag(self, underlag_id: int, lock: bool = False) -> Underlag | None: ...

    def every_underlag(self) -> Sequence[Underlag]:
        """Oldest due first."""
        ...

    def deliver_underlag(self, underlag_id: int, text: str, by: str, at: datetime) -> bool:
        """Only if not delivered yet; True when it was."""
        ...

    def mark(self, name: str) -> datetime | None:
        """A named instant the planner keeps, such as how far reminders have been planned."""
        ...

    def set_mark(self, name: str, value: datetime) -> None: ...

    def calendar_version(self) -> int:
        """A number that grows with every change reminders are planned from: one read, cheap enough for every
        tick of every process."""
        ...

    def calendar_changed(self) -> None:
        """Bumps the calendar's version, in the transaction that changed it: the change and the news of it are
        committed together."""
        ...
