"""A copy of one case released on request, and everything about one person (an access request, GDPR art. 15).

Release (`samverkan export --case REF --release`): the case's record with the fields the model marks confidential
(GovernanceModel.confidential) masked, and the release itself written to the event log (who, when, what was
masked), which the hash chain then keeps.

Subject export (`samverkan subject-export PERSON`): the person's directory entry, every event they did or that is
about them, the war rooms they were asked into, the timeline entries they wrote, the disagreements they raised and
the steps they took in them.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from bot.events import Event
from bot.model import GovernanceModel
from bot.ports import UnitOfWork
from samverkan.archive import cases

MASK = "[sekretess]"


def mask(record: dict[str, Any], fields: list[str]) -> tuple[dict[str, Any], list[str]]:
    """The record with the fields masked (`a` a top-level field, `a.b` field b of every entry of the list a), and
    the fields that were there to mask."""
    out = copy.deepcopy(record)
    masked = []
    for name in fields:
        top, _, inner = name.partition(".")
        if top not in out:
            continue
        if inner and isinstance(out[top], list):
            for entry in out[top]:
                if isinstance(entry, dict) and inner in entry:
                    entry[inner] = MASK
        else:
            out[top] = MASK
        masked.append(name)
    return out, masked


def release(uow: UnitOfWork, model: GovernanceModel, ref: str, by: str, now: datetime) -> dict[str, Any] | None:
    """The copy to hand out, or None when there is no such case; the release is recorded (the caller commits)."""
    found = next((c for c in cases(uow, model) if c.ref.lower() == ref.lower()), None)
    if found is None:
        return None
    fields = model.confidential.get(found.kind, [])  # type: ignore[call-overload]
    record, masked = mask(found.record, fields)
    uow.events.record(Event(now, by, "record.released", found.ref, {"masked": masked, "kind": found.kind}))
    return {"ref": found.ref, "kind": found.kind, "released_at": now.astimezone(UTC).isoformat(),
            "released_by": by, "masked": masked, "record": record,
            "people": [{k: p[k] for k in ("name", "party_name", "roles")} for p in found.people]}


def subject(uow: UnitOfWork, model: GovernanceModel, key: str) -> dict[str, Any]:
    person = uow.directory.by_key(key)
    ids = {key} | ({f"user:{person.account}", person.account} if person and person.account else set())
    ids.discard(None)  # type: ignore[arg-type]
    entry = None
    if person is not None:
        entry = {"key": person.key, "name": person.name, "party": person.party, "roles": sorted(person.roles),
                 "authority": sorted(person.authority), "account": person.account, "email": person.email,
                 "external": person.external}
    events = [{"seq": link.seq, "at": link.at.astimezone(UTC).isoformat(), "actor": link.actor, "kind": link.kind,
               "subject": link.subject, "data": link.data}
              for link in uow.events.links() if link.actor in ids or link.subject in ids
              or any(value in ids for value in _values(link.data))]
    war_rooms, written = [], []
    for case in cases(uow, model):
        record = case.record
        if case.kind == "incident":
            mine = [m for m in record["members"] if m["key"] in ids]
            if mine or ids & {record["declared_by"], record["commander"], record["communications"],
                              record["scribe"]}:
                war_rooms.append({"ref": case.ref, "title": case.title, "membership": mine,
                                  "roles": [r for r in ("declared_by", "commander", "communications", "scribe")
                                            if record[r] in ids]})
            written += [{"ref": case.ref, **e} for e in record["timeline"] if e["author"] in ids]
        else:
            steps = [{"ref": case.ref, **e} for e in record["history"] if e["actor"] in ids]
            if steps or record["raised_by"] in ids:
                written += steps
                war_rooms.append({"ref": case.ref, "title": case.title, "raised": record["raised_by"] in ids,
                                  "roles": []})
    return {"person": entry, "key": key, "cases": war_rooms, "entries": written, "events": events}


def _values(data: Any) -> list[Any]:
    if isinstance(data, dict):
        return [v for value in data.values() for v in _values(value)]
    if isinstance(data, list):
        return [v for value in data for v in _values(value)]
    return [data]
