"""`samverkan export`: what the bot has on record, for the contract's follow-up and for archiving.

Each subject contributes a section: records for JSON (nested, with histories) and flat rows for CSV.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from bot.disagreement.records import Disagreement, Entry
from bot.forum.announcements import announcing_forums
from bot.incident.records import Incident
from bot.model import GovernanceModel
from bot.ports import UnitOfWork

Record = dict[str, Any]
COLUMNS = ["record", "ref", "at", "kind", "actor", "party", "forum", "text", "title", "parties", "state"]


@dataclass(frozen=True)
class Section:
    name: str
    records: Callable[[UnitOfWork, GovernanceModel], list[Record]]
    rows: Callable[[UnitOfWork, GovernanceModel], list[Record]]


def _iso(instant: datetime | None) -> str | None:
    return instant.astimezone(UTC).isoformat() if instant else None


def _entry(entry: Entry) -> Record:
    return {"at": _iso(entry.at), "kind": entry.kind, "actor": entry.actor, "party": entry.party,
            "level": entry.level + 1, "forum": entry.forum, "text": entry.text}


def _disagreement(d: Disagreement, history: list[Entry]) -> Record:
    proposal = None
    if d.proposal:
        proposal = {"text": d.proposal.text, "by": d.proposal.by, "party": d.proposal.party,
                    "at": _iso(d.proposal.at), "accepted_by_parties": list(d.proposal.accepted)}
    return {"ref": d.ref, "title": d.title, "description": d.description, "raised_by": d.raised_by,
            "parties": list(d.parties), "led_by": d.led_by, "service": d.service, "state": d.state,
            "level": d.level + 1,
            "forum": d.forum, "ladder": [level.forum for level in d.path], "opened_at": _iso(d.opened_at),
            "deadline": _iso(d.deadline), "settled_at": _iso(d.settled_at), "proposal": proposal,
            "history": [_entry(e) for e in history]}


def _histories(uow: UnitOfWork) -> dict[int, list[Entry]]:
    histories: dict[int, list[Entry]] = {}
    for entry in uow.disagreements.every_entry():
        histories.setdefault(entry.disagreement, []).append(entry)
    return histories


def disagreement_records(uow: UnitOfWork, model: GovernanceModel) -> list[Record]:
    histories = _histories(uow)
    return [_disagreement(d, histories.get(d.id, [])) for d in uow.disagreements.every()]


def disagreement_rows(uow: UnitOfWork, model: GovernanceModel) -> list[Record]:
    # One row per step of the history: the disagreement's life reads down the sheet.
    histories = _histories(uow)
    rows = []
    for d in uow.disagreements.every():
        for entry in histories.get(d.id, []):
            rows.append({"record": "disagreement", "ref": d.ref, "title": d.title, "parties": " / ".join(d.parties),
                         "state": d.state, **{k: v for k, v in _entry(entry).items() if k != "level"}})
    return rows


def deployment_records(uow: UnitOfWork, model: GovernanceModel) -> list[Record]:
    records = []
    for p in uow.forum.deployments(datetime(1970, 1, 1, tzinfo=UTC)):
        service = model.service(p.service)
        forums = [f.key for f in announcing_forums(model, service)] if service else []
        records.append({"ref": p.ref, "service": p.service, "party": p.party, "at": _iso(p.at), "what": p.what,
                        "announced_by": p.announced_by, "announced_at": _iso(p.announced_at), "forums": forums})
    return records


def deployment_rows(uow: UnitOfWork, model: GovernanceModel) -> list[Record]:
    return [{"record": "deployment", "ref": r["ref"], "at": r["at"], "kind": "announced",
             "actor": r["announced_by"], "party": r["party"], "forum": " / ".join(r["forums"]),
             "text": r["what"], "title": r["service"], "parties": r["party"], "state": "announced"}
            for r in deployment_records(uow, model)]


def clarification_records(uow: UnitOfWork, model: GovernanceModel) -> list[Record]:
    """The register of responsibility boundaries the City recorded between suppliers (section 8.10)."""
    refs = {d.id: d.ref for d in uow.disagreements.every()}
    return [{"ref": c.ref, "disagreement": refs.get(c.disagreement, f"D-{c.disagreement}"),
             "parties": list(c.parties), "service": c.service, "boundary": c.text, "by": c.by, "at": _iso(c.at)}
            for c in uow.disagreements.clarifications()]


def clarification_rows(uow: UnitOfWork, model: GovernanceModel) -> list[Record]:
    return [{"record": "clarification", "ref": r["ref"], "at": r["at"], "kind": "clarified", "actor": r["by"],
             "party": "", "forum": "", "text": r["boundary"], "title": r["disagreement"],
             "parties": " / ".join(r["parties"]), "state": "clarified"}
            for r in clarification_records(uow, model)]


def report_records(uow: UnitOfWork, model: GovernanceModel) -> list[Record]:
    """Reports delivered before sittings, with the sitting they were for."""
    records = []
    for r in uow.forum.every_delivered_report():
        forum = model.sitting_forum(r.forum)
        report = next((x for x in forum.reports if x.key == r.report), None) if forum else None
        records.append({"forum": r.forum, "report": r.report,
                        "name": report.name(model.language) if report else r.report, "sitting": _iso(r.sitting),
                        "party": r.party, "by": r.by, "at": _iso(r.at), "content": r.text})
    return records


def report_rows(uow: UnitOfWork, model: GovernanceModel) -> list[Record]:
    return [{"record": "report", "ref": r["report"], "at": r["at"], "kind": "delivered", "actor": r["by"],
             "party": r["party"], "forum": r["forum"], "text": r["content"], "title": f"{r['name']} – {r['sitting']}",
             "parties": r["party"], "state": "delivered"}
            for r in report_records(uow, model)]


def service_level_records(uow: UnitOfWork, model: GovernanceModel) -> list[Record]:
    """The register of Leveransuppföljning's decisions (5.2): each month's service levels and KPIs formally approved
    or rejected by the City, with any service credit."""
    return [{"month": d.month, "forum": d.forum, "decision": "approved" if d.approved else "rejected",
             "credit_sek": d.credit_sek, "reason": d.reason, "party": d.party, "by": d.by, "at": _iso(d.at)}
            for d in uow.forum.service_level_decisions()]


def service_level_rows(uow: UnitOfWork, model: GovernanceModel) -> list[Record]:
    return [{"record": "service_levels", "ref": r["month"], "at": r["at"], "kind": r["decision"], "actor": r["by"],
             "party": r["party"], "forum": r["forum"],
             "text": r["reason"] + (f" (service credit SEK {r['credit_sek']})" if r["credit_sek"] else ""),
             "title": r["month"], "parties": r["party"], "state": r["decision"]}
            for r in service_level_records(uow, model)]


def underlag_records(uow: UnitOfWork, model: GovernanceModel) -> list[Record]:
    """Input the supplier owed the City (4.6): for its IT reporting at fixed times, and reports asked for at short
    notice, with when each was due and delivered."""
    return [{"ref": i.ref, "key": i.key, "title": i.title, "owner": i.owner, "due": _iso(i.due),
             "requested_by": i.requested_by, "requested_at": _iso(i.requested_at), "content": i.text,
             "delivered_by": i.delivered_by, "delivered_at": _iso(i.delivered_at),
             "late": bool(i.delivered_at and i.delivered_at > i.due)}
            for i in uow.forum.every_underlag()]


def underlag_rows(uow: UnitOfWork, model: GovernanceModel) -> list[Record]:
    return [{"record": "underlag", "ref": r["ref"], "at": r["delivered_at"] or r["due"],
             "kind": "delivered" if r["delivered_at"] else "owed", "actor": r["delivered_by"] or r["requested_by"],
             "party": r["owner"], "forum": "", "text": r["content"] or "", "title": r["title"],
             "parties": r["owner"], "state": ("late" if r["late"] else "delivered") if r["delivered_at"] else "owed"}
            for r in underlag_records(uow, model)]


def _incidents(uow: UnitOfWork) -> list[Incident]:
    return list(uow.incidents.declared_between(datetime(1970, 1, 1, tzinfo=UTC)))


def incident_records(uow: UnitOfWork, model: GovernanceModel) -> list[Record]:
    records = []
    for i in _incidents(uow):
        members = [{"key": m.key, "name": m.name, "party": m.party, "state": m.state, "reason": m.reason,
                    "asked_at": _iso(m.asked_at), "joined_at": _iso(m.joined_at)} for m in uow.incidents.members(i.id)]
        timeline = [{"at": _iso(e.at), "author": e.author, "kind": e.kind, "text": e.text}
                    for e in uow.incidents.timeline(i.id)]
        records.append({"ref": i.ref, "title": i.title, "services": list(i.services), "severity": i.severity,
                        "description": i.description, "state": i.state, "declared_by": i.declared_by,
                        "declared_at": _iso(i.declared_at), "channel": i.channel_name, "commander": i.commander,
                        "communications": i.communications, "scribe": i.scribe,
                        "assembled_at": _iso(i.assembled_at), "resolved_at": _iso(i.resolved_at),
                        "summary": i.summary, "closed_at": _iso(i.closed_at), "members": members,
                        "timeline": timeline})
    return records


def incident_rows(uow: UnitOfWork, model: GovernanceModel) -> list[Record]:
    # One row per timeline entry, like a disagreement's history.
    rows = []
    for i in _incidents(uow):
        parties = " / ".join(dict.fromkeys(m.party for m in uow.incidents.members(i.id)))
        for e in uow.incidents.timeline(i.id):
            rows.append({"record": "incident", "ref": i.ref, "at": _iso(e.at), "kind": e.kind, "actor": e.author,
                         "party": "", "forum": "", "text": e.text, "title": i.title, "parties": parties,
                         "state": i.state})
    return rows


SECTIONS = [
    Section("disagreements", disagreement_records, disagreement_rows),
    Section("clarifications", clarification_records, clarification_rows),
    Section("reports", report_records, report_rows),
    Section("service_levels", service_level_records, service_level_rows),
    Section("underlag", underlag_records, underlag_rows),
    Section("deployments", deployment_records, deployment_rows),
    Section("incidents", incident_records, incident_rows),
]


def export(uow: UnitOfWork, model: GovernanceModel, fmt: str, out: IO[str]) -> None:
    if fmt == "json":
        json.dump({section.name: section.records(uow, model) for section in SECTIONS}, out, ensure_ascii=False,
                  indent=2)
        out.write("\n")
        return
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for section in SECTIONS:
        writer.writerows(section.rows(uow, model))
