"""Reminders before each sitting and for actions falling due: planned as duties, posted exactly once."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from bot.clock import STOCKHOLM
from bot.directory.people import Person, mention
from bot.duties import Duty, OnceChat, Outcome, stamp
from bot.fit import shortened, size
from bot.forum.agenda import AgendaSource, agenda
from bot.forum.calendar import Change, Sitting, by_forum, previous_sitting, sittings
from bot.forum.when import at, parse_offset
from bot.i18n import Texts
from bot.message import Button, Line, Message, Span, Text, join, line, phrase, separated, to_json
from bot.model import parties
from bot.model.schema import Forum, GovernanceModel
from bot.native import language, live
from bot.ports import UnitOfWork

if TYPE_CHECKING:
    from bot.app import Samverkan

log = logging.getLogger(__name__)

REMINDER = "forum.reminder"
ACTION_DUE = "forum.action_due"
# Reminders are planned this far ahead; planning runs every few minutes and after every change of dates.
HORIZON = timedelta(days=35)
PLANNED = "forum.reminders_planned"
# Posted this much after its time, a reminder says it is late (the bot was down).
LATE = timedelta(minutes=1)
ACTION_TIME = time(9, 0)


def reminder_key(sitting: Sitting, offset: str) -> str:
    # The current start and status are part of the key: a moved or cancelled sitting gets new reminders and the
    # planner withdraws the old ones.
    return f"{REMINDER}:{sitting.forum}:{sitting.uid}:{stamp(sitting.start)}:{sitting.status}:{offset}"


def plan(core: Samverkan, now: datetime) -> None:
    with core.unit_of_work() as uow:
        # Reminders due before the bot first planned belong to a time it did not exist; after that, reminders due
        # while it was down are still planned, and posted late if their sitting has not begun.
        since = uow.forum.mark(PLANNED) or now
        current: dict[str, Duty] = {}
        agreed = by_forum(uow.forum.changes())
        for forum in core.model.calendar:
            if not forum.convenes:
                continue
            try:
                current.update(_sitting_duties(forum, agreed.get(forum.key, []), now))
            except (OverflowError, ValueError):
                # One forum's bad data must not cost every other forum its reminders.
                log.exception("could not plan the reminders of %s; the other forums are planned", forum.key)
        for key in uow.duties.pending_keys(f"{REMINDER}:", REMINDER):
            # Only a reminder whose sitting moved, was cancelled or has begun is withdrawn: one that is overdue
            # (its process died before it was posted) still stands.
            if key not in current:
                uow.duties.unplan(key)
        # In one statement each: a duty planned already (by anyone, in any state) stays as it is.
        uow.duties.plan_many([duty for duty in current.values() if duty.due >= since])
        uow.duties.plan_many([Duty(f"{ACTION_DUE}:{action.id}", ACTION_DUE, at(action.due, ACTION_TIME),
                                   payload={"action": action.id}) for action in uow.forum.open_actions()])
        uow.forum.set_mark(PLANNED, now)
        uow.commit()


def _sitting_duties(forum: Forum, changes: Sequence[Change], now: datetime) -> dict[str, Duty]:
    """Every reminder of every sitting yet to begin within the horizon, due or not."""
    duties = {}
    offsets = sorted(forum.reminders, key=parse_offset, reverse=True)
    for sitting in sittings(forum, now, now + HORIZON, changes):
        # A cancelled sitting is announced once, at the earliest reminder; there is nothing to prepare for.
        for offset in offsets if sitting.held else offsets[:1]:
            due = sitting.start - parse_offset(offset)
            key = reminder_key(sitting, offset)
            duties[key] = Duty(key, REMINDER, due, not_after=sitting.start, payload={
                "forum": forum.key, "original": sitting.original.isoformat(), "offset": offset})
    return duties


def current_sitting(forum: Forum, uow: UnitOfWork, duty: Duty) -> Sitting | None:
    """The sitting a duty was planned for, as it stands now (moved, cancelled, or as planned)."""
    original = datetime.fromisoformat(duty.payload["original"])
    window = [s for s in sittings(forum, original - timedelta(days=40), original + timedelta(days=40),
                                  uow.forum.changes(forum.key)) if s.original == original]
    return window[0] if window else None


def perform_reminder(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    t = core.texts
    forum = core.model.sitting_forum(duty.payload["forum"])
    if forum is None:
        return "dropped"
    with core.unit_of_work() as uow:
        sitting = current_sitting(forum, uow, duty)
        if sitting is None or reminder_key(sitting, duty.payload["offset"]) != duty.key or sitting.start <= now:
            return "dropped"  # moved, cancelled or begun since it was planned
        if _superseded(forum, sitting, duty, now):
            return "dropped"
        late = now - duty.due > LATE
        text = compose(core.agenda_sources, core.model, uow, forum, sitting, now, t, late)
        subscribers = [p for p in map(uow.directory.by_key, uow.forum.subscribers(forum.key)) if p and p.account]
        # Each subscriber reads it in their language, with the report their party owes to deliver from it.
        texts = language.texts_for(uow, [p.account for p in subscribers], core.lang)
        written = {t.lang: text}
        personal = {}
        for person in subscribers:
            theirs = texts[person.account]
            if theirs.lang not in written:
                written[theirs.lang] = compose(core.agenda_sources, core.model, uow, forum, sitting, now, theirs, late)
            personal[person.key] = written[theirs.lang].with_buttons(
                *buttons(uow, core.model, forum, sitting, theirs, person))
    once.post(forum.channel, text.with_buttons(*buttons(uow, core.model, forum, sitting, t)))
    for person in subscribers:
        once.direct(person.account or "", personal[person.key], part=person.key)
    return "done"


def buttons(uow: UnitOfWork, model: GovernanceModel, forum: Forum, sitting: Sitting, t: Texts,
            reader: Person | None = None) -> list[Button]:
    """A reminder's buttons: "Add agenda item" for everyone; for a reader whose party owes a report for the
    sitting that is not in yet, "Deliver report". A cancelled sitting has nothing to prepare."""
    if not sitting.held:
        return []
    found = [Button(t.text("native.button.add_agenda_item"), "forum.agenda", f"{forum.key} add")]
    if reader is not None:
        delivered = {r.report for r in uow.forum.delivered_reports(forum.key, sitting.original)}
        found.extend(Button(t.text("native.button.deliver_report_named", report=report.name(t.lang)), "forum.report",
                            f"{forum.key} {report.key}", "primary")
                     for report in forum.reports
                     if parties.of(model, reader.party, report.owner) and report.key not in delivered)
    return found


def _superseded(forum: Forum, sitting: Sitting, duty: Duty, now: datetime) -> bool:
    """After downtime several reminders of one sitting can be due at once: only the latest is worth posting."""
    mine = parse_offset(duty.payload["offset"])
    return any(parse_offset(o) < mine and sitting.start - parse_offset(o) <= now for o in forum.reminders)


# A reminder shows this many agenda items, each cut to this many characters, and says how many more there are:
# sixty items of 2,000 characters made a reminder no platform takes (Slack: 50 blocks, 40,000 characters; Teams:
# about 28 KB), and a refused reminder is never seen. The whole agenda is one command away, `/forum agenda`.
REMINDER_ITEMS = 10
REMINDER_ITEM_CHARS = 300
# `/forum agenda` shows the items in pages of about this many characters (at least one item a page), which fit
# every platform's message with room for the heading and the attendance.
AGENDA_PAGE_CHARS = 6000


def _numbered(items: Sequence[Message], first: int) -> Message:
    return Message(tuple(Line((Text(f"{n}. "), *m.span)) for n, m in enumerate(items, first)))


def _pages(items: Sequence[Message]) -> list[list[Message]]:
    pages: list[list[Message]] = [[]]
    used = 0
    for item in items:
        n = size(item)
        if pages[-1] and used + n > AGENDA_PAGE_CHARS:
            pages.append([])
            used = 0
        pages[-1].append(item)
        used += n
    return pages


def agenda_lines(items: Sequence[Message], forum: Forum, t: Texts, page: int | None) -> list[Message]:
    """A reminder's summary of the agenda (`page` None), or one page of it in full."""
    if page is None:
        shown = [shortened(item, REMINDER_ITEM_CHARS) for item in items[:REMINDER_ITEMS]]
        lines = [_numbered(shown, 1)]
        if len(items) > REMINDER_ITEMS:
            lines.append(t("forum.reminder.more_items", count=len(items) - REMINDER_ITEMS, forum=forum.key))
        elif any(a != b for a, b in zip(shown, items, strict=False)):
            lines.append(t("forum.reminder.whole_agenda", forum=forum.key))
        return lines
    pages = _pages(items)
    number = min(max(page, 1), len(pages))
    first = 1 + sum(len(p) for p in pages[:number - 1])
    lines = [_numbered(pages[number - 1], first)]
    if len(pages) > 1:
        following = t("forum.agenda_next_page", forum=forum.key, next=number + 1) if number < len(pages) else None
        lines.append(phrase(t("forum.agenda_page", page=number, pages=len(pages)), *([following] if following else [])))
    return lines


