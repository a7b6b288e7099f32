"""The rate limit's buckets (bot.rate) in the counter table: one row per person and bucket, taken from by one
conditional statement, so that processes and replicas sharing the database share each bucket exactly.

The bucket is kept in its GCRA form (the generic cell rate algorithm, a token bucket written as one number): the
row holds the theoretical arrival time `tat` in milliseconds. A command may go when `tat - now` is at most
`(burst - 1) * every`; it then moves `tat` to `max(tat, now) + every`. The check and the move are one
INSERT ... ON CONFLICT DO UPDATE ... WHERE, atomic on PostgreSQL (the row is locked until the command's transaction
ends, so another process's command of the same person waits for it and then sees the new value) and on SQLite (one
writer at a time)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import CounterRow

_COUNTER = CounterRow.__table__


class SqlRateLimits:
    def __init__(self, session: Session) -> None:
        self.session = session

    def take(self, key: str, now: datetime, every: float, burst: int) -> float | None:
        """Spends one token of the bucket `key`: None when there was one, else the seconds until there is."""
        at = int(now.timestamp() * 1000)
        interval = max(int(every * 1000), 1)
        tolerance = (burst - 1) * interval
        insert = postgresql.insert if self.session.get_bind().dialect.name == "postgresql" else sqlite.insert
        value = _COUNTER.c.value
        statement = insert(_COUNTER).values(name=key, value=at + interval).on_conflict_do_update(
            index_elements=[_COUNTER.c.name],
            set_={"value": case((value > at, value), else_=at) + interval},
            where=value - at <= tolerance).returning(value)
        # RETURNING rather than the row count, which psycopg does not report for an upsert: a row back is a token
        # spent; none, the WHERE held the bucket empty.
        if self.session.execute(statement).first() is not None:
            return None
        tat = self.session.execute(select(value).where(_COUNTER.c.name == key)).scalar() or at
        return max((tat - at - tolerance) / 1000, 0.001)
