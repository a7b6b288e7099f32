"""Every value a person types has bounds, checked here before anything reaches the database, the same on every
backend: text is at most as long as its column and holds no control characters, numbers fit their columns, dates
lie in a window around today.

The windows: an agreed sitting date, a deployment or an action's due date lies between now and two years ahead (the
contract's planning horizon is a year; two leaves room for an agreed move); a date that names an existing sitting
lies within two years either side. Anything else is a typing mistake, answered as such.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

from bot.commands import UserError

# Column sizes (storage/models.py) the texts must fit.
NAME = 200
TITLE = 150  # a war room's title: it is also its channel's topic
DISAGREEMENT_TITLE = 300
TEXT = 2000  # an agenda item, a decision, an action, a deployment
# An agenda item: a heading and a few lines, with a link to what is to be discussed. Longer is refused and
# explained (forum.agenda_item_too_long); a reminder shows each item cut shorter still (bot.forum.reminders).
AGENDA_ITEM = TEXT
LONG_TEXT = 4000  # a description, an update, a summary, a comment, a proposal, a reason
DESCRIPTION = 3000  # a war room's description: it goes into the pinned brief

AHEAD = timedelta(days=2 * 365)
AROUND = timedelta(days=2 * 365)
# The largest id a reference may carry: ids are 32-bit integers in every backend.
MAX_ID = 2**31 - 1

_ALLOWED_CONTROLS = {"\n", "\t"}


def text(value: str, limit: int, what: str = "") -> str:
    """Text as it will be stored: trimmed, without control characters, at most `limit` characters."""
    value = value.replace("\r\n", "\n").strip()
    if any(unicodedata.category(c) == "Cc" and c not in _ALLOWED_CONTROLS for c in value):
        raise UserError("input.control_characters")
    if len(value) > limit:
        raise UserError("input.too_long", what=what or "", length=len(value), limit=limit)
    return value


def reference(word: str, prefix: str) -> int | None:
    """The number in a reference such as D-7, MI-12, P-3, A-4 (or the bare number); None when it is not one, or too
    large to be one. ASCII digits only: "²" is a digit to Python, not to a database."""
    match = re.fullmatch(rf"(?:{prefix}-?)?([0-9]{{1,10}})", word, re.IGNORECASE)
    if match is None:
        return None
    number = int(match.group(1))
    return number if 0 < number <= MAX_ID else None


def number(word: str) -> int | None:
    """A small whole number typed in ASCII digits (a severity, a page), or None."""
    return int(word) if re.fullmatch(r"[0-9]{1,6}", word) else None


def ahead(when: datetime, now: datetime) -> bool:
    """Within the window for something planned from now on."""
    return now < when <= now + AHEAD


def around(day: date, today: date) -> bool:
    """Within the window for a date that names an existing sitting."""
    return abs(day - today) <= AROUND
