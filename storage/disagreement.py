"""bot.disagreement.records.DisagreementStore on SQLAlchemy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, insert, or_, select, union_all, update
from sqlalchemy.orm import Session

from bot.disagreement.records import (
    Clarification,
    Disagreement,
    Entry,
    Level,
    NewDisagreement,
    Page,
    Proposal,
    State,
)
from storage.models import ClarificationRow, DisagreementEntryRow, DisagreementRow


class SqlDisagreementStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, new: NewDisagreement) -> Disagreement:
        row = DisagreementRow(
            title=new.title, description=new.description, raised_by=new.raised_by, party_a=new.parties[0],
            party_b=new.parties[1], path=[[level.forum, level.grace_days] for level in new.path], level=new.level,
            rung=new.path[new.level].forum, forum=new.forum, catalogue=new.catalogue, service=new.service,
            state="open", opened_at=new.opened_at, level_since=new.opened_at, deadline=new.deadline, accepted=[],
            led_by=new.led_by)
        self.session.add(row)
        self.session.flush()
        return _disagreement(row)

    def get(self, disagreement_id: int, lock: bool = False) -> Disagreement | None:
        # Plain columns by a statement made once: every notice drawn and every command on a disagreement reads one.
        row = self.session.execute(_GET_LOCKED if lock else _GET, {"ident": disagreement_id}).first()
        return _disagreement(row) if row else None

    def get_many(self, ids: Sequence[int], lock: bool = False) -> Mapping[int, Disagreement]:
        if not ids:
            return {}
        # Plain rows, not ORM objects: a batch has many. In id order, so that two batches locking rows of the same
        # disagreements cannot wait for each other.
        table = DisagreementRow.__table__
        query = select(table).where(table.c.id.in_(ids)).order_by(table.c.id)
        if lock:
            query = query.with_for_update()
        return {row.id: _disagreement(row) for row in self.session.execute(query)}

    def move(self, disagreement_id: int, from_level: int, to_level: int, forum: str, since: datetime,
             deadline: datetime | None, state: State = "open") -> bool:
        current = self.session.get(DisagreementRow, disagreement_id)
        if current is None:
            return False
        rung = current.path[to_level][0]
        result = self.session.execute(
            update(DisagreementRow)
            .where(DisagreementRow.id == disagreement_id, DisagreementRow.level == from_level,
                   DisagreementRow.state == "open")
            .values(level=to_level, rung=rung, forum=forum, level_since=since, deadline=deadline, state=state,
                    proposal_text=None, proposal_by=None, proposal_party=None, proposal_at=None, accepted=[])
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]

    def move_many(self, moves: Sequence[tuple[int, Disagreement]]) -> int:
        if not moves:
            return 0
        table = DisagreementRow.__table__
        # One statement executed for every row (executemany), with `move`'s conditions.
        statement = (
            update(table)
            .where(table.c.id == bindparam("m_id"), table.c.level == bindparam("m_from"), table.c.state == "open")
            .values(level=bindparam("m_level"), rung=bindparam("m_rung"), forum=bindparam("m_forum"),
                    level_since=bindparam("m_since"), deadline=bindparam("m_deadline"), state=bindparam("m_state"),
                    proposal_text=None, proposal_by=None, proposal_party=None, proposal_at=None, accepted=[])
        )
        result = self.session.execute(statement, [
            {"m_id": d.id, "m_from": from_level, "m_level": d.level, "m_rung": d.path[d.level].forum,
             "m_forum": d.forum, "m_since": d.level_since, "m_deadline": d.deadline, "m_state": d.state}
            for from_level, d in moves])
        return result.rowcount

    def save_proposal(self, disagreement_id: int, proposal: Proposal | None) -> None:
        values = ({"proposal_text": None, "proposal_by": None, "proposal_party": None, "proposal_at": None,
                   "accepted": []} if proposal is None else
                  {"proposal_text": proposal.text, "proposal_by": proposal.by, "proposal_party": proposal.party,
                   "proposal_at": proposal.at, "accepted": list(proposal.accepted)})
        self.session.execute(update(DisagreementRow).where(DisagreementRow.id == disagreement_id).values(**values)
                             .execution_options(synchronize_session=False))

    def settle(self, disagreement_id: int, at: datetime) -> None:
        self.session.execute(update(DisagreementRow).where(DisagreementRow.id == disagreement_id)
                             .values(state="settled", settled_at=at, deadline=None)
                             .execution_options(synchronize_session=False))

    def invoke_formal(self, disagreement_id: int, at: datetime) -> bool:
        result = self.session.execute(
            update(DisagreementRow)
            .where(DisagreementRow.id == disagreement_id, DisagreementRow.state == "exhausted")
            .values(state="formal", level_since=at, deadline=None).execution_options(synchronize_session=False))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def set_deadline(self, disagreement_id: int, deadline: datetime | None) -> None:
        self.session.execute(update(DisagreementRow).where(DisagreementRow.id == disagreement_id)
                             .values(deadline=deadline).execution_options(synchronize_session=False))

    def clarify(self, disagreement_id: int, text: str, by: str, at: datetime) -> Clarification:
        current = self.session.get(DisagreementRow, disagreement_id, populate_existing=True)
        assert current is not None
        row = ClarificationRow(disagreement_id=disagreement_id, party_a=current.party_a, party_b=current.party_b,
                               service=current.service, text=text, by=by, at=at)
        self.session.add(row)
        self.session.execute(update(DisagreementRow).where(DisagreementRow.id == disagreement_id)
                             .values(state="clarified", settled_at=current.settled_at or at, deadline=None)
                             .execution_options(synchronize_session=False))
        self.session.flush()
        return _clarification(row)

    def clarifications(self) -> Sequence[Clarification]:
        return [_clarification(row) for row in self.session.scalars(select(ClarificationRow)
                                                                    .order_by(ClarificationRow.id))]

    def append(self, entry: Entry) -> None:
        self.session.add(DisagreementEntryRow(
            disagreement_id=entry.disagreement, at=entry.at, actor=entry.actor, party=entry.party, kind=entry.kind,
            level=entry.level, forum=entry.forum, text=entry.text, ref=entry.ref))
        self.session.flush()

    def append_many(self, entries: Sequence[Entry]) -> None:
        if entries:
            self.session.execute(insert(DisagreementEntryRow.__table__), [
                {"disagreement_id": e.disagreement, "at": e.at, "actor": e.actor, "party": e.party, "kind": e.kind,
                 "level": e.level, "forum": e.forum, "text": e.text, "ref": e.ref} for e in entries])

    def history(self, disagreement_id: int) -> Sequence[Entry]:
        query = (select(DisagreementEntryRow).where(DisagreementEntryRow.disagreement_id == disagreement_id)
                 .order_by(DisagreementEntryRow.id))
        return [_entry(row) for row in self.session.scalars(query)]

    def page(self, party: str | None, open_only: bool, level_forum: str | None, offset: int,
             limit: int) -> Page:
        conditions = []
        if open_only:
            conditions.append(DisagreementRow.state == "open")
        if level_forum:
            conditions.append(DisagreementRow.rung == level_forum)
        if party is None:
            total = self.session.scalar(select(func.count()).select_from(DisagreementRow).where(*conditions)) or 0
            query = (select(DisagreementRow).where(*conditions).order_by(DisagreementRow.id.desc())
                     .offset(offset).limit(limit))
            return Page([_disagreement(row) for row in self.session.scalars(query)], total)
        # A party is either side, never both: each side is read along its own (party, id) index, newest first and
        # only as deep as the page, then merged.
        # Ordered by `id + 0`, not `id`: otherwise PostgreSQL may walk the primary key backwards through the whole
        # table hoping to meet the party's rows soon, which is slow when they are old. This way it reads the
        # party's rows by their index and sorts the few it needs: cost follows what the party sees.
        sides = [DisagreementRow.party_a == party, DisagreementRow.party_b == party]
        total = sum(self.session.scalar(select(func.count()).select_from(DisagreementRow)
                                        .where(side, *conditions)) or 0 for side in sides)
        deepest = [select(DisagreementRow.id).where(side, *conditions).order_by((DisagreementRow.id + 0).desc())
                   .limit(offset + limit).subquery() for side in sides]
        ids = union_all(*(select(side.c.id) for side in deepest)).subquery()
        query = (select(DisagreementRow).where(DisagreementRow.id.in_(select(ids.c.id)))
                 .order_by(DisagreementRow.id.desc()).offset(offset).limit(limit))
        return Page([_disagreement(row) for row in self.session.scalars(query)], total)

    def at_forum(self, forum: str) -> Sequence[Disagreement]:
        query = (select(DisagreementRow).where(DisagreementRow.forum == forum, DisagreementRow.state == "open")
                 .order_by(DisagreementRow.id))
        return [_disagreement(row) for row in self.session.scalars(query)]

    def every(self, party: str | None = None) -> Sequence[Disagreement]:
        query = select(DisagreementRow).order_by(DisagreementRow.id)
        if party is not None:
            query = query.where(or_(DisagreementRow.party_a == party, DisagreementRow.party_b == party))
        return [_disagreement(row) for row in self.session.scalars(query)]

    def every_entry(self, party: str | None = None) -> Sequence[Entry]:
        query = select(DisagreementEntryRow).order_by(DisagreementEntryRow.id)
        if party is not None:
            query = query.join(DisagreementRow, DisagreementRow.id == DisagreementEntryRow.disagreement_id).where(
                or_(DisagreementRow.party_a == party, DisagreementRow.party_b == party))
        return [_entry(row) for row in self.session.scalars(query)]


# The mapped columns (not the table's): the session flushes what it holds before reading them.
_GET = select(*(getattr(DisagreementRow, c.key) for c in DisagreementRow.__table__.columns)).where(
    DisagreementRow.id == bindparam("ident"))
_GET_LOCKED = _GET.with_for_update()


def _disagreement(row: DisagreementRow | Row[Any]) -> Disagreement:
    proposal = None
    if row.proposal_text is not None:
        proposal = Proposal(row.proposal_text, row.proposal_by or "", row.proposal_party or "",
                            row.proposal_at or row.opened_at, tuple(row.accepted or ()))
    return Disagreement(
        id=row.id, title=row.title, description=row.description, raised_by=row.raised_by,
        parties=(row.party_a, row.party_b), path=tuple(Level(f, int(g)) for f, g in row.path), level=row.level,
        forum=row.forum, catalogue=row.catalogue, service=row.service, state=row.state,  # type: ignore[arg-type]
        opened_at=row.opened_at, level_since=row.level_since, deadline=row.deadline, settled_at=row.settled_at,
        proposal=proposal, led_by=row.led_by)


def _clarification(row: ClarificationRow) -> Clarification:
    return Clarification(row.id, row.disagreement_id, (row.party_a, row.party_b), row.service, row.text, row.by,
                         row.at)


def _entry(row: DisagreementEntryRow) -> Entry:
    return Entry(row.disagreement_id, row.at, row.actor, row.party, row.kind, row.level,  # type: ignore[arg-type]
                 row.forum, row.text, row.ref, row.id)
