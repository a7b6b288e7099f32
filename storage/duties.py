"""bot.duties.DutyStore on SQLAlchemy. Claims are conditional updates, so they are safe across processes on
PostgreSQL and SQLite alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.duties import Duty, Outcome
from storage.models import DutyRow


class SqlDutyStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def plan(self, duty: Duty, claimed_by: str | None = None, at: datetime | None = None) -> bool:
        if claimed_by is not None:
            # A fresh key, performed at once by the planner: planned as claimed, which saves the claim's round trip.
            self.session.add(DutyRow(key=duty.key, kind=duty.kind, due_at=duty.due, not_after=duty.not_after,
                                     payload=duty.payload, state="claimed", claimed_by=claimed_by, claimed_at=at,
                                     attempts=1, note=""))
            return True
        if self.session.scalar(select(DutyRow.id).where(DutyRow.key == duty.key)) is not None:
            return False
        try:
            # A savepoint, so that another process planning the same key at the same moment costs only this row.
            with self.session.begin_nested():
                self.session.add(DutyRow(key=duty.key, kind=duty.kind, due_at=duty.due, not_after=duty.not_after,
                                         payload=duty.payload, state="pending", attempts=0, note=""))
        except IntegrityError:
            return False
        return True

    def plan_many(self, duties: Sequence[Duty]) -> None:
        if not duties:
            return
        # One statement, and a key planned already (by anyone, in any state) is left as it is: ON CONFLICT DO
        # NOTHING, which both databases have, instead of a look-up and a savepoint per duty.
        insert = postgresql.insert if self.session.get_bind().dialect.name == "postgresql" else sqlite.insert
        self.session.execute(
            insert(DutyRow).on_conflict_do_nothing(index_elements=[DutyRow.key]),
            [{"key": d.key, "kind": d.kind, "due_at": d.due, "not_after": d.not_after, "payload": d.payload,
              "state": "pending", "attempts": 0, "note": ""} for d in duties],
        )

    def unplan(self, key: str) -> bool:
        result = self.session.execute(
            update(DutyRow).where(DutyRow.key == key, DutyRow.state == "pending").values(state="withdrawn")
        )
        return result.rowcount == 1  # type: ignore[attr-defined]

    def pending_keys(self, prefix: str) -> set[str]:
        query = select(DutyRow.key).where(DutyRow.state == "pending", DutyRow.key.startswith(prefix, autoescape=True))
        return set(self.session.scalars(query))

    def get(self, key: str) -> Duty | None:
        row = self.session.scalar(select(DutyRow).where(DutyRow.key == key))
        return _duty(row) if row is not None else None

    def due(self, now: datetime, limit: int) -> list[Duty]:
        query = (select(DutyRow).where(DutyRow.state == "pending", DutyRow.due_at <= now)
                 .order_by(DutyRow.due_at, DutyRow.id).limit(limit))
        return [_duty(row) for row in self.session.scalars(query)]

    def claim(self, key: str, worker: str, now: datetime) -> bool:
        result = self.session.execute(
            update(DutyRow).where(DutyRow.key == key, DutyRow.state == "pending")
            .values(state="claimed", claimed_by=worker, claimed_at=now, attempts=DutyRow.attempts + 1)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]

    def claim_many(self, keys: Sequence[str], worker: str, now: datetime) -> set[str]:
        if not keys:
            return set()
        # One conditional update for the batch: a duty someone else claimed (or gave back for later) since it was
        # read is no longer pending and due, and is not among the keys returned.
        result = self.session.execute(
            update(DutyRow).where(DutyRow.key.in_(keys), DutyRow.state == "pending", DutyRow.due_at <= now)
            .values(state="claimed", claimed_by=worker, claimed_at=now, attempts=DutyRow.attempts + 1)
            .returning(DutyRow.key).execution_options(synchronize_session=False)
        )
        return set(result.scalars())

    def renew(self, keys: list[str], worker: str, now: datetime) -> int:
        result = self.session.execute(
            update(DutyRow).where(DutyRow.key.in_(keys), DutyRow.state == "claimed", DutyRow.claimed_by == worker)
            .values(claimed_at=now).execution_options(synchronize_session=False)
        )
        return result.rowcount  # type: ignore[attr-defined]

    def stale(self, claimed_before: datetime, limit: int) -> list[tuple[Duty, datetime]]:
        query = (select(DutyRow).where(DutyRow.state == "claimed", DutyRow.claimed_at < claimed_before)
                 .order_by(DutyRow.claimed_at).limit(limit))
        return [(_duty(row), row.claimed_at) for row in self.session.scalars(query) if row.claimed_at]

    def reclaim(self, key: str, worker: str, now: datetime, claimed_at: datetime) -> bool:
        result = self.session.execute(
            update(DutyRow).where(DutyRow.key == key, DutyRow.state == "claimed", DutyRow.claimed_at == claimed_at)
            .values(claimed_by=worker, claimed_at=now, attempts=DutyRow.attempts + 1)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]

    def retry(self, key: str, worker: str, at: datetime, note: str) -> None:
        self.session.execute(
            update(DutyRow).where(DutyRow.key == key, DutyRow.state == "claimed", DutyRow.claimed_by == worker)
            .values(state="pending", due_at=at, claimed_by=None, claimed_at=None, note=note[:300])
        )

    def finish(self, key: str, worker: str, outcome: Outcome, now: datetime, note: str = "") -> bool:
        result = self.session.execute(
            update(DutyRow).where(DutyRow.key == key, DutyRow.state == "claimed", DutyRow.claimed_by == worker)
            .values(state=outcome, finished_at=now, note=note[:300])
        )
        return result.rowcount == 1  # type: ignore[attr-defined]

    def finish_many(self, outcomes: Mapping[str, tuple[Outcome, str]], worker: str, now: datetime) -> set[str]:
        # One update for each outcome and note: nearly always one for the whole batch ("done", no note).
        together: dict[tuple[Outcome, str], list[str]] = {}
        for key, (outcome, note) in outcomes.items():
            together.setdefault((outcome, note[:300]), []).append(key)
        mine: set[str] = set()
        for (outcome, note), keys in together.items():
            result = self.session.execute(
                update(DutyRow).where(DutyRow.key.in_(keys), DutyRow.state == "claimed", DutyRow.claimed_by == worker)
                .values(state=outcome, finished_at=now, note=note)
                .returning(DutyRow.key).execution_options(synchronize_session=False)
            )
            mine.update(result.scalars())
        return mine

    def state(self, key: str) -> str | None:
        return self.session.scalar(select(DutyRow.state).where(DutyRow.key == key))


def _duty(row: DutyRow) -> Duty:
    return Duty(key=row.key, kind=row.kind, due=row.due_at, not_after=row.not_after, payload=dict(row.payload),
                attempts=row.attempts)
