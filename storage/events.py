"""The event log: bot.ports.EventLog on SQLAlchemy. Rows are only ever inserted, each chained by hash to the one
before it (bot/chain.py).

The chain follows commit order because appends to it are serialised: on PostgreSQL a transaction-level advisory lock
(CHAIN_LOCK) is taken just before a transaction's first event is inserted and held until it commits or rolls back,
so the next appender reads the head only after this one's events are committed (READ COMMITTED: each statement sees
the latest commits); on SQLite every writing transaction already holds the database's one write lock from its
BEGIN IMMEDIATE (storage/db.py). Two transactions thus never chain to the same predecessor, and ids, handed out
under the same lock, rise with the sequence numbers. The unique constraint on `seq` would refuse a second event at
the same place should the lock ever be missing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot.chain import ERASED, GENESIS, ChainHead, Link, Sealed, digest, seals
from bot.events import Event
from storage.models import EventRow

# The advisory lock's key on PostgreSQL (storage/db.py takes 7252011 while migrating).
CHAIN_LOCK = 7252012


class SqlEventLog:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, event: Event) -> None:
        self.record_many([event])

    def record_many(self, events: Sequence[Event]) -> None:
        if not events:
            return
        head = self._lock_and_read_head()
        rows = []
        seq, prev = head.seq, head.hash
        for e in events:
            seq += 1
            # Hashed as it will be read back: JSON turns tuples into lists and every key into a string.
            own = digest(seq, e.at, e.actor, e.kind, e.subject, json.loads(json.dumps(e.data)), prev)
            rows.append({"at": e.at, "actor": e.actor, "kind": e.kind, "subject": e.subject, "data": e.data,
                         "seq": seq, "prev_hash": prev, "hash": own})
            prev = own
        # One statement for them all, without reading back ids nobody needs.
        self.session.execute(insert(EventRow.__table__), rows)

    def _lock_and_read_head(self) -> ChainHead:
        connection = self.session.connection()
        if connection.dialect.name == "postgresql":
            # Taken again by a transaction that holds it already, it is simply held once more until the end.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({CHAIN_LOCK})")
        return self.head()

    def head(self) -> ChainHead:
        """The last event in the chain: its sequence number and hash (0 and the genesis hash when there is none)."""
        row = self.session.execute(select(EventRow.seq, EventRow.hash).where(EventRow.seq.is_not(None))
                                   .order_by(EventRow.seq.desc()).limit(1)).first()
        return ChainHead(row.seq, row.hash) if row is not None and row.hash else ChainHead(0, GENESIS)

    def links(self, batch: int = 1000) -> Iterator[Link]:
        """Every stored event for bot.chain.walk: those in the chain by sequence number, then the others by id."""
        last = 0
        while True:
            rows = self.session.execute(select(*_COLUMNS).where(EventRow.seq > last).order_by(EventRow.seq)
                                        .limit(batch)).all()
            if not rows:
                break
            for row in rows:
                yield _link(row)
            last = rows[-1].seq
        for row in self.session.execute(select(*_COLUMNS).where(EventRow.seq.is_(None)).order_by(EventRow.id)):
            yield _link(row)

    def seals(self) -> Sealed:
        """The fields erasures replaced (bot.chain.seals), from the erasure events in the chain, oldest first."""
        return seals(dict(data or {}) for data in self.session.scalars(
            select(EventRow.data).where(EventRow.kind == ERASED, EventRow.seq.is_not(None)).order_by(EventRow.seq)))

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


_COLUMNS = (EventRow.id, EventRow.seq, EventRow.at, EventRow.actor, EventRow.kind, EventRow.subject, EventRow.data,
            EventRow.prev_hash, EventRow.hash)


def _link(row: Any) -> Link:
    return Link(row.id, row.seq, row.at, row.actor, row.kind, row.subject, dict(row.data or {}), row.prev_hash,
                row.hash)
