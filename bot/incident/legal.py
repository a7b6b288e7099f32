"""The legal clocks of a major incident: a war room's leads classify it (`/incident classify MI-7 nis2
[aware=2027-03-27 10:00]`) as a significant incident under NIS2 / cybersäkerhetslagen and/or a personal data breach
(GDPR art. 33); the classification starts the clocks the model gives for it (MajorIncidents.legal), from the time
of awareness. The war room is shown the deadlines, the City's contact is reminded before each (duties, exactly
once), `/incident reported MI-7 early-warning <reference>` records a report made, a deadline passed without one is
flagged in the war room, and the close report lists them all.

Time: an hour is an elapsed hour, as the law counts it (NIS2 art. 23(4): "within 24 hours of becoming aware"): aware
at 10:00 the day before the change to summer time, the 24 hours end at 11:00 local time. A month is a calendar month
in Stockholm time (the same day of the next month, the last day when it has none). Sources: NIS2 (directive (EU)
2022/2555) art. 23(4); GDPR art. 33(1).

The classification and each report are kept with the war room's other records (IncidentStore.record_step, under
`legal:` names) and written to its timeline and the event log.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from bot.clock import STOCKHOLM, local
from bot.commands import Context, UserError
from bot.directory.people import mention
from bot.duties import Duty, OnceChat, Outcome
from bot.events import Event
from bot.i18n import Texts
from bot.incident.clocks import PREFIX, ReportClock, clock_lines, clocks, plan_for
from bot.incident.commands import incident, incident_in, log, say_in_room, settings
from bot.incident.records import Incident, TimelineEntry
from bot.incident.roster import city_contacts
from bot.message import Message, join, separated
from bot.model.schema import MajorIncidents
from bot.ports import UnitOfWork

if TYPE_CHECKING:
    from bot.app import Samverkan

REFERENCE_MAX = 200

# -- commands -------------------------------------------------------------------------------------------------------
_AWARE = re.compile(r"(?i)^aware=(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2})$")


def _regimes(mi: MajorIncidents) -> str:
    return ", ".join(r.key for r in mi.legal) or "–"


@incident.add("classify", "klassa", "klassning", subject=incident_in("open", "resolved"))
def classify(ctx: Context, found: Incident) -> None:
    mi = settings(ctx)
    if not ctx.args:
        raise UserError("incident.legal.unknown_regime", word="", allowed=_regimes(mi))
    regime = mi.regime(ctx.args[0].lower())
    if regime is None:
        raise UserError("incident.legal.unknown_regime", word=ctx.args[0][:40], allowed=_regimes(mi))
    now = ctx.clock.now()
    rest = " ".join(ctx.args[1:]).strip()
    aware = now
    if rest:
        matched = _AWARE.match(rest)
        try:
            aware = (datetime.fromisoformat(f"{matched.group(1)}T{int(matched.group(2).split(':')[0]):02d}:"
                                            f"{matched.group(2).split(':')[1]}").replace(tzinfo=STOCKHOLM)
                     if matched else None)  # type: ignore[assignment]
        except ValueError:
            aware = None  # type: ignore[assignment]
        if aware is None or aware > now:
            raise UserError("incident.legal.bad_aware", value=rest[:40])
    name = f"{PREFIX}{regime.key}"
    if ctx.uow.incidents.step(found.id, name) is not None:
        raise UserError("incident.legal.already", ref=found.ref, name=regime.name(ctx.t.lang))
    ctx.uow.incidents.record_step(found.id, name, {"aware": aware.isoformat(), "by": ctx.actor,
                                                   "at": now.isoformat()}, now)
    log(ctx, found, "classified", f"{regime.key} aware={local(aware).isoformat(timespec='minutes')}")
    plan_for(ctx.uow, mi, found, now)
    every = [c for c in clocks(mi, ctx.uow.incidents.steps(found.id)) if c.regime.key == regime.key]

    def said(t: Texts) -> Message:
        return join([t("incident.legal.classified", ref=found.ref, name=regime.name(t.lang), aware=t.when(aware)),
                     *clock_lines(t, every, now)])

    say_in_room(ctx, found, said)
    ctx.reply(said(ctx.t))


def classified_at_declaration(ctx: Context, mi: MajorIncidents, found: Incident, regimes: list[str],
                              now: datetime) -> list[Message]:
    """`/incident declare ... legal=nis2,gdpr`: classified by the declarer, aware from the declaration. The clocks
    are told to the declarer at once (the war room does not exist yet); the close report lists them."""
    lines = []
    for key in regimes:
        regime = mi.regime(key)
        assert regime is not None
        ctx.uow.incidents.record_step(found.id, f"{PREFIX}{regime.key}", {"aware": now.isoformat(), "by": ctx.actor,
                                                                          "at": now.isoformat()}, now)
        log(ctx, found, "classified", f"{regime.key} aware={local(now).isoformat(timespec='minutes')}")
        every = [c for c in clocks(mi, ctx.uow.incidents.steps(found.id)) if c.regime.key == regime.key]
        lines += [ctx.t("incident.legal.classified", ref=found.ref, name=regime.name(ctx.t.lang),
                        aware=ctx.t.when(now)), *clock_lines(ctx.t, every, now)]
    plan_for(ctx.uow, mi, found, now)
    return lines


@incident.add("reported", "rapporterad", "anmäld", subject=incident_in("open", "resolved", "closed"))
def reported(ctx: Context, found: Incident) -> None:
    mi = settings(ctx)
    steps = ctx.uow.incidents.steps(found.id)
    every = clocks(mi, steps)
    allowed = ", ".join(c.report.key for c in every) or "–"
    if not every:
        raise UserError("incident.legal.not_classified", ref=found.ref, allowed=_regimes(mi))
    word = ctx.args[0].lower() if ctx.args else ""
    regime_key, _, report_key = word.rpartition(":")
    matching = [c for c in every if c.report.key == report_key and regime_key in ("", c.regime.key)]
    if len(matching) != 1:
        raise UserError("incident.legal.unknown_report", word=word[:40], ref=found.ref, allowed=allowed)
    clock = matching[0]
    reference = " ".join(ctx.args[1:]).strip()[:REFERENCE_MAX]
    if not reference:
        raise UserError("incident.legal.no_reference", ref=found.ref, key=clock.report.key)
    if clock.reported is not None:
        raise UserError("incident.legal.already_reported", ref=found.ref, report=clock.report.name(ctx.t.lang),
                        reference=clock.reported["reference"])
    now = ctx.clock.now()
    ctx.uow.incidents.record_step(found.id, f"{PREFIX}{clock.regime.key}:{clock.report.key}",
                                  {"reference": reference, "by": ctx.actor, "at": now.isoformat(),
                                   "deadline": clock.deadline.isoformat()}, now)
    log(ctx, found, "reported", f"{clock.regime.key}:{clock.report.key} {reference}")
    plan_for(ctx.uow, mi, found, now)  # a report that counts from this one has its deadline now

    def said(t: Texts) -> Message:
        return t("incident.legal.recorded", ref=found.ref, report=clock.report.name(t.lang),
                 recipient=clock.report.recipient(t.lang), reference=reference,
                 late=t.text("incident.legal.late") if now > clock.deadline else "")

    say_in_room(ctx, found, said)
    ctx.reply(said(ctx.t))


# -- duties ---------------------------------------------------------------------------------------------------------
def _still(core: Samverkan, uow: UnitOfWork, duty: Duty) -> tuple[Incident, ReportClock] | None:
    """The incident and the clock the duty was planned for, if the report is still owed by that deadline."""
    mi = core.model.major_incidents
    found = uow.incidents.get(int(duty.payload["incident"]))
    if mi is None or found is None:
        return None
    for clock in clocks(mi, uow.incidents.steps(found.id)):
        if (clock.regime.key, clock.report.key) == (duty.payload["regime"], duty.payload["report"]):
            if clock.reported is None and clock.deadline == datetime.fromisoformat(duty.payload["deadline"]):
                return found, clock
    return None


def _tell(core: Samverkan, uow: UnitOfWork, found: Incident, once: OnceChat, text: str, **values: object) -> None:
    t = core.texts
    contacts = city_contacts(uow, core.model)
    who = separated(mention(p) for p in contacts) if contacts else t.text("incident.nobody")
    message = t(text, contacts=who, ref=found.ref, title=found.title, **values)
    if found.channel_id:
        once.post(found.channel_id, message)
    for person in contacts:
        if person.account:
            once.direct(person.account, message, part=person.key)


def perform_reminder(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    with core.unit_of_work(read_only=True) as uow:
        still = _still(core, uow, duty)
        if still is None:
            return "dropped"
        found, clock = still
        t = core.texts
        hours = max(int((clock.deadline - now).total_seconds() // 3600), 0)
        _tell(core, uow, found, once, "incident.legal.reminder", report=clock.report.name(t.lang),
              recipient=clock.report.recipient(t.lang), deadline=t.when(clock.deadline), count=hours,
              key=clock.report.key)
    return "done"


def perform_missed(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    with core.unit_of_work() as uow:
        still = _still(core, uow, duty)
        if still is None:
            return "dropped"
        found, clock = still
        t = core.texts
        text = f"{clock.regime.key}:{clock.report.key} {clock.deadline.isoformat()}"
        if uow.incidents.add_to_timeline(duty.key, TimelineEntry(found.id, now, "system", "report_missed", text)):
            uow.events.record(Event(now, "system", "incident.report_missed", found.ref, {"text": text}))
        uow.commit()
        _tell(core, uow, found, once, "incident.legal.missed", report=clock.report.name(t.lang),
              recipient=clock.report.recipient(t.lang), deadline=t.when(clock.deadline), key=clock.report.key)
    return "done"

