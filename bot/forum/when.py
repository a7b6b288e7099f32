"""Dates and times as people type them in commands, always read as Stockholm wall-clock time."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from bot.clock import STOCKHOLM
from bot.commands import UserError

_OFFSET = re.compile(r"^(\d{1,5})([dhms])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_offset(text: str) -> timedelta:
    match = _OFFSET.match(text)
    if not match:
        raise ValueError(text)
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def parse_date(word: str) -> date:
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise UserError("forum.bad_date", word=word) from None


def parse_time(word: str) -> time:
    try:
        return time.fromisoformat(word if len(word) > 2 else f"{int(word):02d}:00")
    except ValueError:
        raise UserError("forum.bad_time", word=word) from None


def at(day: date, clock_time: time) -> datetime:
    return datetime.combine(day, clock_time, tzinfo=STOCKHOLM)


def local_date(instant: datetime) -> date:
    return instant.astimezone(STOCKHOLM).date()
