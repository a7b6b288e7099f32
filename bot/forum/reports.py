"""Reports owed before sittings (section 5.2: "Leverantören ska inför möten tillhandahålla adekvat rapportering";
8.6, the problem report; 8.9, reporting to GSIT 2.0 before its meetings).

Each report in a forum's model entry has an owner party and a due time before the sitting. `/forum report`
delivers it; its owner's people are reminded before it is due; one missing when due is flagged to the chair party
and marked on the agenda; a delivered one is on the agenda with its link.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot import bounds
from bot.clock import STOCKHOLM
from bot.commands import Context, UserError
from bot.directory.people import Person
from bot.domain_events import FormWanted
from bot.duties import Duty, OnceChat, Outcome, stamp
from bot.forum import calls
from bot.forum.calendar import Sitting, by_forum, is_working_day, next_sitting, sittings
from bot.forum.commands import find_forum, forum
from bot.forum.records import DeliveredReport, OwedReport
from bot.forum.reminders import HORIZON, current_sitting
from bot.forum.seats import chair_people, representatives, tell
from bot.forum.when import parse_offset
from bot.i18n import Texts
from bot.message import Button, Inline, Link, Message, Text
from bot.model import parties
from bot.model.schema import Forum, GovernanceModel, Report
from bot.native import forms as native_forms
from bot.native import language
from bot.ports import UnitOfWork

if TYPE_CHECKING:
    from bot.app import Samverkan

REPORT_DUE = "forum.report_due"  # its owner's people are reminded
REPORT_MISSING = "forum.report_missing"  # the chair party is told it did not come
PLANNED = "forum.reports_planned"
# A link, as typed (the chat adapters hand links over bare).
_URL = re.compile(r"^(https?://[^\s<>]+)$")


def before(instant: datetime, offset: str) -> datetime:
    """`offset` before the instant; days are working days (a report due "1d" before a Monday sitting is due on
    Friday, not on Sunday), hours and minutes are the clock's."""
    if not offset.endswith("d"):
        return instant - parse_offset(offset)
    wall = instant.astimezone(STOCKHOLM)
    day, left = wall.date(), int(offset[:-1])
    while left:
        day -= timedelta(days=1)
        left -= is_working_day(day)
    return datetime.combine(day, wall.time(), tzinfo=STOCKHOLM)


def due_at(report: Report, sitting: Sitting) -> datetime:
    return before(sitting.start, report.due)


def reminded_at(report: Report, sitting: Sitting) -> datetime:
    return before(due_at(report, sitting), report.remind)


def as_delivered(text: str) -> str:
    """A link is kept bare, however it was typed."""
    match = _URL.match(text)
    return match.group(1) if match else text


def content(text: str) -> Inline:
    """A delivered report as the agenda shows it: a link when it is one, the text otherwise."""
    return Link(text, text) if _URL.match(text) else Text(text)


# -- delivering --------------------------------------------------------------------------------------------------
def owed_named(ctx: Context) -> OwedReport:
    """The report a `/forum report` is about: named by its key after the forum, or the one the person's party owes
    there, or the forum's only one."""
    if not ctx.args:
        raise UserError("forum.usage.report")
    found = find_forum(ctx, ctx.args[0])
    ctx.args = ctx.args[1:]
    if not found.reports:
        raise UserError("forum.report.none_owed", forum=found.name(ctx.t.lang))
    by_key = {r.key: r for r in found.reports}
    if ctx.args and ctx.args[0].lower() in by_key:
        chosen = by_key[ctx.args[0].lower()]
        ctx.args = ctx.args[1:]
        return OwedReport(found, chosen)
    own = [r for r in found.reports if ctx.person is not None and r.owner == ctx.person.party]
    candidates = own or found.reports
    if len(candidates) != 1:
        raise UserError("forum.report.which", forum=found.name(ctx.t.lang), keys=", ".join(by_key))
    return OwedReport(found, candidates[0])


