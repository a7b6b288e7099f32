"""One transaction per unit of work: the caller commits; leaving without commit rolls back."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from storage.directory import SqlDirectoryStore
from storage.disagreement import SqlDisagreementStore
from storage.duties import SqlDutyStore
from storage.events import SqlEventLog
from storage.forum import SqlForumStore
from storage.inbox import SqlInboxStore
from storage.incidents import SqlIncidentStore


class SqlUnitOfWork:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def __enter__(self) -> SqlUnitOfWork:
        self.session = self._sessions()
        self.directory = SqlDirectoryStore(self.session)
        self.events = SqlEventLog(self.session)
        self.duties = SqlDutyStore(self.session)
        self.forum = SqlForumStore(self.session)
        self.incidents = SqlIncidentStore(self.session)
        self.disagreements = SqlDisagreementStore(self.session)
        self.inbox = SqlInboxStore(self.session)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()
