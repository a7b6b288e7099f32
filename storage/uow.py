"""One transaction per unit of work: the caller commits; leaving without commit rolls back."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session, sessionmaker

from bot.ports import Glance
from storage.conversations import SqlConversationStore
from storage.db import READ_ONLY
from storage.directory import Platform, SqlDirectoryStore
from storage.disagreement import SqlDisagreementStore
from storage.duties import SqlDutyStore
from storage.erasure import SqlErasure
from storage.events import SqlEventLog
from storage.forum import CALENDAR, SqlForumStore
from storage.inbox import SqlInboxStore
from storage.incidents import SqlIncidentStore
from storage.models import CounterRow, DutyRow, InboxRow
from storage.native import SqlHomeStore, SqlLanguageStore, SqlLiveStore
from storage.rates import SqlRateLimits


class SqlUnitOfWork:
    def __init__(self, sessions: sessionmaker[Session], read_only: bool = False, platform: Platform = "slack") -> None:
        self._sessions = sessions
        self._read_only = read_only
        self._platform = platform

    def __enter__(self) -> SqlUnitOfWork:
        self.session = self._sessions()
        if self._read_only:
            # Said before the transaction begins: on SQLite a reader then takes no write lock. On PostgreSQL, where
            # every statement of a transaction sees the latest commits anyway (READ COMMITTED), a reader runs
            # without one: no BEGIN and no ROLLBACK, two round trips fewer for the tick every second.
            options: dict[str, object] = {READ_ONLY: True}
            if self.session.get_bind().dialect.name == "postgresql":
                options["isolation_level"] = "AUTOCOMMIT"
            self.session.connection(execution_options=options)
        self.directory = SqlDirectoryStore(self.session, self._platform)
        self.events = SqlEventLog(self.session)
        self.duties = SqlDutyStore(self.session)
        self.forum = SqlForumStore(self.session)
        self.incidents = SqlIncidentStore(self.session, self._platform)
        self.disagreements = SqlDisagreementStore(self.session)
        self.inbox = SqlInboxStore(self.session)
        self.live = SqlLiveStore(self.session)
        self.homes = SqlHomeStore(self.session)
        self.languages = SqlLanguageStore(self.session)
        self.conversations = SqlConversationStore(self.session)
        self.rates = SqlRateLimits(self.session)
        self.erasure = SqlErasure(self.session)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def glance(self) -> Glance:
        row = self.session.execute(_GLANCE).one()
        return Glance(row.calendar or 0, row.oldest_waiting, row.next_due, row.oldest_claim)


# One statement with no parameters (so a prepared statement's plan is the one every time), each part the first entry
# of an index: the counter's key, (state, received_at), (state, due_at), and the few claimed rows.
_INBOX, _DUTY, _COUNTER = InboxRow.__table__, DutyRow.__table__, CounterRow.__table__
_GLANCE = select(
    select(_COUNTER.c.value).where(_COUNTER.c.name == literal(CALENDAR, literal_execute=True)).scalar_subquery()
    .label("calendar"),
    select(func.min(_INBOX.c.received_at)).where(_INBOX.c.state == literal("waiting", literal_execute=True))
    .scalar_subquery().label("oldest_waiting"),
    select(func.min(_DUTY.c.due_at)).where(_DUTY.c.state == literal("pending", literal_execute=True))
    .scalar_subquery().label("next_due"),
    select(func.min(_DUTY.c.claimed_at)).where(_DUTY.c.state == literal("claimed", literal_execute=True))
    .scalar_subquery().label("oldest_claim"),
)
