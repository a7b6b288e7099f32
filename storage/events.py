"""The event log: bot.ports.EventLog on SQLAlchemy. Rows are only ever inserted."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot.events import Event
from storage.models import EventRow


class SqlEventLog:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, event: Event) -> None:
        self.session.add(EventRow(at=event.at, actor=event.actor, kind=event.kind, subject=event.subject,
                                  data=event.data))

    def record_many(self, events: Sequence[Event]) -> None:
        if events:
            # One statement for them all, without reading back ids nobody needs.
            self.session.execute(insert(EventRow.__table__), [{"at": e.at, "actor": e.actor, "kind": e.kind,
                                                     "subject": e.subject, "data": e.data} for e in events])

    def history(self, subject: str | None = None, kind_prefix: str = "", limit: int = 50) -> Sequence[Event]:
        self.session.flush()
        query = select(EventRow).order_by(EventRow.at.desc(), EventRow.id.desc()).limit(limit)
        if subject is not None:
            query = query.where(EventRow.subject == subject)
        if kind_prefix:
            query = query.where(EventRow.kind.startswith(kind_prefix, autoescape=True))
        return [Event(r.at, r.actor, r.kind, r.subject, dict(r.data)) for r in self.session.scalars(query)]

    def subjects(self, kind: str) -> set[str]:
        self.session.flush()
        return set(self.session.scalars(select(EventRow.subject).where(EventRow.kind == kind).distinct()))
