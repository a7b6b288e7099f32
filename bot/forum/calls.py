"""The chair's call (section 8.9: GSIT 2.0's meetings, which the lead supplier attends and reports to "när behov
finns"): a seat marked `when_needed` and a report marked `when_asked` are no standing duty; the chair party calls
them to one sitting with `/forum call <forum> <date>`, and only then is the seat expected and the report owed,
reminded and flagged like any other. The call is kept as a mark (bot.forum.records.ForumStore.mark) of the forum's
sitting."""

from __future__ import annotations

from bot.commands import Context, UserError
from bot.domain_events import CalendarChanged
from bot.duties import stamp
from bot.forum.calendar import Sitting
from bot.forum.commands import _sitting_on, forum, forum_named
from bot.forum.seats import representatives
from bot.model import parties
from bot.model.schema import Forum
from bot.ports import UnitOfWork


def mark(found: Forum, sitting: Sitting) -> str:
    return f"call:{found.key}:{stamp(sitting.original)}"


def called(uow: UnitOfWork, found: Forum, sitting: Sitting) -> bool:
    """Whether the chair called the forum's when-needed seats and reports to this sitting (always, for a forum
    that has none)."""
    if not needs_calling(found):
        return True
    return uow.forum.mark(mark(found, sitting)) is not None


def needs_calling(found: Forum) -> bool:
    return any(a.when_needed for a in found.attendees) or any(r.when_asked for r in found.reports)


@forum.add("call", "kalla", subject=forum_named("forum.usage.call"))
def call(ctx: Context, found: Forum) -> None:
    if len(ctx.args) != 1:
        raise UserError("forum.usage.call")
    if not needs_calling(found):
        raise UserError("forum.call.nothing", forum=found.name(ctx.t.lang))
    sitting = _sitting_on(ctx, found, ctx.args[0])
    now = ctx.clock.now()
    if not sitting.held or sitting.start <= now:
        raise UserError("forum.in_the_past", when=ctx.t.when(sitting.start)) if sitting.held else UserError(
            "forum.already_cancelled", forum=found.name(ctx.t.lang), date=ctx.args[0])
    if ctx.uow.forum.mark(mark(found, sitting)) is not None:
        raise UserError("forum.call.already", forum=found.name(ctx.t.lang), when=ctx.t.when(sitting.start))
    ctx.uow.forum.set_mark(mark(found, sitting), now)
    ctx.record("forum.called", found.key, sitting=sitting.uid)
    person = ctx.require_person()
    representing = ctx.model.ladder.representative_roles if ctx.model.ladder else []
    asked = [r for r in found.reports if r.when_asked]
    for seat in (a for a in found.attendees if a.when_needed):
        for party in parties.members(ctx.model, seat.ref):
            for someone in representatives(ctx.model, found, party, ctx.uow.directory.people(party), representing,
                                           always_someone=True):
                ctx.direct(someone, lambda t, party=party: t(
                    "forum.call.posted", forum=found.name(t.lang), when=t.when(sitting.start), by=person.name,
                    reports=", ".join(r.name(t.lang) for r in asked if r.owner == party) or "–", key=found.key))
    ctx.emit(CalendarChanged())  # the reports it asks for are planned now
    ctx.reply(ctx.t("forum.call.called", forum=found.name(ctx.t.lang), when=ctx.t.when(sitting.start)))
