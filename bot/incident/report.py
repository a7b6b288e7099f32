"""The post-incident report, and the agenda lines that bring major incidents to the problem and service forums."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clock import STOCKHOLM
from bot.directory.people import Person
from bot.forum.calendar import Sitting
from bot.i18n import Texts
from bot.incident.clocks import shown
from bot.incident.people import name_of
from bot.incident.records import Incident
from bot.message import Message, join, line, text
from bot.model.schema import Forum, GovernanceModel
from bot.ports import UnitOfWork


def duration(delta: timedelta | None, t: Texts) -> str:
    if delta is None:
        return "–"
    seconds = max(int(delta.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return t.text("incident.duration_h", h=hours, m=minutes)
    return t.text("incident.duration_m", m=minutes, s=seconds)


def _clock(at: datetime | None) -> str:
    return at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M:%S") if at else "–"


def report(uow: UnitOfWork, model: GovernanceModel, incident: Incident, t: Texts) -> Message:
    """What happened, who took part and when each joined, the timeline, and how long it all took."""
    nobody = t.text("incident.nobody")
    services = ", ".join(s.name(t.lang) for s in map(model.service, incident.services) if s) or nobody
    lines = [
        t("incident.report.heading", ref=incident.ref, title=incident.title),
        t("incident.report.facts", severity=incident.severity, services=services,
          commander=name_of(uow, incident.commander, nobody)),
        t("incident.report.times", declared=_clock(incident.declared_at), assembled=_clock(incident.assembled_at),
          resolved=_clock(incident.resolved_at), closed=_clock(incident.closed_at)),
        t("incident.report.to_assemble", d=duration(
            incident.assembled_at - incident.declared_at if incident.assembled_at else None, t)),
        t("incident.report.to_resolve", d=duration(
            incident.resolved_at - incident.declared_at if incident.resolved_at else None, t)),
        t("incident.report.summary", summary=incident.summary or nobody),
        text(""),
        t("incident.report.parties"),
    ]
    for member in sorted(uow.incidents.members(incident.id), key=lambda m: (m.party, m.name)):
        party = model.party(member.party)
        party_name = party.name(t.lang) if party else member.party
        if member.state == "invited" and member.joined_at:
            lines.append(t("incident.report.joined", party=party_name, name=member.name, at=_clock(member.joined_at)))
        elif member.state == "invited":
            lines.append(t("incident.report.not_yet", party=party_name, name=member.name))
        else:
            lines.append(t("incident.report.not_joined", party=party_name, name=member.name,
                           reason=member.reason or member.state))
    legal = model.major_incidents and shown(uow, model.major_incidents, incident, t,
                                                 incident.closed_at or incident.last_update_at)
    if legal:
        lines += [text(""), t("incident.report.legal"), legal]
    lines += [text(""), t("incident.report.timeline")]
    for entry in uow.incidents.timeline(incident.id):
        said = f" {entry.text}" if entry.text else ""
        lines.append(line(f"{_clock(entry.at)} · {name_of(uow, entry.author, nobody)} · "
                          f"{t.text(f'incident.kind.{entry.kind}')}{said}", bullet=True))
    return join(lines)


def reported_to(model: GovernanceModel, forum: Forum, incident: Incident) -> bool:
    """A report forum lists every major incident; a forum held per service catalogue lists those that touched a
    service of its catalogue."""
    mi = model.major_incidents
    if mi is None:
        return False
    if forum.key in mi.report_forums:
        return True
    for key in mi.report_forums:
        if forum.key.startswith(f"{key}-"):
            catalogue = forum.key.removeprefix(f"{key}-")
            return any(s and s.catalogue == catalogue for s in map(model.service, incident.services))
    return False


def major_incidents_since(uow: UnitOfWork, model: GovernanceModel, forum: Forum, sitting: Sitting,
                          previous: Sitting | None, t: Texts, now: datetime, viewer: Person | None) -> list[Message]:
    """An agenda source: the major incidents declared since the forum last sat. A channel sees them all: war rooms
    are announced openly, and the forum follows up every one."""
    mi = model.major_incidents
    if mi is None or not any(forum.key == k or forum.key.startswith(f"{k}-") for k in mi.report_forums):
        return []
    since = previous.start if previous else sitting.start - timedelta(days=31)
    lines = []
    for incident in uow.incidents.declared_between(since, sitting.start):
        if not reported_to(model, forum, incident):
            continue
        services = ", ".join(s.name(t.lang) for s in map(model.service, incident.services) if s) or "–"
        lines.append(t("incident.agenda_line", ref=incident.ref, title=incident.title, severity=incident.severity,
                       services=services, when=t.when(incident.declared_at),
                       state=t(f"incident.state.{incident.state}")))
    return lines
