"""bot.incident.records.IncidentStore on SQLAlchemy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.incident.records import Incident, Member, MemberState, TimelineEntry
from storage.bulk import chunks, insert_missing
from storage.models import IncidentMemberRow, IncidentRow, IncidentStepRow, IncidentTimelineRow

_CHANGEABLE = ("title", "severity", "description", "last_update_at", "channel_name", "channel_id", "commander",
               "communications", "scribe", "assembled_at", "resolved_at", "summary", "closed_at")


class SqlIncidentStore:
    def __init__(self, session: Session, platform: str = "slack") -> None:
        self.session = session
        # A member's account is kept in the column of the platform the war room is on.
        self._account = "teams_user" if platform == "teams" else "slack_user"
        # And the group it was asked in through: an Entra ID group on Teams, a Slack user group on Slack.
        self._group = "teams_usergroup" if platform == "teams" else "slack_usergroup"

    # -- incidents ----------------------------------------------------------------------------------------------
    def declare(self, incident: Incident) -> Incident:
        row = IncidentRow(services=list(incident.services), declared_by=incident.declared_by,
                          declared_at=incident.declared_at,
                          **{f: getattr(incident, f) for f in _CHANGEABLE})
        self.session.add(row)
        self.session.flush()
        return _incident(row)

    def get(self, incident_id: int) -> Incident | None:
        row = self.session.get(IncidentRow, incident_id)
        return _incident(row) if row else None

    def by_channel(self, channel_id: str) -> Incident | None:
        row = self.session.scalar(select(IncidentRow).where(IncidentRow.channel_id == channel_id)
                                  .order_by(IncidentRow.id.desc()).limit(1))
        return _incident(row) if row else None

    def open_incidents(self) -> Sequence[Incident]:
        query = select(IncidentRow).where(IncidentRow.closed_at.is_(None)).order_by(IncidentRow.id)
        return [_incident(r) for r in self.session.scalars(query)]

    def declared_between(self, after: datetime, before: datetime | None = None) -> Sequence[Incident]:
        query = select(IncidentRow).where(IncidentRow.declared_at >= after).order_by(IncidentRow.declared_at)
        if before is not None:
            query = query.where(IncidentRow.declared_at < before)
        return [_incident(r) for r in self.session.scalars(query)]

    def lock_declarations(self) -> None:
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("SELECT pg_advisory_xact_lock(7252004)"))
        else:
            # SQLite: a write statement (matching nothing) takes the database's write lock now, not at the insert;
            # the busy timeout makes the second declaration wait for the first to commit.
            self.session.execute(update(IncidentRow).where(IncidentRow.id < 0).values(title=IncidentRow.title))

    def recent(self, declared_by: str, title: str, since: datetime) -> Sequence[Incident]:
        query = (select(IncidentRow).where(IncidentRow.declared_by == declared_by, IncidentRow.title == title,
                                           IncidentRow.declared_at >= since).order_by(IncidentRow.id))
        return [_incident(r) for r in self.session.scalars(query)]

    def save(self, incident: Incident) -> None:
        self.session.execute(update(IncidentRow).where(IncidentRow.id == incident.id)
                             .values(**{f: getattr(incident, f) for f in _CHANGEABLE}))

    # -- members ------------------------------------------------------------------------------------------------
    def add_member(self, member: Member) -> bool:
        if self.session.get(IncidentMemberRow, (member.incident, member.key)) is not None:
            return False
        try:
            with self.session.begin_nested():
                self.session.add(IncidentMemberRow(
                    incident_id=member.incident, key=member.key, party=member.party, name=member.name,
                    **{self._account: member.account, self._group: member.group}, email=member.email,
                    external=member.external, state=member.state, reason=member.reason, asked_at=member.asked_at,
                    joined_at=member.joined_at))
        except IntegrityError:
            return False
        return True

    def add_members(self, members: Sequence[Member]) -> int:
        fresh: dict[tuple[int, str], Member] = {}
        for m in members:
            fresh.setdefault((m.incident, m.key), m)  # the first of a key wins, as one by one
        for incident in {i for i, _ in fresh}:
            keys = [k for i, k in fresh if i == incident]
            for chunk in chunks(keys):
                for key in self.session.scalars(select(IncidentMemberRow.key).where(
                        IncidentMemberRow.incident_id == incident, IncidentMemberRow.key.in_(chunk))):
                    fresh.pop((incident, key), None)
        rows = [{"incident_id": m.incident, "key": m.key, "party": m.party, "name": m.name,
                 "slack_user": None, "teams_user": None, self._account: m.account, "slack_usergroup": None,
                 "teams_usergroup": None, self._group: m.group,
                 "email": m.email,
                 "external": m.external, "state": m.state, "reason": m.reason, "asked_at": m.asked_at,
                 "joined_at": m.joined_at} for m in fresh.values()]
        # Someone added by another transaction meanwhile is skipped, as add_member's savepoint did.
        insert_missing(self.session, IncidentMemberRow.__table__, rows,  # type: ignore[arg-type]
                       unique=["incident_id", "key"])
        return len(rows)

    def members(self, incident_id: int) -> Sequence[Member]:
        # Plain rows, not ORM objects: a war room's roster is read whole, and often.
        m = IncidentMemberRow
        query = (select(m.incident_id, m.key, m.party, m.name, getattr(m, self._account).label("account"),
                        getattr(m, self._group).label("usergroup"), m.email, m.external, m.state, m.reason,
                        m.asked_at, m.joined_at)
                 .where(m.incident_id == incident_id).order_by(m.asked_at, m.key))
        return [_member(row) for row in self.session.execute(query)]  # type: ignore[arg-type]

    def set_member(self, incident_id: int, key: str, state: MemberState, reason: str, at: datetime | None) -> None:
        self.session.execute(update(IncidentMemberRow)
                             .where(IncidentMemberRow.incident_id == incident_id, IncidentMemberRow.key == key)
                             .values(state=state, reason=reason[:500], joined_at=at))

    def set_members(self, incident_id: int, outcomes: Mapping[str, tuple[MemberState, str, datetime | None]]) -> None:
        # Most members share their outcome (invited, now): one statement for each outcome, not one for each person.
        alike: dict[tuple[MemberState, str, datetime | None], list[str]] = {}
        for key, (state, reason, at) in outcomes.items():
            alike.setdefault((state, reason[:500], at), []).append(key)
        for (state, reason, at), keys in alike.items():
            for chunk in chunks(keys):
                self.session.execute(update(IncidentMemberRow)
                                     .where(IncidentMemberRow.incident_id == incident_id,
                                            IncidentMemberRow.key.in_(chunk))
                                     .values(state=state, reason=reason, joined_at=at))

    def joined(self, incident_id: int, key: str, at: datetime) -> bool:
        result = self.session.execute(
            update(IncidentMemberRow)
            .where(IncidentMemberRow.incident_id == incident_id, IncidentMemberRow.key == key,
                   IncidentMemberRow.joined_at.is_(None))
            .values(joined_at=at, state="invited", reason=""))
        return result.rowcount == 1  # type: ignore[attr-defined]

    # -- assembly steps -----------------------------------------------------------------------------------------
    def step(self, incident_id: int, name: str) -> dict[str, Any] | None:
        row = self.session.get(IncidentStepRow, (incident_id, name))
        return dict(row.result) if row else None

    def steps(self, incident_id: int) -> dict[str, dict[str, Any]]:
        query = select(IncidentStepRow.name, IncidentStepRow.result).where(IncidentStepRow.incident_id == incident_id)
        return {name: dict(result) for name, result in self.session.execute(query)}

    def record_step(self, incident_id: int, name: str, result: dict[str, Any], at: datetime) -> None:
        row = self.session.get(IncidentStepRow, (incident_id, name))
        if row is None:
            self.session.add(IncidentStepRow(incident_id=incident_id, name=name, result=result, at=at))
        else:
            row.result = result
            row.at = at

    # -- timeline -----------------------------------------------------------------------------------------------
    def add_to_timeline(self, key: str, entry: TimelineEntry) -> bool:
        if self.session.scalar(select(IncidentTimelineRow.id).where(IncidentTimelineRow.key == key)) is not None:
            return False
        try:
            # A savepoint: the same event delivered twice at the same moment costs only this row.
            with self.session.begin_nested():
                self.session.add(IncidentTimelineRow(incident_id=entry.incident, key=key, at=entry.at,
                                                     author=entry.author, kind=entry.kind, text=entry.text[:4000]))
        except IntegrityError:
            return False
        return True

    def timeline(self, incident_id: int) -> Sequence[TimelineEntry]:
        query = (select(IncidentTimelineRow).where(IncidentTimelineRow.incident_id == incident_id)
                 .order_by(IncidentTimelineRow.at, IncidentTimelineRow.id))
        return [TimelineEntry(r.incident_id, r.at, r.author, r.kind, r.text) for r in self.session.scalars(query)]


def _incident(row: IncidentRow) -> Incident:
    return Incident(id=row.id, services=tuple(row.services), declared_by=row.declared_by,
                    declared_at=row.declared_at, **{f: getattr(row, f) for f in _CHANGEABLE})


def _member(row) -> Member:  # type: ignore[no-untyped-def]
    return Member(row.incident_id, row.key, row.party, row.name, row.account, row.usergroup, row.email,
                  row.external, row.state, row.reason, row.asked_at, row.joined_at)  # type: ignore[arg-type]