def compose(sources: Sequence[AgendaSource], model: GovernanceModel, uow: UnitOfWork, forum: Forum,
            sitting: Sitting, now: datetime, t: Texts, late: bool = False, viewer: Person | None = None,
            page: int | None = None) -> Message:
    """The reminder, and the agenda `/forum agenda` shows: for a channel when `viewer` is None, otherwise for that
    person, who is shown what they may see. A reminder summarises the agenda; `/forum agenda` gives its `page`."""
    lines = []
    if late:
        lines.append(t("forum.reminder.late"))
    if not sitting.held:
        why = t("forum.reminder.holiday", holiday=sitting.holiday or "") if sitting.reason == "holiday" else ""
        lines.append(t("forum.reminder.cancelled", forum=forum.name(t.lang), when=t.when(sitting.start), why=why))
        return join(lines)
    lines.append(t("forum.reminder.heading", forum=forum.name(t.lang), when=t.when(sitting.start),
                   end=sitting.end.astimezone(STOCKHOLM).strftime("%H:%M"),
                   until=relative(sitting.start - now, t)))
    if sitting.status == "moved":
        lines.append(t("forum.reminder.moved_holiday" if sitting.reason == "holiday" else "forum.reminder.moved",
                       original=t.when(sitting.original), holiday=sitting.holiday or ""))
    if sitting.status == "extra":
        lines.append(t("forum.reminder.extra"))
    if forum.place:
        lines.append(t("forum.reminder.place", place=forum.place))
    lines.append(t("forum.reminder.chair", chair=", ".join(parties.name(model, p, t.lang) for p in forum.chair)))
    lines.extend(attendance(uow, model, forum, t, called=_called(uow, forum, sitting)))
    previous = previous_sitting(forum, sitting.start, uow.forum.changes(forum.key))
    items = agenda(sources, uow, model, forum, sitting, previous, t, now, viewer)
    lines.append(t("forum.reminder.agenda"))
    if items:
        lines.extend(agenda_lines(items, forum, t, page))
    else:
        lines.append(t("forum.reminder.no_agenda", forum=forum.key))
    return join(lines)


