"""bot.inbox.InboxStore on SQLAlchemy."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.chat import Command
from storage.models import InboxRow


class SqlInboxStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, command: Command) -> int:
        row = InboxRow(command=command.model_dump(mode="json"), received_at=command.received_at, state="waiting")
        self.session.add(row)
        self.session.flush()
        return row.id

    def get(self, entry: int) -> Command | None:
        row = self.session.get(InboxRow, entry)
        return Command.model_validate(row.command) if row is not None else None

    def take(self, entry: int, at: datetime, failed: bool = False) -> bool:
        # A conditional update: of two processes taking the same entry, the second waits for the first's
        # transaction (PostgreSQL's row lock, SQLite's write lock) and then finds nothing waiting.
        result = self.session.execute(
            update(InboxRow).where(InboxRow.id == entry, InboxRow.state == "waiting")
            .values(state="failed" if failed else "done", processed_at=at)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]

    def waiting(self, received_before: datetime, limit: int) -> list[int]:
        query = (select(InboxRow.id).where(InboxRow.state == "waiting", InboxRow.received_at < received_before)
                 .order_by(InboxRow.id).limit(limit))
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)  # being processed right now: not dead
        return list(self.session.scalars(query))
