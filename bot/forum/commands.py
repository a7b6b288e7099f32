"""`/forum`: the calendar, agendas, agreed dates, decisions and actions."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.commands import CommandSet, Context, UserError
from bot.directory.lookup import require_person
from bot.domain_events import CalendarChanged
from bot.forum.calendar import Change, Sitting, next_sitting, sittings
from bot.forum.reminders import compose
from bot.forum.when import at, local_date, parse_date, parse_time
from bot.message import Message, bullets, join, phrase
from bot.model.schema import Forum

forum = CommandSet("forum")


# -- finding things ---------------------------------------------------------------------------------------------
def find_forum(ctx: Context, word: str) -> Forum:
    wanted = word.lower()
    for candidate in ctx.model.calendar + [f for f in ctx.model.forums if f.per_catalogue]:
        if wanted in (candidate.key, candidate.name.sv.lower(), candidate.name.en.lower()):
            if candidate.per_catalogue:
                keys = ", ".join(f"{candidate.key}-{c.key}" for c in ctx.model.catalogues)
                raise UserError("forum.which_catalogue", forum=candidate.key, keys=keys)
            return candidate
    raise UserError("forum.unknown_forum", word=word)


def _sitting_on(ctx: Context, found: Forum, word: str) -> Sitting:
    """The sitting on a date, as people refer to it: by the day it is (or was, before a move) held."""
    day = parse_date(word)
    window = sittings(found, at(day, found.time) - timedelta(days=40), at(day, found.time) + timedelta(days=40),
                      ctx.uow.forum.changes(found.key))
    for sitting in window:
        if local_date(sitting.start) == day or local_date(sitting.original) == day:
            return sitting
    raise UserError("forum.no_sitting_on", forum=found.name(ctx.t.lang), date=word)


def _require_chair(ctx: Context, found: Forum) -> None:
    person = ctx.require_person()
    if person.party not in found.chair:
        chair = ", ".join(p.name(ctx.t.lang) for p in map(ctx.model.party, found.chair) if p)
        raise UserError("forum.chair_only", forum=found.name(ctx.t.lang), chair=chair)


def _require_attendee(ctx: Context, found: Forum) -> None:
    person = ctx.require_person()
    parties = set(found.chair) | {r.party for r in found.attendees}
    oversight = {p.key for p in ctx.model.parties if p.oversight}
    if person.party not in parties | oversight:
        raise UserError("forum.attendees_only", forum=found.name(ctx.t.lang))


def require_future(ctx: Context, when: datetime) -> None:
    if when <= ctx.clock.now():
        raise UserError("forum.in_the_past", when=ctx.t.when(when))


def describe_sitting(ctx: Context, found: Forum, sitting: Sitting) -> Message:
    t = ctx.t
    text = t("forum.sitting_line", forum=found.name(t.lang), when=t.when(sitting.start))
    if sitting.status == "cancelled":
        why = t("forum.reminder.holiday", holiday=sitting.holiday or "") if sitting.reason == "holiday" else ""
        return phrase(text, t("forum.status.cancelled", why=why))
    if sitting.status == "moved":
        key = "forum.status.moved_holiday" if sitting.reason == "holiday" else "forum.status.moved"
        return phrase(text, t(key, original=t.date(sitting.original), holiday=sitting.holiday or ""))
    if sitting.status == "extra":
        return phrase(text, t("forum.status.extra"))
    return text


# -- the calendar -----------------------------------------------------------------------------------------------
@forum.add("list", "lista")
def list_forums(ctx: Context) -> None:
    now = ctx.clock.now()
    lines = [ctx.t("forum.list_heading")]
    for found in ctx.model.calendar:
        upcoming = next_sitting(found, now, ctx.uow.forum.changes(found.key)) if found.sits else None
        when = ctx.t.when(upcoming.start) if upcoming else ctx.t.text("forum.no_fixed_sittings")
        lines.append(ctx.t("forum.list_line", key=found.key, forum=found.name(ctx.t.lang),
                           cadence=found.cadence(ctx.t.lang), channel=found.channel, when=when))
    ctx.reply(join(lines))


@forum.add("next", "nästa", "nasta")
def next_sittings(ctx: Context) -> None:
    now = ctx.clock.now()
    if ctx.args:
        found = find_forum(ctx, " ".join(ctx.args))
        if not found.sits:
            raise UserError("forum.not_sitting", forum=found.name(ctx.t.lang))
        coming = sittings(found, now, now + timedelta(days=366), ctx.uow.forum.changes(found.key))
        lines = [ctx.t("forum.next_heading_one", forum=found.name(ctx.t.lang))]
        lines.append(bullets(describe_sitting(ctx, found, s) for s in coming[:12]))
        ctx.reply(join(lines))
        return
    upcoming = []
    for found in ctx.model.calendar:
        if found.sits and (sitting := next_sitting(found, now, ctx.uow.forum.changes(found.key))):
            upcoming.append((sitting.start, found, sitting))
    lines = [ctx.t("forum.next_heading")]
    lines.append(bullets(describe_sitting(ctx, f, s) for _, f, s in sorted(upcoming, key=lambda x: x[0])))
    ctx.reply(join(lines))


@forum.add("agenda", "dagordning")
def agenda_command(ctx: Context) -> None:
    if not ctx.args:
        raise UserError("forum.usage.agenda")
    found = find_forum(ctx, ctx.args[0])
    now = ctx.clock.now()
    sitting = next_sitting(found, now, ctx.uow.forum.changes(found.key)) if found.sits else None
    if sitting is None:
        raise UserError("forum.not_sitting", forum=found.name(ctx.t.lang))
    if len(ctx.args) >= 3 and ctx.args[1].lower() in ("add", "lägg"):
        _require_attendee(ctx, found)
        text = " ".join(ctx.args[2:])
        item = ctx.uow.forum.add_agenda_item(found.key, sitting.original, text, ctx.actor, now)
        ctx.record("forum.agenda_item_added", found.key, item=item.id, text=text, sitting=sitting.uid)
        ctx.reply(ctx.t("forum.agenda_added", forum=found.name(ctx.t.lang), when=ctx.t.when(sitting.start),
                        text=text))
        return
    if len(ctx.args) != 1:
        raise UserError("forum.usage.agenda")
    # The agenda carries the parties' open disagreements: it is for those who sit in the forum.
    _require_attendee(ctx, found)
    ctx.reply(compose(ctx.agenda_sources, ctx.model, ctx.uow, found, sitting, now, ctx.t, viewer=ctx.person))


# -- dates the parties agree -------------------------------------------------------------------------------------
@forum.add("move", "flytta")
def move(ctx: Context) -> None:
    if len(ctx.args) not in (3, 4):
        raise UserError("forum.usage.move")
    found = find_forum(ctx, ctx.args[0])
    _require_chair(ctx, found)
    sitting = _sitting_on(ctx, found, ctx.args[1])
    new_time = parse_time(ctx.args[3]) if len(ctx.args) == 4 else found.time
    start = at(parse_date(ctx.args[2]), new_time)
    require_future(ctx, start)
    require_future(ctx, sitting.start)
    change = Change(found.key, "move", sitting.original, start, ctx.actor, ctx.clock.now())
    ctx.uow.forum.save_change(change)
    ctx.record("forum.sitting_moved", found.key, original=sitting.original.isoformat(), start=start.isoformat())
    text = ctx.t("forum.moved", forum=found.name(ctx.t.lang), old=ctx.t.when(sitting.start), new=ctx.t.when(start),
                 by=ctx.require_person().name)
    ctx.post(found.channel, text)
    ctx.reply(text)
    ctx.emit(CalendarChanged())


@forum.add("cancel", "ställ", "stall")
def cancel(ctx: Context) -> None:
    if len(ctx.args) != 2:
        raise UserError("forum.usage.cancel")
    found = find_forum(ctx, ctx.args[0])
    _require_chair(ctx, found)
    sitting = _sitting_on(ctx, found, ctx.args[1])
    require_future(ctx, sitting.start)
    if not sitting.held:
        raise UserError("forum.already_cancelled", forum=found.name(ctx.t.lang), date=ctx.args[1])
    ctx.uow.forum.save_change(Change(found.key, "cancel", sitting.original, None, ctx.actor, ctx.clock.now()))
    ctx.record("forum.sitting_cancelled", found.key, original=sitting.original.isoformat())
    text = ctx.t("forum.cancelled", forum=found.name(ctx.t.lang), when=ctx.t.when(sitting.start),
                 by=ctx.require_person().name)
    ctx.post(found.channel, text)
    ctx.reply(text)
    ctx.emit(CalendarChanged())


@forum.add("extra")
def extra(ctx: Context) -> None:
    if len(ctx.args) != 3:
        raise UserError("forum.usage.extra")
    found = find_forum(ctx, ctx.args[0])
    _require_chair(ctx, found)
    start = at(parse_date(ctx.args[1]), parse_time(ctx.args[2]))
    require_future(ctx, start)
    ctx.uow.forum.save_change(Change(found.key, "extra", None, start, ctx.actor, ctx.clock.now()))
    ctx.record("forum.extra_sitting", found.key, start=start.isoformat())
    text = ctx.t("forum.extra_added", forum=found.name(ctx.t.lang), when=ctx.t.when(start),
                 by=ctx.require_person().name)
    ctx.post(found.channel, text)
    ctx.reply(text)
    ctx.emit(CalendarChanged())


# -- after a sitting ---------------------------------------------------------------------------------------------
@forum.add("decision", "beslut")
def decision(ctx: Context) -> None:
    if len(ctx.args) < 2:
        raise UserError("forum.usage.decision")
    found = find_forum(ctx, ctx.args[0])
    _require_attendee(ctx, found)
    text = " ".join(ctx.args[1:])
    made = ctx.uow.forum.add_decision(found.key, text, ctx.actor, ctx.clock.now())
    ctx.record("forum.decision", found.key, decision=made.id, text=text)
    ctx.post(found.channel, ctx.t("forum.decision_posted", forum=found.name(ctx.t.lang), text=text,
                                         by=ctx.require_person().name))
    ctx.reply(ctx.t("forum.decision_recorded", ref=f"B-{made.id}"))


@forum.add("action", "åtgärd", "atgard")
def action(ctx: Context) -> None:
    if len(ctx.args) < 4:
        raise UserError("forum.usage.action")
    found = find_forum(ctx, ctx.args[0])
    _require_attendee(ctx, found)
    owner = require_person(ctx.uow, ctx.args[1])
    due = parse_date(ctx.args[2])
    if due < local_date(ctx.clock.now()):
        raise UserError("forum.in_the_past", when=ctx.t.date(at(due, found.time)))
    text = " ".join(ctx.args[3:])
    made = ctx.uow.forum.add_action(found.key, owner.key, due, text, ctx.actor, ctx.clock.now())
    ctx.record("forum.action", found.key, action=made.id, owner=owner.key, due=due.isoformat(), text=text)
    ctx.post(found.channel, ctx.t("forum.action_posted", ref=made.ref, forum=found.name(ctx.t.lang),
                                         owner=owner.name, due=due.isoformat(), text=text))
    ctx.reply(ctx.t("forum.action_recorded", ref=made.ref, owner=owner.name, due=due.isoformat()))
    ctx.emit(CalendarChanged())


@forum.add("done", "klar")
def done(ctx: Context) -> None:
    if len(ctx.args) != 1:
        raise UserError("forum.usage.done")
    word = ctx.args[0].upper().removeprefix("A-")
    found = ctx.uow.forum.action(int(word)) if word.isdigit() else None
    if found is None:
        raise UserError("forum.unknown_action", word=ctx.args[0])
    person = ctx.require_person()
    its_forum = ctx.model.sitting_forum(found.forum)
    if person.key != found.owner and its_forum is not None:
        _require_attendee(ctx, its_forum)
    if found.done_at is not None:
        raise UserError("forum.action_already_done", ref=found.ref)
    ctx.uow.forum.finish_action(found.id, ctx.clock.now())
    ctx.record("forum.action_done", found.forum, action=found.id)
    ctx.reply(ctx.t("forum.action_done", ref=found.ref, text=found.text))


@forum.add("subscribe", "prenumerera")
def subscribe(ctx: Context) -> None:
    _subscription(ctx, True)


@forum.add("unsubscribe", "avsluta")
def unsubscribe(ctx: Context) -> None:
    _subscription(ctx, False)


def _subscription(ctx: Context, on: bool) -> None:
    if len(ctx.args) != 1:
        raise UserError("forum.usage.subscribe")
    found = find_forum(ctx, ctx.args[0])
    person = ctx.require_person()
    changed = ctx.uow.forum.subscribe(found.key, person.key) if on else ctx.uow.forum.unsubscribe(found.key,
                                                                                                   person.key)
    if changed:
        ctx.record("forum.subscribed" if on else "forum.unsubscribed", found.key, person=person.key)
    key = "forum.subscribed" if on else "forum.unsubscribed"
    ctx.reply(ctx.t(key, forum=found.name(ctx.t.lang)))
