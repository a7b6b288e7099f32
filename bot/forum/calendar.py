"""When forums sit: the model's recurrence rules, Swedish public holidays, and the dates the parties agree.

Rules are expanded in Stockholm wall-clock time and only then turned into instants, so a 09:00 meeting stays at
09:00 across daylight-saving changes.
"""

from __future__ import annotations

import logging
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from typing import Literal

import holidays
from dateutil.rrule import rrulestr

from bot.clock import STOCKHOLM
from bot.model.schema import Forum

log = logging.getLogger(__name__)

Status = Literal["scheduled", "moved", "cancelled", "extra"]


@dataclass(frozen=True)
class Change:
    """A date the parties agreed on: a sitting moved or cancelled, or an extra one."""

    forum: str
    kind: Literal["move", "cancel", "extra"]
    original: datetime | None = None  # the sitting as the rule has it (move, cancel)
    start: datetime | None = None  # when it now sits (move, extra)
    actor: str = ""
    at: datetime | None = None


@dataclass(frozen=True)
class Sitting:
    forum: str
    original: datetime  # identity: the rule's instant, stable whatever happens to the sitting
    start: datetime
    end: datetime
    status: Status = "scheduled"
    reason: Literal["holiday", "agreed"] | None = None
    holiday: str | None = None  # the public holiday's date, when that is why it moved or was cancelled

    @property
    def held(self) -> bool:
        return self.status != "cancelled"

    @property
    def uid(self) -> str:
        return f"{self.forum}-{self.original.strftime('%Y%m%dT%H%MZ')}"


def by_forum(changes: Iterable[Change]) -> dict[str, list[Change]]:
    """Every forum's agreed dates, from all of them read at once."""
    found: dict[str, list[Change]] = {}
    for change in changes:
        found.setdefault(change.forum, []).append(change)
    return found


@cache
def _holidays(year: int) -> dict[date, str]:
    official = holidays.Sweden(years=year, include_sundays=False, language="sv")
    days = dict(official.items())
    # Not public holidays in law, but nobody in the City holds a forum on them.
    midsummer = next(d for d, name in official.items() if name == "Midsommardagen")
    days[midsummer - timedelta(days=1)] = "Midsommarafton"
    days[date(year, 12, 24)] = "Julafton"
    days[date(year, 12, 31)] = "Nyårsafton"
    return days


def holiday_name(day: date) -> str | None:
    return _holidays(day.year).get(day)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and holiday_name(day) is None


@lru_cache(maxsize=256)
def _rule(rule: str, first: datetime):  # type: ignore[no-untyped-def]
    return rrulestr(rule, dtstart=first)


# A rule is expanded from its start, so expanding it anew for every question costs more the longer the forum has
# existed. Its wall-clock times are kept instead, expanded once to two years past the latest asked for, and each
# question takes its slice. A rule with more sittings than this in that span is expanded as asked, as before.
_AHEAD = timedelta(days=2 * 366)
_KEPT_PER_RULE = 20_000
_KEPT_RULES = 256
_WALLS: dict[tuple[str, datetime], tuple[datetime, list[datetime]]] = {}
_WALLS_LOCK = threading.Lock()


def _rule_walls(rule: str, first: datetime, lo: datetime, hi: datetime) -> list[datetime]:
    """The rule's wall-clock times in [lo, hi]."""
    kept = _WALLS.get((rule, first))
    if kept is None or kept[0] < hi:
        try:
            until = max(hi, kept[0] if kept else first) + _AHEAD
        except OverflowError:
            until = hi
        walls = _rule(rule, first).between(first, until, inc=True)
        if len(walls) > _KEPT_PER_RULE:
            return list(_rule(rule, first).between(lo, hi, inc=True))
        kept = (until, walls)
        with _WALLS_LOCK:
            while len(_WALLS) >= _KEPT_RULES:
                _WALLS.pop(next(iter(_WALLS)))
            _WALLS[(rule, first)] = kept
    walls = kept[1]
    return walls[bisect_left(walls, lo):bisect_right(walls, hi)]


def _rule_starts(forum: Forum, after: datetime, before: datetime) -> Iterable[datetime]:
    """The rule's sittings as instants, from wall-clock times in Stockholm."""
    lo = after.astimezone(STOCKHOLM).replace(tzinfo=None)
    hi = before.astimezone(STOCKHOLM).replace(tzinfo=None)
    if forum.rrule and forum.starts:
        walls = _rule_walls(forum.rrule, datetime.combine(forum.starts, forum.time), lo, hi)
    else:
        walls = [datetime.combine(d, forum.time) for d in forum.dates]
        walls = [w for w in walls if lo <= w <= hi]
    return (w.replace(tzinfo=STOCKHOLM) for w in walls)