@forum.add("report", "rapport", "rapportera", subject=owed_named)
def deliver(ctx: Context, owed: OwedReport) -> None:
    if not ctx.args and ctx.command.trigger_id:
        # A click on "Deliver report" (or the bare words, where the platform has forms): the form asks for it.
        ctx.emit(FormWanted(native_forms.report(ctx, owed.forum, owed.report.key, owed.report.name(ctx.t.lang))))
        return
    text = as_delivered(bounds.text(" ".join(ctx.args), bounds.TEXT))
    if not text:
        raise UserError("forum.usage.report")
    person = ctx.require_person()
    now = ctx.clock.now()
    sitting = next_sitting(owed.forum, now, ctx.uow.forum.changes(owed.forum.key)) if owed.forum.convenes else None
    if sitting is None:
        raise UserError("forum.not_sitting", forum=owed.forum.name(ctx.t.lang))
    ctx.uow.forum.deliver_report(owed.forum.key, owed.report.key, sitting.original, person.party, text, ctx.actor,
                                 now)
    ctx.record("forum.report_delivered", owed.forum.key, report=owed.report.key, sitting=sitting.uid,
               text=text[:300])
    is_late = now > due_at(owed.report, sitting)
    ctx.post(owed.forum.channel, lambda t: t(
        "forum.report.posted", report=owed.report.name(t.lang), forum=owed.forum.name(t.lang),
        when=t.when(sitting.start), by=person.name, content=content(text),
        late=t("forum.report.late_mark") if is_late else ""))
    t = ctx.t
    ctx.reply(t("forum.report.delivered", report=owed.report.name(t.lang), forum=owed.forum.name(t.lang),
                when=t.when(sitting.start), late=t("forum.report.late_mark") if is_late else ""))


# -- on the agenda -----------------------------------------------------------------------------------------------
def latest(uow: UnitOfWork, forum: Forum, sitting: Sitting) -> dict[str, DeliveredReport]:
    """The report delivered for the sitting, by its key: the latest delivery replaces an earlier one."""
    return {r.report: r for r in uow.forum.delivered_reports(forum.key, sitting.original)}


def owed_reports(uow: UnitOfWork, model: GovernanceModel, forum: Forum, sitting: Sitting,
                 previous: Sitting | None, t: Texts, now: datetime, viewer: Person | None) -> list[Message]:
    delivered = latest(uow, forum, sitting)
    lines = []
    for report in forum.reports:
        owner = parties.name(model, report.owner, t.lang)
        due = due_at(report, sitting)
        got = delivered.get(report.key)
        if got is not None:
            by = uow.directory.by_key(got.by)
            lines.append(t("forum.agenda.report_delivered", report=report.name(t.lang), owner=owner,
                           by=by.name if by else got.by, at=t.when(got.at), content=content(got.text),
                           late=t("forum.report.late_mark") if got.at > due else ""))
        elif report.when_asked and not calls.called(uow, forum, sitting):
            lines.append(t("forum.agenda.report_when_asked", report=report.name(t.lang), owner=owner,
                           forum=forum.key))
        elif now >= due:
            lines.append(t("forum.agenda.report_missing", report=report.name(t.lang), owner=owner, due=t.when(due)))
        else:
            lines.append(t("forum.agenda.report_owed", report=report.name(t.lang), owner=owner, due=t.when(due),
                           forum=forum.key, key=report.key))
    return lines


# -- reminded and flagged ----------------------------------------------------------------------------------------
def duty_key(kind: str, forum: Forum, report: Report, sitting: Sitting) -> str:
    # The sitting's current start is part of the key: a moved sitting's report falls due anew.
    return f"{kind}:{forum.key}:{report.key}:{sitting.uid}:{stamp(sitting.start)}"