def _called(uow: UnitOfWork, forum: Forum, sitting: Sitting) -> bool:
    from bot.forum import calls  # the chair's call is a command of the forum set, which imports this module

    return calls.called(uow, forum, sitting)


def attendance(uow: UnitOfWork, model: GovernanceModel, forum: Forum, t: Texts, called: bool = True) -> list[Message]:
    """Who must attend, by role and mentioned; a role nobody in the directory holds is a warning, not a gap. A class
    of parties is one line: its parties by name, or the holders of the roles each must send and who has none. A
    seat the chair calls when needed (8.9) is expected only once `called`."""
    lines = [t("forum.reminder.attendees")]
    for seat in forum.attendees:
        label = parties.name(model, seat.ref, t.lang)
        if seat.when_needed and not called:
            lines.append(t("forum.call.not_called", party=label, key=forum.key))
            continue
        people = {party: uow.directory.people(party) for party in parties.members(model, seat.ref)}
        if not seat.roles:
            names = "" if seat.party else ", ".join(parties.name(model, p, t.lang) for p in people)
            lines.append(line(f"{label}: {names}" if names else label, bullet=True))
            continue
        named: list[Span] = []
        for role_key in seat.roles:
            role = model.role(role_key)
            role_label = role.name(t.lang) if role else role_key
            holders = [p for members in people.values() for p in members if role_key in p.roles]
            if holders:
                named.append((Text(f"{role_label}: "), *separated(mention(p) for p in holders)))
            lacking = [party for party, members in people.items() if not any(role_key in p.roles for p in members)]
            if lacking:
                named.append(t("forum.reminder.nobody", role=role_label, party=", ".join(
                    parties.name(model, p, t.lang) for p in lacking)).span)
        lines.append(line(Text(f"{label} – "), *separated(named, " · "), bullet=True))
    return lines


def relative(delta: timedelta, t: Texts) -> Message:
    minutes = round(delta.total_seconds() / 60)
    if minutes < 90:
        return t("forum.in_minutes", count=max(minutes, 0))
    if minutes < 36 * 60:
        return t("forum.in_hours", count=round(minutes / 60))
    return t("forum.in_days", count=round(minutes / (24 * 60)))


def perform_action_due(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    t = core.texts
    with core.unit_of_work() as uow:
        action = uow.forum.action(int(duty.payload["action"]))
        if action is None or action.done_at is not None:
            return "dropped"
        owner = uow.directory.by_key(action.owner)
        forum = core.model.sitting_forum(action.forum)
        lang = language.remembered(uow, owner.account if owner else None, core.lang)

    def text(t: Texts) -> Message:
        return t("forum.action_due", ref=action.ref, text=action.text, due=action.due.isoformat(),
                 forum=forum.name(t.lang) if forum else action.forum)

    if owner and owner.account:
        # Kept current in place: its Done button until it is done.
        live.deliver(core, once, live.subject("action", action.id), owner.key, owner.account, True,
                     to_json(text(Texts(lang))), lang)
    elif forum:
        once.post(forum.channel, phrase(mention(owner) if owner else action.owner, text(t), separator=": "))
    return "done"