def _on_working_day(forum: Forum, sitting: Sitting) -> Sitting:
    day = sitting.start.astimezone(STOCKHOLM).date()
    if forum.holidays == "keep" or is_working_day(day):
        return sitting
    holiday = holiday_name(day) or ""
    if forum.holidays == "cancel":
        return replace(sitting, status="cancelled", reason="holiday", holiday=holiday)
    step = timedelta(days=1 if forum.holidays == "next" else -1)
    moved = day + step
    while not is_working_day(moved):
        moved += step
    start = datetime.combine(moved, forum.time, tzinfo=STOCKHOLM)
    return replace(sitting, start=start, end=start + (sitting.end - sitting.start), status="moved",
                   reason="holiday", holiday=holiday)


def sittings(forum: Forum, after: datetime, before: datetime, changes: Iterable[Change] = ()) -> list[Sitting]:
    """Every sitting of the forum that starts in [after, before), cancelled ones included (they are news too)."""
    length = timedelta(minutes=forum.duration_minutes)
    # A rule sitting up to a month outside the window may be moved into it, and one inside may be moved out.
    margin = timedelta(days=31)
    found: dict[datetime, Sitting] = {}
    for start in _rule_starts(forum, after - margin, before + margin):
        sitting = Sitting(forum.key, start, start, start + length)
        found[start] = _on_working_day(forum, sitting)
    for change in changes:
        if change.forum != forum.key:
            continue
        if (change.start and not _representable(change.start, length)) or (
                change.original and not _representable(change.original, length)):
            # An agreed date the calendar cannot reckon with (a typing mistake kept from before dates had bounds):
            # skipped, so one bad row cannot take every other sitting with it. It can still be withdrawn from chat.
            log.warning("skipping an agreed date of %s that cannot be reckoned with: %s", forum.key, change)
            continue
        if change.kind == "extra" and change.start:
            found.setdefault(change.start, Sitting(forum.key, change.start, change.start, change.start + length,
                                                   status="extra", reason="agreed"))
        elif change.original in found and change.kind == "cancel":
            found[change.original] = replace(found[change.original], status="cancelled", reason="agreed",
                                             holiday=None)
        elif change.original in found and change.kind == "move" and change.start:
            found[change.original] = replace(found[change.original], start=change.start,
                                             end=change.start + length, status="moved", reason="agreed",
                                             holiday=None)
    return sorted((s for s in found.values() if after <= s.start < before), key=lambda s: s.start)


def _representable(instant: datetime, length: timedelta) -> bool:
    try:
        instant + length + timedelta(days=400)
        instant - timedelta(days=400)
    except OverflowError:
        return False
    return True


# next_sitting looks this far ahead first, then further: the next sitting is nearly always near.
_LOOKS = (timedelta(days=40), timedelta(days=100), timedelta(days=200))


# The latest answers of next_sitting, by the forum (its identity: the entry keeps it, so the id stands for it), the
# instant, the agreed dates and the rest: a sweep asks the same of many disagreements at once.
_NEXT: dict[tuple[object, ...], tuple[Forum, Sitting | None]] = {}
_NEXT_KEPT = 512
_NEXT_LOCK = threading.Lock()


def next_sitting(forum: Forum, now: datetime, changes: Iterable[Change] = (), horizon_days: int = 400,
                 held_only: bool = True) -> Sitting | None:
    """The first sitting (held, unless told) that starts in the horizon."""
    changes = tuple(changes)
    key = (id(forum), now, changes, horizon_days, held_only)
    kept = _NEXT.get(key)
    if kept is not None and kept[0] is forum:
        return kept[1]
    found = _next_sitting(forum, now, changes, horizon_days, held_only)
    with _NEXT_LOCK:
        while len(_NEXT) >= _NEXT_KEPT:
            _NEXT.pop(next(iter(_NEXT)))
        _NEXT[key] = (forum, found)
    return found


def _next_sitting(forum: Forum, now: datetime, changes: tuple[Change, ...], horizon_days: int,
                  held_only: bool) -> Sitting | None:
    """Looked for in growing windows: the sittings of a window and of the next together are the sittings of both,
    unless an agreed move crosses the border between them, and then the whole horizon is reckoned at once."""
    end = now + timedelta(days=horizon_days)
    borders = [now + look for look in _LOOKS if now + look < end]
    if any(c.kind == "move" and c.original and c.start and (c.original < border) != (c.start < border)
           for c in changes for border in borders):
        borders = []
    start = now
    for stop in [*borders, end]:
        for sitting in sittings(forum, start, stop, changes):
            if sitting.held or not held_only:
                return sitting
        start = stop
    return None


def previous_sitting(forum: Forum, now: datetime, changes: Iterable[Change] = (),
                     horizon_days: int = 400) -> Sitting | None:
    past = [s for s in sittings(forum, now - timedelta(days=horizon_days), now, changes) if s.held]
    return past[-1] if past else None