def plan(core: Samverkan, now: datetime) -> None:
    with core.unit_of_work() as uow:
        since = uow.forum.mark(PLANNED) or now
        wanted: dict[str, Duty] = {}
        agreed = by_forum(uow.forum.changes())
        for found in core.model.calendar:
            if not (found.convenes and found.reports):
                continue
            for sitting in sittings(found, now, now + HORIZON, agreed.get(found.key, [])):
                if sitting.held:
                    wanted.update(_duties(found, sitting, since, calls.called(uow, found, sitting)))
        for kind in (REPORT_DUE, REPORT_MISSING):
            for key in uow.duties.pending_keys(f"{kind}:", kind):
                if key not in wanted:
                    uow.duties.unplan(key)
        uow.duties.plan_many(list(wanted.values()))
        uow.forum.set_mark(PLANNED, now)
        uow.commit()


def _duties(found: Forum, sitting: Sitting, since: datetime, called: bool = True) -> dict[str, Duty]:
    duties = {}
    for report in found.reports:
        if report.when_asked and not called:
            continue  # owed only before a sitting the chair called for it (8.9, "när behov finns")
        due = due_at(report, sitting)
        for kind, when in ((REPORT_DUE, reminded_at(report, sitting)), (REPORT_MISSING, due)):
            if when < since:
                continue
            key = duty_key(kind, found, report, sitting)
            duties[key] = Duty(key, kind, when, not_after=sitting.start, payload={
                "forum": found.key, "report": report.key, "original": sitting.original.isoformat()})
    return duties


def _still_owed(core: Samverkan, uow: UnitOfWork, duty: Duty) -> tuple[Forum, Report, Sitting] | None:
    """The forum, report and sitting of a duty, if the sitting is still as planned and the report not delivered."""
    found = core.model.sitting_forum(duty.payload["forum"])
    report = next((r for r in found.reports if r.key == duty.payload["report"]), None) if found else None
    if found is None or report is None:
        return None
    sitting = current_sitting(found, uow, duty)
    if sitting is None or duty_key(duty.kind, found, report, sitting) != duty.key:
        return None  # moved or cancelled since: the planner has planned it anew
    if report.key in latest(uow, found, sitting):
        return None
    if report.when_asked and not calls.called(uow, found, sitting):
        return None
    return found, report, sitting


def _representing(model: GovernanceModel) -> list[str]:
    return model.ladder.representative_roles if model.ladder else []


def perform_due(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    t, model = core.texts, core.model
    with core.unit_of_work() as uow:
        owed = _still_owed(core, uow, duty)
        if owed is None:
            return "dropped"
        found, report, sitting = owed
        owners = representatives(model, found, report.owner, uow.directory.people(report.owner),
                                 _representing(model), always_someone=True)
        texts = language.texts_for(uow, [p.account for p in owners], core.lang)

    def due_soon(t: Texts) -> Message:
        return t("forum.report.due_soon", report=report.name(t.lang), forum=found.name(t.lang),
                 when=t.when(sitting.start), due=t.when(due_at(report, sitting)), key=found.key,
                 report_key=report.key).with_buttons(
            Button(t.text("native.button.deliver_report"), "forum.report", f"{found.key} {report.key}", "primary"))

    tell(once, found, owners, due_soon(t), {p.key: due_soon(texts[p.account]) for p in owners})
    return "done"


def perform_missing(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    t, model = core.texts, core.model
    with core.unit_of_work() as uow:
        owed = _still_owed(core, uow, duty)
        if owed is None:
            return "dropped"
        found, report, sitting = owed
        told = chair_people(model, found, uow.directory.people, _representing(model))
        if parties.chairs(model, found, report.owner):
            # A party does not usefully flag its own lapse to itself: the City's oversight at the forum hears of it.
            for party in model.parties:
                if party.oversight and parties.attends(model, found, party.key):
                    told.extend(representatives(model, found, party.key, uow.directory.people(party.key),
                                                _representing(model), always_someone=True))
        told = list({p.key: p for p in told}.values())
        texts = language.texts_for(uow, [p.account for p in told], core.lang)

    def missing(t: Texts) -> Message:
        return t("forum.report.missing", report=report.name(t.lang),
                 owner=parties.name(model, report.owner, t.lang), forum=found.name(t.lang),
                 when=t.when(sitting.start), due=t.when(due_at(report, sitting)))

    tell(once, found, told, missing(t), {p.key: missing(texts[p.account]) for p in told})
    return "done"

