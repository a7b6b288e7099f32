"""Retention, legal holds and erasure (issue 22) on SQLAlchemy: bot.ports.Erasure.

A person is pseudonymised by replacing every text that names them (their key, name, e-mail and chat accounts, in
any String or JSON column of any table, in a JSON value at any depth) with their stable pseudonym, `person-` and the
first 16 hex digits of HMAC-SHA256(the database's secret, their key). Rows of a case under legal hold or still within
its retention (bot/model/schema.py Retention) are left as they are, and so are the event log's entries about such a
case: what was kept is returned with why.

The event log stays verifiable: for each event whose actor, subject or data is replaced the erasure event
(bot.chain.ERASED) lists the event's id and, per field, the commitment of the value replaced and of the value
stored (bot.chain.seals); `samverkan verify` chains with the first while the stored value still has the second.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, String, Table, select, update
from sqlalchemy.orm import Session

from bot.chain import ERASED, PERSONAL, commitment
from bot.events import Event
from bot.model import GovernanceModel
from storage.models import (
    Base,
    DisagreementEntryRow,
    DisagreementRow,
    ErasureSecretRow,
    EventRow,
    IncidentMemberRow,
    IncidentRow,
    IncidentTimelineRow,
    PersonRow,
)

HOLD = "record.hold"
HOLD_RELEASED = "record.hold_released"
REMOVED = "directory.person_removed"
PREFIX = "person-"

# Rows that belong to a case, by table: the column naming the case.
_INCIDENT = {"major_incident": "id", "incident_member": "incident_id", "incident_step": "incident_id",
             "incident_timeline": "incident_id"}
_DISAGREEMENT = {"disagreement": "id", "disagreement_entry": "disagreement_id", "clarification": "disagreement_id"}
# A forum's records and the like, by table: the column dating them (retention `forum`).
_DATED = {"forum_decision": "at", "forum_action": "at", "agenda_item": "added_at", "forum_report": "at",
          "forum_change": "at", "deployment": "announced_at", "service_level_decision": "at",
          "underlag": "requested_at"}
_SKIP = {"erasure_secret", "event"}


@dataclass
class Outcome:
    pseudonym: str
    rows: dict[str, list[str]] = field(default_factory=dict)  # table: the columns replaced in it
    events: list[int] = field(default_factory=list)  # ids of the events whose fields were replaced
    kept: list[dict[str, str]] = field(default_factory=list)  # {"ref": "MI-3", "why": "hold" | "retention" | "open"}


def add_years(at: datetime, years: int) -> datetime:
    try:
        return at.replace(year=at.year + years)
    except ValueError:  # 29 February
        return at.replace(year=at.year + years, day=28)


class SqlErasure:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- pseudonyms and holds ------------------------------------------------------------------------------------
    def pseudonym(self, key: str) -> str:
        secret = self.session.scalar(select(ErasureSecretRow.value).where(ErasureSecretRow.name == "pseudonym"))
        if not secret:
            raise RuntimeError("no erasure secret: run samverkan migrate")
        return PREFIX + hmac.new(secret.encode(), key.encode(), hashlib.sha256).hexdigest()[:16]

    def held(self) -> set[str]:
        """The cases under legal hold: those whose last hold event is a hold, not its release."""
        last: dict[str, str] = {}
        for subject, kind in self.session.execute(select(EventRow.subject, EventRow.kind)
                                                  .where(EventRow.kind.in_((HOLD, HOLD_RELEASED)))
                                                  .order_by(EventRow.seq)):
            last[subject.upper()] = kind
        return {ref for ref, kind in last.items() if kind == HOLD}

    def case_exists(self, ref: str) -> bool:
        kind, number = _case(ref)
        if kind is None:
            return False
        row = IncidentRow if kind == "incident" else DisagreementRow
        return self.session.get(row, number) is not None

    # -- what must be kept ---------------------------------------------------------------------------------------
    def kept_cases(self, model: GovernanceModel, now: datetime) -> dict[str, str]:
        """Every case that keeps its personal data now, with why: "hold", "open" or "retention"."""
        retention, held, kept = model.records.retention, self.held(), {}
        for number, closed in self.session.execute(select(IncidentRow.id, IncidentRow.closed_at)):
            kept[f"MI-{number}"] = _why(f"MI-{number}", closed, retention.incident, held, now)
        for number, state, settled, since in self.session.execute(select(
                DisagreementRow.id, DisagreementRow.state, DisagreementRow.settled_at, DisagreementRow.level_since)):
            ended = None if state == "open" else (settled or since)
            kept[f"D-{number}"] = _why(f"D-{number}", ended, retention.disagreement, held, now)
        return {ref: why for ref, why in kept.items() if why}

    # -- erasure -------------------------------------------------------------------------------------------------
    def identity(self, key: str, within: int | None = None) -> list[str]:
        """What names the person: their key, name, e-mail and accounts, from the directory, the war rooms they were
        asked into and the directory's events about them. Empty when nothing does."""
        terms: set[str] = set()
        person = self.session.scalar(select(PersonRow).where(PersonRow.key == key))
        if person is not None:
            terms |= {person.key, person.name, person.email or "", person.slack_user or "", person.teams_user or ""}
        members = select(IncidentMemberRow).where(IncidentMemberRow.key == key)
        if within is not None:
            members = members.where(IncidentMemberRow.incident_id == within)
        for member in self.session.scalars(members):
            terms |= {member.key, member.name, member.email or "", member.slack_user or "", member.teams_user or ""}
        for data in self.session.scalars(select(EventRow.data).where(EventRow.subject == key,
                                                                     EventRow.kind.startswith("directory."))):
            terms |= {str((data or {}).get("name") or ""), str((data or {}).get("contact") or "")}
        if terms:
            terms.add(key)
        # Short strings would replace parts of other words; a pseudonym is not personal data.
        return sorted((t for t in terms if len(t) >= 3 and not t.startswith(PREFIX)), key=len, reverse=True)

    def erase(self, key: str, model: GovernanceModel, now: datetime, by: str, reason: str = "erase") -> Outcome | None:
        """Pseudonymises the person wherever retention allows, and records it (the caller commits). None when no
        record names them."""
        terms = self.identity(key)
        if not terms:
            return None
        pseudonym = self.pseudonym(key)
        kept_cases = self.kept_cases(model, now)
        outcome = Outcome(pseudonym)
        touched: set[str] = set()
        sealed = self._replace(terms, pseudonym, model, now, kept_cases, touched, outcome)
        outcome.kept = [{"ref": ref, "why": kept_cases[ref]} for ref in sorted(touched)]
        from storage.events import SqlEventLog

        SqlEventLog(self.session).record(Event(now, by, ERASED, pseudonym, {
            "person": pseudonym, "reason": reason, "sealed": sealed, "rows": outcome.rows,
            "kept": outcome.kept}))
        return outcome

    def erase_case(self, ref: str, model: GovernanceModel, now: datetime, by: str) -> Outcome:
        """Pseudonymises everyone a case past its retention names (its members, whoever acted in it, as far as the
        directory and the case itself tell who they are), in the case's rows and the events about it only, and
        records it with the case as the subject (the caller commits; the caller checks it is due)."""
        kind, number = _case(ref)
        outcome = Outcome(ref)
        actors: set[str] = set()
        if kind == "incident":
            row = self.session.get(IncidentRow, number)
            assert row is not None
            actors |= {row.declared_by, row.commander or "", row.communications or "", row.scribe or ""}
            actors |= set(self.session.scalars(select(IncidentMemberRow.key)
                                               .where(IncidentMemberRow.incident_id == number)))
            actors |= set(self.session.scalars(select(IncidentTimelineRow.author)
                                               .where(IncidentTimelineRow.incident_id == number)))
        else:
            found = self.session.get(DisagreementRow, number)
            assert found is not None
            actors |= {found.raised_by, found.proposal_by or ""}
            actors |= set(self.session.scalars(select(DisagreementEntryRow.actor)
                                               .where(DisagreementEntryRow.disagreement_id == number)))
        actors |= set(self.session.scalars(select(EventRow.actor).where(EventRow.subject == ref)))
        sealed: list[dict[str, Any]] = []
        people = []
        for actor in sorted(a for a in actors if a and a != "model" and not a.startswith(("system", PREFIX))):
            key = self._key(actor)
            terms = sorted(set(self.identity(key, within=number if kind == "incident" else None)) | {actor},
                           key=len, reverse=True)
            pseudonym = self.pseudonym(key)
            people.append(pseudonym)
            sealed += self._replace(terms, pseudonym, model, now, {}, set(), outcome, only=ref)
        from storage.events import SqlEventLog

        SqlEventLog(self.session).record(Event(now, by, ERASED, ref, {
            "case": ref, "reason": "retention", "people": sorted(set(people)), "sealed": sealed,
            "rows": outcome.rows}))
        return outcome

    def cases_due(self, model: GovernanceModel, now: datetime) -> list[str]:
        """Cases past their retention and not on hold whose people have not been pseudonymised yet."""
        kept = self.kept_cases(model, now)
        done = set(self.session.scalars(select(EventRow.subject).where(EventRow.kind == ERASED)))
        every = [f"MI-{n}" for n in self.session.scalars(select(IncidentRow.id))]
        every += [f"D-{n}" for n in self.session.scalars(select(DisagreementRow.id))]
        return [ref for ref in every if ref not in kept and ref not in done]

    def _key(self, actor: str) -> str:
        """The directory key behind an actor (a key, or `user:<account>`); the actor itself when none is known."""
        if actor.startswith("user:"):
            account = actor.removeprefix("user:")
            for column in (PersonRow.slack_user, PersonRow.teams_user):
                key = self.session.scalar(select(PersonRow.key).where(column == account))
                if key:
                    return key
            for column in (IncidentMemberRow.slack_user, IncidentMemberRow.teams_user):
                key = self.session.scalar(select(IncidentMemberRow.key).where(column == account).limit(1))
                if key:
                    return key
        return actor

    def _replace(self, terms: list[str], pseudonym: str, model: GovernanceModel, now: datetime,
                 kept_cases: dict[str, str], touched: set[str], outcome: Outcome,
                 only: str | None = None) -> list[dict[str, Any]]:
        pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
        forum_years = model.records.retention.forum
        for table in Base.metadata.sorted_tables:
            if table.name in _SKIP:
                continue
            columns = [c for c in table.columns if isinstance(c.type, String | JSON)]
            if not columns:
                continue
            replaced = self._table(table, columns, pattern, pseudonym, kept_cases, forum_years, now, touched, only)
            if replaced:
                outcome.rows[table.name] = sorted(set(outcome.rows.get(table.name, [])) | replaced)
        forum_keys = {f.key for f in model.calendar} | {f.key for f in model.forums}
        return self._events(pattern, pseudonym, kept_cases, forum_keys, forum_years, now, touched, outcome, only)

    def _table(self, table: Table, columns: list[Any], pattern: re.Pattern[str], pseudonym: str,
               kept_cases: dict[str, str], forum_years: int | None, now: datetime, touched: set[str],
               only: str | None = None) -> set[str]:
        keys = list(table.primary_key.columns)
        scope = _INCIDENT.get(table.name), _DISAGREEMENT.get(table.name), _DATED.get(table.name)
        if only is not None and not (scope[0] if only.startswith("MI-") else scope[1]):
            return set()
        extra = [table.c[name] for name in scope if name and name not in {c.name for c in columns + keys}]
        replaced: set[str] = set()
        for row in self.session.execute(select(*keys, *columns, *extra)).mappings():
            new = {c.name: _scrub(row[c.name], pattern, pseudonym) for c in columns}
            changed = {name: value for name, value in new.items() if value != row[name]}
            if not changed:
                continue
            ref = (f"MI-{row[scope[0]]}" if scope[0] else f"D-{row[scope[1]]}" if scope[1] else None)
            if only is not None and ref != only:
                continue
            if ref is not None and ref in kept_cases:
                touched.add(ref)
                continue
            if scope[2] and (forum_years is None or add_years(row[scope[2]], forum_years) > now):
                continue
            self.session.execute(update(table).where(*(k == row[k.name] for k in keys)).values(**changed))
            replaced |= set(changed)
        return replaced

    def _events(self, pattern: re.Pattern[str], pseudonym: str, kept_cases: dict[str, str], forum_keys: set[str],
                forum_years: int | None, now: datetime, touched: set[str], outcome: Outcome,
                only: str | None = None) -> list[dict[str, Any]]:
        sealed = []
        query = (select(EventRow.id, EventRow.at, EventRow.actor, EventRow.subject, EventRow.data, EventRow.kind)
                 .where(EventRow.kind != ERASED).order_by(EventRow.id))
        for row in self.session.execute(query).all():
            old = {"actor": row.actor, "subject": row.subject, "data": dict(row.data or {})}
            new = {name: _scrub(value, pattern, pseudonym) for name, value in old.items()}
            changed = [name for name in PERSONAL if new[name] != old[name]]
            if not changed:
                continue
            case = row.subject.upper()
            if only is not None and case != only:
                continue
            if case in kept_cases:
                touched.add(case)
                continue
            if row.subject in forum_keys and (forum_years is None or add_years(row.at, forum_years) > now):
                continue
            self.session.execute(update(EventRow).where(EventRow.id == row.id)
                                 .values(**{name: new[name] for name in changed}))
            sealed.append({"event": row.id, "fields": {name: [commitment(old[name]), commitment(new[name])]
                                                       for name in changed}})
            outcome.events.append(row.id)
        return sealed

    # -- the daily duty ------------------------------------------------------------------------------------------
    def removed_due(self, model: GovernanceModel, now: datetime) -> list[str]:
        """The keys of people removed from the directory longer ago than its retention, not back in it and not yet
        pseudonymised (an erasure replaces the removal's subject with the pseudonym)."""
        days = model.records.retention.directory_person
        if days is None:
            return []
        present = set(self.session.scalars(select(PersonRow.key)))
        removed: dict[str, datetime] = {}
        for subject, at in self.session.execute(select(EventRow.subject, EventRow.at)
                                                .where(EventRow.kind == REMOVED).order_by(EventRow.seq)):
            removed[subject] = at
        return sorted(key for key, at in removed.items()
                      if key not in present and not key.startswith(PREFIX) and at + timedelta(days=days) <= now)


def _case(ref: str) -> tuple[str | None, int]:
    upper = ref.strip().upper()
    for prefix, kind in (("MI-", "incident"), ("D-", "disagreement")):
        if upper.startswith(prefix) and upper[len(prefix):].isdigit():
            return kind, int(upper[len(prefix):])
    return None, 0


def _why(ref: str, closed: datetime | None, years: int | None, held: set[str], now: datetime) -> str:
    if ref in held:
        return "hold"
    if closed is None:
        return "open"
    if years is None or add_years(closed, years) > now:
        return "retention"
    return ""


def _scrub(value: Any, pattern: re.Pattern[str], pseudonym: str) -> Any:
    if isinstance(value, str):
        return pattern.sub(pseudonym, value)
    if isinstance(value, dict):
        return {_scrub(k, pattern, pseudonym): _scrub(v, pattern, pseudonym) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, pattern, pseudonym) for v in value]
    return value
