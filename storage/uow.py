"""One transaction per unit of work: the caller commits; leaving without commit rolls back."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from storage.db import READ_ONLY
from storage.directory import SqlDirectoryStore
from storage.disagreement import SqlDisagreementStore
from storage.duties import SqlDutyStore
from storage.events import SqlEventLog
from storage.forum import SqlForumStore
from storage.inbox import SqlInboxStore
from storage.incidents import SqlIncidentStore
from storage.native import SqlHomeStore, SqlLanguageStore, SqlLiveStore


class SqlUnitOfWork:
    def __init__(self, sessions: sessionmaker[Session], read_only: bool = False) -> None:
        self._sessions = sessions
        self._read_only = read_only

    def __enter__(self) -> SqlUnitOfWork:
        self.session = self._sessions()
        if self._read_only:
            # Said before the transaction begins: on SQLite a reader then takes no write lock.
            self.session.connection(execution_options={READ_ONLY: True})
        self.directory = SqlDirectoryStore(self.session)
        self.events = SqlEventLog(self.session)
        self.duties = SqlDutyStore(self.session)
        self.forum = SqlForumStore(self.session)
        self.incidents = SqlIncidentStore(self.session)
        self.disagreements = SqlDisagreementStore(self.session)
        self.inbox = SqlInboxStore(self.session)
        self.live = SqlLiveStore(self.session)
        self.homes = SqlHomeStore(self.session)
        self.languages = SqlLanguageStore(self.session)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()
