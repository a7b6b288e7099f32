"""The forum calendar as RFC 5545, for Outlook and Google Calendar to subscribe to.

A forum with a recurrence rule is one recurring event; sittings moved by a holiday or by agreement are
overriding events (RECURRENCE-ID), cancelled ones are EXDATEs, extra ones events of their own. UIDs are stable,
so a subscribed calendar updates in place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from dateutil.rrule import rrulestr
from icalendar import Calendar, Event, vRecur

from bot.clock import STOCKHOLM
from bot.forum.calendar import Change, Sitting, sittings
from bot.i18n import Texts
from bot.model.schema import Forum, GovernanceModel

DOMAIN = "samverkan"
# Exceptions to the rule are written for this window around now; further out the rule itself stands.
BEHIND, AHEAD = timedelta(days=365), timedelta(days=2 * 365)


def feed(model: GovernanceModel, changes: Mapping[str, Sequence[Change]], now: datetime, t: Texts,
         forum_key: str | None = None) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Samverkan//Forumkalender//SV")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", model.name(t.lang))
    cal.add("x-wr-timezone", model.timezone)
    for forum in model.calendar:
        if forum.sits and forum_key in (None, forum.key):
            for event in _events(forum, changes.get(forum.key, ()), now, t):
                cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()


def _base(forum: Forum, uid: str, start: datetime, now: datetime, t: Texts) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now)
    event.add("summary", forum.name(t.lang))
    event.add("dtstart", start.astimezone(STOCKHOLM))
    event.add("duration", timedelta(minutes=forum.duration_minutes))
    if forum.place:
        event.add("location", forum.place)
    event.add("description", f"{forum.cadence(t.lang)} · {forum.channel}")
    return event


def _events(forum: Forum, changes: Sequence[Change], now: datetime, t: Texts) -> list[Event]:
    window = sittings(forum, now - BEHIND, now + AHEAD, changes)
    if not forum.rrule or not forum.starts:
        # Explicit dates: one event per sitting, each with its own stable UID.
        events = []
        for s in window:
            if s.held:
                events.append(_base(forum, f"{s.uid}@{DOMAIN}", s.start, now, t))
        return events
    uid = f"{forum.key}@{DOMAIN}"
    first_wall = rrulestr(forum.rrule, dtstart=datetime.combine(forum.starts, forum.time))[0]
    master = _base(forum, uid, first_wall.replace(tzinfo=STOCKHOLM), now, t)
    master.add("rrule", vRecur.from_ical(forum.rrule))
    events = [master]
    for s in window:
        if s.status == "cancelled":
            master.add("exdate", s.original.astimezone(STOCKHOLM))
        elif s.status == "moved":
            events.append(_override(forum, uid, s, now, t))
        elif s.status == "extra":
            events.append(_base(forum, f"{s.uid}-extra@{DOMAIN}", s.start, now, t))
    return events


def _override(forum: Forum, uid: str, sitting: Sitting, now: datetime, t: Texts) -> Event:
    event = _base(forum, uid, sitting.start, now, t)
    event.add("recurrence-id", sitting.original.astimezone(STOCKHOLM))
    note = (t.text("forum.status.moved_holiday", original=t.date(sitting.original), holiday=sitting.holiday or "")
            if sitting.reason == "holiday" else t.text("forum.status.moved", original=t.date(sitting.original)))
    event["description"] = f"{forum.cadence(t.lang)} · {forum.channel} · {note}"
    return event
