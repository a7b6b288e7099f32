"""bot.forum.records.ForumStore on SQLAlchemy."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import STOCKHOLM
from bot.forum.calendar import Change
from bot.forum.records import (
    Action,
    AgendaItem,
    Decision,
    DeliveredReport,
    Deployment,
    ServiceLevelDecision,
    Underlag,
)
from storage.models import (
    ActionRow,
    AgendaItemRow,
    CounterRow,
    DecisionRow,
    DeploymentRow,
    ForumChangeRow,
    MarkRow,
    ReportRow,
    ServiceLevelRow,
    SubscriptionRow,
    UnderlagRow,
)

CALENDAR = "calendar"
_CALENDAR_VERSION = select(CounterRow.__table__.c.value).where(CounterRow.__table__.c.name == CALENDAR)


class SqlForumStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- agreed dates -------------------------------------------------------------------------------------------
    def changes(self, forum: str | None = None) -> Sequence[Change]:
        query = select(ForumChangeRow).order_by(ForumChangeRow.id)
        if forum is not None:
            query = query.where(ForumChangeRow.forum == forum)
        return [Change(r.forum, r.kind, r.original, r.start, r.actor, r.at)  # type: ignore[arg-type]
                for r in self.session.scalars(query)]

    def save_change(self, change: Change) -> None:
        if change.kind in ("move", "cancel"):
            self.session.execute(delete(ForumChangeRow).where(ForumChangeRow.forum == change.forum,
                                                              ForumChangeRow.original == change.original,
                                                              ForumChangeRow.kind.in_(("move", "cancel"))))
        self.session.add(ForumChangeRow(forum=change.forum, kind=change.kind, original=change.original,
                                        start=change.start, actor=change.actor, at=change.at))
        self.session.flush()

    def withdraw_extra(self, forum: str, on: date) -> list[datetime]:
        rows = list(self.session.scalars(select(ForumChangeRow).where(ForumChangeRow.forum == forum,
                                                                      ForumChangeRow.kind == "extra")))
        gone = [r for r in rows if r.start is not None and _local_day(r.start) == on]
        for row in gone:
            self.session.delete(row)
        self.session.flush()
        return [r.start for r in gone if r.start is not None]

    # -- agenda, decisions, actions -----------------------------------------------------------------------------
    def add_agenda_item(self, forum: str, sitting: datetime, text: str, by: str, at: datetime) -> AgendaItem:
        row = AgendaItemRow(forum=forum, sitting=sitting, text=text, added_by=by, added_at=at)
        self.session.add(row)
        self.session.flush()
        return AgendaItem(row.id, forum, sitting, text, by, at)

    def agenda_items(self, forum: str, sitting: datetime) -> Sequence[AgendaItem]:
        query = (select(AgendaItemRow).where(AgendaItemRow.forum == forum, AgendaItemRow.sitting == sitting)
                 .order_by(AgendaItemRow.id))
        return [AgendaItem(r.id, r.forum, r.sitting, r.text, r.added_by, r.added_at)
                for r in self.session.scalars(query)]

    def add_decision(self, forum: str, text: str, by: str, at: datetime) -> Decision:
        row = DecisionRow(forum=forum, text=text, by=by, at=at)
        self.session.add(row)
        self.session.flush()
        return Decision(row.id, forum, text, by, at)

    def decisions(self, forum: str, since: datetime) -> Sequence[Decision]:
        query = (select(DecisionRow).where(DecisionRow.forum == forum, DecisionRow.at >= since)
                 .order_by(DecisionRow.id))
        return [Decision(r.id, r.forum, r.text, r.by, r.at) for r in self.session.scalars(query)]

    def add_action(self, forum: str, owner: str, due: date, text: str, by: str, at: datetime) -> Action:
        row = ActionRow(forum=forum, owner=owner, due=due, text=text, by=by, at=at)
        self.session.add(row)
        self.session.flush()
        return _action(row)

    def action(self, action_id: int) -> Action | None:
        row = self.session.get(ActionRow, action_id)
        return _action(row) if row else None

    def open_actions(self, forum: str | None = None) -> Sequence[Action]:
        query = select(ActionRow).where(ActionRow.done_at.is_(None)).order_by(ActionRow.due, ActionRow.id)
        if forum is not None:
            query = query.where(ActionRow.forum == forum)
        return [_action(r) for r in self.session.scalars(query)]

    def actions_recorded(self, forum: str, since: datetime, until: datetime) -> Sequence[Action]:
        query = (select(ActionRow).where(ActionRow.forum == forum, ActionRow.at >= since, ActionRow.at < until)
                 .order_by(ActionRow.id))
        return [_action(r) for r in self.session.scalars(query)]

    def finish_action(self, action_id: int, at: datetime) -> None:
        row = self.session.get(ActionRow, action_id)
        if row is not None:
            row.done_at = at

    # -- subscriptions ------------------------------------------------------------------------------------------
    def subscribe(self, forum: str, person: str) -> bool:
        if self.session.get(SubscriptionRow, (forum, person)) is not None:
            return False
        self.session.add(SubscriptionRow(forum=forum, person=person))
        return True

    def unsubscribe(self, forum: str, person: str) -> bool:
        result = self.session.execute(delete(SubscriptionRow).where(SubscriptionRow.forum == forum,
                                                                    SubscriptionRow.person == person))
        return result.rowcount == 1  # type: ignore[attr-defined]

    def subscribers(self, forum: str) -> Sequence[str]:
        query = select(SubscriptionRow.person).where(SubscriptionRow.forum == forum).order_by(SubscriptionRow.person)
        return list(self.session.scalars(query))

    # -- deployments --------------------------------------------------------------------------------------------
    def add_deployment(self, service: str, party: str, at: datetime, what: str, by: str,
                       announced_at: datetime) -> Deployment:
        row = DeploymentRow(service=service, party=party, at=at, what=what, announced_by=by,
                            announced_at=announced_at)
        self.session.add(row)
        self.session.flush()
        return _deployment(row)

    def deployment(self, deployment_id: int) -> Deployment | None:
        row = self.session.get(DeploymentRow, deployment_id)
        return _deployment(row) if row else None

    def deployments(self, after: datetime, before: datetime | None = None,
                    service: str | None = None) -> Sequence[Deployment]:
        query = select(DeploymentRow).where(DeploymentRow.at >= after, DeploymentRow.cancelled_at.is_(None))
        if before is not None:
            query = query.where(DeploymentRow.at < before)
        if service is not None:
            query = query.where(DeploymentRow.service == service)
        return [_deployment(r) for r in self.session.scalars(query.order_by(DeploymentRow.at, DeploymentRow.id))]

    def cancel_deployment(self, deployment_id: int, at: datetime) -> None:
        row = self.session.get(DeploymentRow, deployment_id)
        if row is not None:
            row.cancelled_at = at

    # -- reports ------------------------------------------------------------------------------------------------
    def deliver_report(self, forum: str, report: str, sitting: datetime, party: str, text: str, by: str,
                       at: datetime) -> DeliveredReport:
        row = ReportRow(forum=forum, report=report, sitting=sitting, party=party, text=text, by=by, at=at)
        self.session.add(row)
        self.session.flush()
        return _report(row)

    def delivered_reports(self, forum: str, sitting: datetime) -> Sequence[DeliveredReport]:
        query = (select(ReportRow).where(ReportRow.forum == forum, ReportRow.sitting == sitting)
                 .order_by(ReportRow.id))
        return [_report(r) for r in self.session.scalars(query)]

    def every_delivered_report(self) -> Sequence[DeliveredReport]:
        return [_report(r) for r in self.session.scalars(select(ReportRow).order_by(ReportRow.id))]

    # -- service levels ---------------------------------------------------------------------------------------
    def decide_service_levels(self, month: str, forum: str, approved: bool, credit_sek: int | None, reason: str,
                              party: str, by: str, at: datetime) -> ServiceLevelDecision | None:
        row = ServiceLevelRow(month=month, forum=forum, approved=approved, credit_sek=credit_sek, reason=reason,
                              party=party, by=by, at=at)
        try:
            with self.session.begin_nested():  # two deciding the same month at once: one is recorded
                self.session.add(row)
                self.session.flush()
        except IntegrityError:
            return None
        return _decision(row)

    def service_level_decision(self, month: str) -> ServiceLevelDecision | None:
        row = self.session.scalars(select(ServiceLevelRow).where(ServiceLevelRow.month == month)).first()
        return _decision(row) if row else None

    def service_level_decisions(self) -> Sequence[ServiceLevelDecision]:
        return [_decision(r) for r in self.session.scalars(select(ServiceLevelRow).order_by(ServiceLevelRow.month))]

    # -- underlag (4.6) -----------------------------------------------------------------------------------------
    def add_underlag(self, key: str | None, title: str, owner: str, due: datetime, requested_by: str | None,
                     at: datetime) -> Underlag | None:
        row = UnderlagRow(key=key, title=title, owner=owner, due=due, requested_by=requested_by, requested_at=at)
        try:
            with self.session.begin_nested():
                self.session.add(row)
                self.session.flush()
        except IntegrityError:
            return None
        return _underlag(row)

    def underlag(self, underlag_id: int, lock: bool = False) -> Underlag | None:
        query = select(UnderlagRow).where(UnderlagRow.id == underlag_id)
        row = self.session.scalars(query.with_for_update() if lock else query).first()
        return _underlag(row) if row else None

    def every_underlag(self) -> Sequence[Underlag]:
        return [_underlag(r) for r in self.session.scalars(select(UnderlagRow).order_by(UnderlagRow.due,
                                                                                        UnderlagRow.id))]

    def deliver_underlag(self, underlag_id: int, text: str, by: str, at: datetime) -> bool:
        result = self.session.execute(
            update(UnderlagRow).where(UnderlagRow.id == underlag_id, UnderlagRow.delivered_at.is_(None))
            .values(text=text, delivered_by=by, delivered_at=at).execution_options(synchronize_session=False))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- marks --------------------------------------------------------------------------------------------------
    def mark(self, name: str) -> datetime | None:
        row = self.session.get(MarkRow, name)
        return row.value if row else None

    def set_mark(self, name: str, value: datetime) -> None:
        row = self.session.get(MarkRow, name)
        if row is not None:
            row.value = value
            return
        try:
            # Two processes planning for the first time at once: the other's mark is as good as ours.
            with self.session.begin_nested():
                self.session.add(MarkRow(name=name, value=value))
        except IntegrityError:
            pass

    def calendar_version(self) -> int:
        return self.session.execute(_CALENDAR_VERSION).scalar() or 0

    def calendar_changed(self) -> None:
        insert = postgresql.insert if self.session.get_bind().dialect.name == "postgresql" else sqlite.insert
        counter = CounterRow.__table__
        # One statement, the row made by the first change: of two changes at once, each adds its one.
        statement = insert(counter).values(name=CALENDAR, value=1)
        self.session.execute(statement.on_conflict_do_update(index_elements=[counter.c.name],
                                                            set_={"value": counter.c.value + 1}))


def _action(row: ActionRow) -> Action:
    return Action(row.id, row.forum, row.owner, row.due, row.text, row.by, row.at, row.done_at)


def _deployment(row: DeploymentRow) -> Deployment:
    return Deployment(row.id, row.service, row.party, row.at, row.what, row.announced_by, row.announced_at,
                      row.cancelled_at)


def _local_day(instant: datetime) -> date | None:
    try:
        return instant.astimezone(STOCKHOLM).date()
    except OverflowError:
        return instant.date()


def _decision(row: ServiceLevelRow) -> ServiceLevelDecision:
    return ServiceLevelDecision(row.id, row.month, row.forum, row.approved, row.credit_sek, row.reason, row.party,
                                row.by, row.at)


def _underlag(row: UnderlagRow) -> Underlag:
    return Underlag(row.id, row.key, row.title, row.owner, row.due, row.requested_by, row.requested_at, row.text,
                    row.delivered_by, row.delivered_at)


def _report(row: ReportRow) -> DeliveredReport:
    return DeliveredReport(row.id, row.forum, row.report, row.sitting, row.party, row.text, row.by, row.at)
