"""bot.duties.DutyStore on SQLAlchemy. Claims are conditional updates, so they are safe across processes on
PostgreSQL and SQLite alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.duties import Duty, Outcome
from storage.bulk import insert_missing
from storage.models import DutyRow


class SqlDutyStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def plan(self, duty: Duty, claimed_by: str | None = None, at: datetime | None = None) -> bool:
        if claimed_by is not None:
            # A fresh key, performed at once by the planner: planned as claimed, which saves the claim's round trip.
            # A plain insert (every command plans its answer this way), not an ORM object to flush.
            self.session.execute(_PLAN_CLAIMED, {"key": duty.key, "kind": duty.kind, "due_at": duty.due,
                                                 "not_after": duty.not_after, "payload": duty.payload,
                                                 "claimed_by": claimed_by, "claimed_at": at})
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
        # One statement, and a key planned already (by anyone, in any state) is left as it is, instead of a
        # look-up and a savepoint per duty.
        insert_missing(self.session, DutyRow.__table__, [  # type: ignore[arg-type]
            {"key": d.key, "kind": d.kind, "due_at": d.due, "not_after": d.not_after, "payload": d.payload,
             "state": "pending", "attempts": 0, "note": ""} for d in duties], unique=["key"])

    def unplan(self, key: str) -> bool:
        result = self.session.execute(
            update(DutyRow).where(DutyRow.key == key, DutyRow.state == "pending").values(state="withdrawn")
        )
        return result.rowcount == 1  # type: ignore[attr-defined]

    def pending_keys(self, prefix: str, kind: str | None = None) -> set[str]:
        query = select(DutyRow.key).where(DutyRow.state == "pending", DutyRow.key.startswith(prefix, autoescape=True))
        if kind is not None:
            query = query.where(DutyRow.kind == kind)
        return set(self.session.scalars(query))

    def get(self, key: str) -> Duty | None:
        row = self.session.scalar(select(DutyRow).where(DutyRow.key == key))
        return _duty(row) if row is not None else None

    def due(self, now: datetime, limit: int) -> list[Duty]:
        # Plain rows, not ORM objects: a sweep reads up to a batch of them; every second, so the statement is
        # made once.
        return [_duty(row) for row in self.session.execute(_DUE, {"now": now, "limit": limit})]

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
        result = self.session.execute(_CLAIM_MANY, {"keys": list(keys), "worker": worker, "now": now})
        return set(result.scalars())

    def renew(self, keys: list[str], worker: str, now: datetime) -> int:
        result = self.session.execute(
            update(DutyRow).where(DutyRow.key.in_(keys), DutyRow.state == "claimed", DutyRow.claimed_by == worker)
            .values(claimed_at=now).execution_options(synchronize_session=False)
        )
        return result.rowcount  # type: ignore[attr-defined]

    def stale(self, claimed_before: datetime, limit: int) -> list[tuple[Duty, datetime]]:
        rows = self.session.execute(_STALE, {"before": claimed_before, "limit": limit})
        return [(_duty(row), row.claimed_at) for row in rows if row.claimed_at]

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
        result = self.session.execute(_FINISH, {"the_key": key, "worker": worker, "outcome": outcome, "now": now,
                                                "note": note[:300]})
        return result.rowcount == 1  # type: ignore[attr-defined]

    def finish_many(self, outcomes: Mapping[str, tuple[Outcome, str]], worker: str, now: datetime) -> set[str]:
        # One update for each outcome and note: nearly always one for the whole batch ("done", no note).
        together: dict[tuple[Outcome, str], list[str]] = {}
        for key, (outcome, note) in outcomes.items():
            together.setdefault((outcome, note[:300]), []).append(key)
        mine: set[str] = set()
        for (outcome, note), keys in together.items():
            result = self.session.execute(_FINISH_MANY, {"keys": keys, "worker": worker, "now": now,
                                                         "outcome": outcome, "note": note})
            mine.update(result.scalars())
        return mine

    def due_counts(self, now: datetime) -> dict[str, int]:
        query = (select(DutyRow.kind, func.count()).where(DutyRow.state == "pending", DutyRow.due_at <= now)
                 .group_by(DutyRow.kind))
        return {kind: count for kind, count in self.session.execute(query)}

    def state(self, key: str) -> str | None:
        return self.session.scalar(select(DutyRow.state).where(DutyRow.key == key))


# The batch statements, made once: the keys are one expanding parameter. They find the rows by their keys: the
# state is compared as `state || ''`, which no index has, for with a list of keys SQLite (which keeps no statistics)
# would otherwise read every pending duty along the (state, due_at) index.
_DUTY = DutyRow.__table__
_STATE = _DUTY.c.state + ""
_DUE = (select(_DUTY).where(_DUTY.c.state == "pending", _DUTY.c.due_at <= bindparam("now"))
        .order_by(_DUTY.c.due_at, _DUTY.c.id).limit(bindparam("limit")))
_STALE = (select(_DUTY).where(_DUTY.c.state == "claimed", _DUTY.c.claimed_at < bindparam("before"))
          .order_by(_DUTY.c.claimed_at).limit(bindparam("limit")))
_CLAIM_MANY = (
    update(_DUTY)
    .where(_DUTY.c.key.in_(bindparam("keys", expanding=True)), _STATE == "pending",
           _DUTY.c.due_at <= bindparam("now"))
    .values(state="claimed", claimed_by=bindparam("worker"), claimed_at=bindparam("now"),
            attempts=_DUTY.c.attempts + 1)
    .returning(_DUTY.c.key)
)
_PLAN_CLAIMED = insert(_DUTY).values(state="claimed", attempts=1, note="")
_FINISH = (
    update(_DUTY)
    .where(_DUTY.c.key == bindparam("the_key"), _DUTY.c.state == "claimed", _DUTY.c.claimed_by == bindparam("worker"))
    .values(state=bindparam("outcome"), finished_at=bindparam("now"), note=bindparam("note"))
)
_FINISH_MANY = (
    update(_DUTY)
    .where(_DUTY.c.key.in_(bindparam("keys", expanding=True)), _STATE == "claimed",
           _DUTY.c.claimed_by == bindparam("worker"))
    .values(state=bindparam("outcome"), finished_at=bindparam("now"), note=bindparam("note"))
    .returning(_DUTY.c.key)
)


def _duty(row: DutyRow | Row[Any]) -> Duty:
    return Duty(key=row.key, kind=row.kind, due=row.due_at, not_after=row.not_after, payload=dict(row.payload),
                attempts=row.attempts)
