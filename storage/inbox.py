"""bot.inbox.InboxStore on SQLAlchemy."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.chat import Command
from storage.models import InboxRow

_INBOX = InboxRow.__table__
_WAITING = (select(_INBOX.c.id).where(_INBOX.c.state == "waiting", _INBOX.c.received_at < bindparam("before"))
            .order_by(_INBOX.c.id).limit(bindparam("limit")))
_TAKE = (update(_INBOX).where(_INBOX.c.id == bindparam("entry"), _INBOX.c.state == "waiting")
         .values(state=bindparam("new_state"), processed_at=bindparam("at")))  # made once: every command takes one
_WAITING_SKIP_LOCKED = _WAITING.with_for_update(skip_locked=True)  # being processed right now: not dead


class SqlInboxStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, command: Command) -> int | None:
        delivery = command.trigger_id or None
        if delivery and self.session.scalar(select(InboxRow.id).where(InboxRow.delivery == delivery)) is not None:
            return None
        row = InboxRow(command=command.model_dump(mode="json"), received_at=command.received_at, state="waiting",
                       delivery=delivery)
        try:
            # A savepoint: the same delivery arriving twice at once costs only this row.
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            return None
        return row.id

    def add_all(self, commands: list[Command]) -> list[int | None]:
        """Many at once, as the intake writes them: one look for earlier deliveries, one insert."""
        triggers = [c.trigger_id for c in commands if c.trigger_id]
        seen = set(self.session.scalars(select(InboxRow.delivery).where(InboxRow.delivery.in_(triggers)))) \
            if triggers else set()
        fresh: list[Command] = []
        for command in commands:
            if command.trigger_id and command.trigger_id in seen:
                continue
            seen.add(command.trigger_id)
            fresh.append(command)
        ids = list(self.session.scalars(insert(InboxRow).returning(InboxRow.id, sort_by_parameter_order=True), [
            {"command": c.model_dump(mode="json"), "received_at": c.received_at, "state": "waiting",
             "delivery": c.trigger_id or None} for c in fresh])) if fresh else []
        numbers = dict(zip(map(id, fresh), ids, strict=True))
        return [numbers.get(id(c)) for c in commands]

    def get(self, entry: int) -> Command | None:
        row = self.session.get(InboxRow, entry)
        return Command.model_validate(row.command) if row is not None else None

    def take(self, entry: int, at: datetime, failed: bool = False) -> bool:
        # A conditional update: of two processes taking the same entry, the second waits for the first's
        # transaction (PostgreSQL's row lock, SQLite's write lock) and then finds nothing waiting.
        result = self.session.execute(_TAKE, {"entry": entry, "new_state": "failed" if failed else "done", "at": at})
        return result.rowcount == 1  # type: ignore[attr-defined]

    def waiting(self, received_before: datetime, limit: int) -> list[int]:
        # Every process asks this every second: the statement is made once.
        query = _WAITING_SKIP_LOCKED if self.session.get_bind().dialect.name == "postgresql" else _WAITING
        return list(self.session.scalars(query, {"before": received_before, "limit": limit}))

    def backlog(self) -> int:
        return self.session.scalar(select(func.count()).select_from(InboxRow).where(InboxRow.state == "waiting")) or 0
