"""`/forum`: the calendar, agendas, agreed dates, decisions and actions."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from bot import bounds
from bot.commands import CommandSet, Context, UserError
from bot.directory.lookup import require_person
from bot.directory.people import mention
from bot.domain_events import CalendarChanged, FormWanted
from bot.forum import agreed, standing
from bot.forum.calendar import Change, Sitting, next_sitting, sittings
from bot.forum.records import Action
from bot.forum.reminders import compose
from bot.forum.when import at, local_date, parse_date, parse_time
from bot.i18n import Texts
from bot.message import Message, bullets, join, phrase
from bot.model.schema import Forum
from bot.native import forms as native_forms
from bot.native import live

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



def forum_named(usage: str) -> Callable[[Context], Forum]:
    """The resolver of a sub-command about a forum: its first word names it."""
    def resolve(ctx: Context) -> Forum:
        if not ctx.args:
            raise UserError(usage)
        found = find_forum(ctx, ctx.args[0])
        ctx.args = ctx.args[1:]
        return found

    return resolve


def action_named(ctx: Context) -> Action:
    if len(ctx.args) != 1:
        raise UserError("forum.usage.done")
    number = bounds.reference(ctx.args[0], "A")
    found = ctx.uow.forum.action(number) if number else None
    if found is None:
        raise UserError("forum.unknown_action", word=ctx.args[0])
    return found


def _sitting_on(ctx: Context, found: Forum, word: str) -> Sitting:
    """The sitting on a date, as people refer to it: by the day it is (or was, before a move) held."""
    day = parse_date(word)
    if not bounds.around(day, local_date(ctx.clock.now())):
        raise UserError("forum.no_sitting_on", forum=found.name(ctx.t.lang), date=word)
    window = sittings(found, at(day, found.time) - timedelta(days=40), at(day, found.time) + timedelta(days=40),
                      ctx.uow.forum.changes(found.key))
    for sitting in window:
        if local_date(sitting.start) == day or local_date(sitting.original) == day:
            return sitting
    raise UserError("forum.no_sitting_on", forum=found.name(ctx.t.lang), date=word)


def require_planned(ctx: Context, when: datetime) -> None:
    """A time something is planned for: ahead of now, and within the planning window (bot.bounds)."""
    if when <= ctx.clock.now():
        raise UserError("forum.in_the_past", when=ctx.t.when(when))
    if not bounds.ahead(when, ctx.clock.now()):
        raise UserError("forum.too_far_ahead", when=ctx.t.date(when))


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
        upcoming = next_sitting(found, now, ctx.uow.forum.changes(found.key)) if found.convenes else None
        when = (ctx.t.when(upcoming.start) if upcoming else ctx.t.text("forum.standing.when_convened")
                if found.continuous else ctx.t.text("forum.no_fixed_sittings"))
        lines.append(ctx.t("forum.list_line", key=found.key, forum=found.name(ctx.t.lang),
                           cadence=found.cadence(ctx.t.lang), channel=found.channel, when=when))
    ctx.reply(join(lines))


@forum.add("next", "nästa", "nasta")
def next_sittings(ctx: Context) -> None:
    now = ctx.clock.now()
    if ctx.args:
        found = find_forum(ctx, " ".join(ctx.args))
        if not found.convenes:
            raise UserError("forum.not_sitting", forum=found.name(ctx.t.lang))
        coming = sittings(found, now, now + timedelta(days=366), ctx.uow.forum.changes(found.key))
        if not coming:
            raise UserError("forum.standing.none_convened", forum=found.name(ctx.t.lang), key=found.key)
        lines = [ctx.t("forum.next_heading_one", forum=found.name(ctx.t.lang))]
        lines.append(bullets(describe_sitting(ctx, found, s) for s in coming[:12]))
        ctx.reply(join(lines))
        return
    upcoming = []
    for found in ctx.model.calendar:
        if found.convenes and (sitting := next_sitting(found, now, ctx.uow.forum.changes(found.key))):
            upcoming.append((sitting.start, found, sitting))
    lines = [ctx.t("forum.next_heading")]
    lines.append(bullets(describe_sitting(ctx, f, s) for _, f, s in sorted(upcoming, key=lambda x: x[0])))
    ctx.reply(join(lines))


@forum.add("agenda", "dagordning", subject=forum_named("forum.usage.agenda"))
def agenda_command(ctx: Context, found: Forum) -> None:
    now = ctx.clock.now()
    sitting = next_sitting(found, now, ctx.uow.forum.changes(found.key)) if found.convenes else None
    if sitting is None and not found.continuous:
        raise UserError("forum.not_sitting", forum=found.name(ctx.t.lang))
    if len(ctx.args) == 1 and ctx.args[0].lower() in ("add", "lägg") and ctx.command.trigger_id:
        # A click on a reminder's "Add agenda item" (or the bare words, where the platform has forms).
        ctx.emit(FormWanted(native_forms.agenda_item(ctx.t, ctx.command.channel_id, found)))
        return
    if len(ctx.args) >= 2 and ctx.args[0].lower() in ("add", "lägg"):
        typed = " ".join(ctx.args[1:]).strip()
        if len(typed) > bounds.AGENDA_ITEM:
            raise UserError("forum.agenda_item_too_long", length=len(typed), limit=bounds.AGENDA_ITEM)
        text = bounds.text(typed, bounds.AGENDA_ITEM)
        if sitting is None:
            standing.add(ctx, found, text)
            return
        item = ctx.uow.forum.add_agenda_item(found.key, sitting.original, text, ctx.actor, now)
        ctx.record("forum.agenda_item_added", found.key, item=item.id, text=text, sitting=sitting.uid)
        ctx.reply(ctx.t("forum.agenda_added", forum=found.name(ctx.t.lang), when=ctx.t.when(sitting.start),
                        text=text))
        return
    page = 1
    if len(ctx.args) == 1 and (match := _PAGE.fullmatch(ctx.args[0])) and (chosen := bounds.number(match.group(1))):
        page = chosen
    elif ctx.args:
        raise UserError("forum.usage.agenda")
    if sitting is None:
        ctx.reply(standing.agenda(ctx, found, page))
        return
    # For this person: the agenda lists only the disagreements they may see, a page at a time (a long agenda in
    # one answer would be more than the platform takes).
    ctx.reply(compose(ctx.agenda_sources, ctx.model, ctx.uow, found, sitting, now, ctx.t, viewer=ctx.person,
                      page=page))


_PAGE = re.compile(r"(?:sida|page)=(\S+)", re.IGNORECASE)


# -- dates the parties agree -------------------------------------------------------------------------------------
@forum.add("move", "flytta", subject=forum_named("forum.usage.move"))
def move(ctx: Context, found: Forum) -> None:
    if len(ctx.args) not in (2, 3):
        raise UserError("forum.usage.move")
    sitting = _sitting_on(ctx, found, ctx.args[0])
    new_time = parse_time(ctx.args[2]) if len(ctx.args) == 3 else found.time
    start = at(parse_date(ctx.args[1]), new_time)
    require_planned(ctx, start)
    require_planned(ctx, sitting.start)
    change = Change(found.key, "move", sitting.original, start, ctx.actor, ctx.clock.now())
    ctx.uow.forum.save_change(change)
    ctx.record("forum.sitting_moved", found.key, original=sitting.original.isoformat(), start=start.isoformat())
    by = ctx.require_person().name
    _announce(ctx, found, lambda t: t("forum.moved", forum=found.name(t.lang), old=t.when(sitting.start),
                                      new=t.when(start), by=by))
    agreed.tell_parties(ctx, found, lambda t: t("forum.moved", forum=found.name(t.lang), old=t.when(sitting.start),
                                                new=t.when(start), by=by))


@forum.add("cancel", "ställ", "stall", subject=forum_named("forum.usage.cancel"))
def cancel(ctx: Context, found: Forum) -> None:
    if len(ctx.args) != 1:
        raise UserError("forum.usage.cancel")
    day = parse_date(ctx.args[0])
    if not bounds.around(day, local_date(ctx.clock.now())):
        # An extra sitting agreed far outside any sensible window (kept from before dates had bounds): it can
        # only be a mistake, and is withdrawn as such.
        withdrawn = ctx.uow.forum.withdraw_extra(found.key, day)
        if withdrawn:
            ctx.record("forum.extra_withdrawn", found.key, starts=[w.isoformat() for w in withdrawn])
            by = ctx.require_person().name
            _announce(ctx, found, lambda t: t("forum.extra_withdrawn", forum=found.name(t.lang),
                                              date=day.isoformat(), by=by))
            return
    sitting = _sitting_on(ctx, found, ctx.args[0])
    if not sitting.held:
        raise UserError("forum.already_cancelled", forum=found.name(ctx.t.lang), date=ctx.args[0])
    if sitting.start <= ctx.clock.now():
        raise UserError("forum.in_the_past", when=ctx.t.when(sitting.start))
    ctx.uow.forum.save_change(Change(found.key, "cancel", sitting.original, None, ctx.actor, ctx.clock.now()))
    ctx.record("forum.sitting_cancelled", found.key, original=sitting.original.isoformat())
    by = ctx.require_person().name
    _announce(ctx, found, lambda t: t("forum.cancelled", forum=found.name(t.lang), when=t.when(sitting.start),
                                      by=by))
    agreed.tell_parties(ctx, found, lambda t: t("forum.cancelled", forum=found.name(t.lang),
                                                when=t.when(sitting.start), by=by))
    agreed.flag_long_gap(ctx, found, sitting)


@forum.add("extra", subject=forum_named("forum.usage.extra"))
def extra(ctx: Context, found: Forum) -> None:
    if len(ctx.args) != 2:
        raise UserError("forum.usage.extra")
    start = at(parse_date(ctx.args[0]), parse_time(ctx.args[1]))
    require_planned(ctx, start)
    ctx.uow.forum.save_change(Change(found.key, "extra", None, start, ctx.actor, ctx.clock.now()))
    ctx.record("forum.extra_sitting", found.key, start=start.isoformat())
    by = ctx.require_person().name
    _announce(ctx, found, lambda t: t("forum.extra_added", forum=found.name(t.lang), when=t.when(start), by=by))


def _announce(ctx: Context, found: Forum, text: Callable[[Texts], Message]) -> None:
    """A changed date is news for the forum's channel (in its language, and to whoever changed it in theirs); its
    reminders are planned anew."""
    ctx.post(found.channel, text)
    ctx.reply(text(ctx.t))
    ctx.emit(CalendarChanged())


# -- after a sitting ---------------------------------------------------------------------------------------------
@forum.add("decision", "beslut", subject=forum_named("forum.usage.decision"))
def decision(ctx: Context, found: Forum) -> None:
    if not ctx.args:
        raise UserError("forum.usage.decision")
    text = bounds.text(" ".join(ctx.args), bounds.TEXT)
    made = ctx.uow.forum.add_decision(found.key, text, ctx.actor, ctx.clock.now())
    ctx.record("forum.decision", found.key, decision=made.id, text=text)
    by = ctx.require_person().name
    ctx.post(found.channel, lambda t: t("forum.decision_posted", forum=found.name(t.lang), text=text, by=by))
    ctx.reply(ctx.t("forum.decision_recorded", ref=f"B-{made.id}"))


@forum.add("action", "åtgärd", "atgard", subject=forum_named("forum.usage.action"))
def action(ctx: Context, found: Forum) -> None:
    if len(ctx.args) < 3:
        raise UserError("forum.usage.action")
    owner = require_person(ctx.uow, ctx.args[0])
    due = parse_date(ctx.args[1])
    if due < local_date(ctx.clock.now()):
        raise UserError("forum.in_the_past", when=ctx.t.date(at(due, found.time)))
    if not bounds.ahead(at(due, found.time), ctx.clock.now() - timedelta(days=1)):
        raise UserError("forum.too_far_ahead", when=ctx.t.date(at(due, found.time)))
    text = bounds.text(" ".join(ctx.args[2:]), bounds.TEXT)
    made = ctx.uow.forum.add_action(found.key, owner.key, due, text, ctx.actor, ctx.clock.now())
    ctx.record("forum.action", found.key, action=made.id, owner=owner.key, due=due.isoformat(), text=text)
    # Kept current in the channel: its Done button until it is done.
    live.notify(ctx, live.subject("action", made.id), lambda t: t(
        "forum.action_posted", ref=made.ref, forum=found.name(t.lang), owner=mention(owner), due=due.isoformat(),
        text=text), channel=found.channel)
    ctx.reply(ctx.t("forum.action_recorded", ref=made.ref, owner=owner.name, due=due.isoformat()))
    ctx.emit(CalendarChanged())


@forum.add("done", "klar", subject=action_named)
def done(ctx: Context, found: Action) -> None:
    if found.done_at is not None:
        raise UserError("forum.action_already_done", ref=found.ref)
    ctx.uow.forum.finish_action(found.id, ctx.clock.now())
    ctx.record("forum.action_done", found.forum, action=found.id)
    live.changed(ctx, live.subject("action", found.id))
    ctx.reply(ctx.t("forum.action_done", ref=found.ref, text=found.text))


@forum.add("subscribe", "prenumerera", subject=forum_named("forum.usage.subscribe"))
def subscribe(ctx: Context, found: Forum) -> None:
    _subscription(ctx, found, True)


@forum.add("unsubscribe", "avsluta", subject=forum_named("forum.usage.subscribe"))
def unsubscribe(ctx: Context, found: Forum) -> None:
    _subscription(ctx, found, False)


def _subscription(ctx: Context, found: Forum, on: bool) -> None:
    if ctx.args:
        raise UserError("forum.usage.subscribe")
    person = ctx.require_person()
    changed = (ctx.uow.forum.subscribe(found.key, person.key) if on
               else ctx.uow.forum.unsubscribe(found.key, person.key))
    if changed:
        ctx.record("forum.subscribed" if on else "forum.unsubscribed", found.key, person=person.key)
    ctx.reply(ctx.t("forum.subscribed" if on else "forum.unsubscribed", forum=found.name(ctx.t.lang)))
