"""Teams' limit on a message, and the last line of defence that keeps every activity within it: a message is cut
(with a marker) rather than refused, for a refused reminder is never seen."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.fit import CUT_MARKER, fitted
from bot.message import Message

# "Format your bot messages" (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/format-your-bot-messages):
# a bot message over the size limit gets 413 (RequestEntityTooLarge) with the code MessageSizeTooBig; the size is
# the whole payload encoded as UTF-16. The page has said 28 KB, 40 KB and, lately, 100 KB (80 KB recommended):
# the bot keeps to the strictest, 28 KB, with room for the conversation's fields the Connector adds.
MAX_ACTIVITY = 28 * 1024
HEADROOM = 2 * 1024
TOO_BIG = 413
# The budget of a message cut after Teams refused it anyway: a screenful, far inside the limit.
LAST_RESORT = 2500


def size(activity: dict[str, Any]) -> int:
    """An activity's size as Teams counts it: its JSON in UTF-16."""
    return len(json.dumps(activity, ensure_ascii=False).encode("utf-16-le"))


def fit(message: Message, render: Callable[[Message], dict[str, Any]], budget: int | None = None) -> dict[str, Any]:
    """The activity for the message within Teams' limit: cut to `budget` characters when given, else cut only as
    far as it must be, the cut marked."""
    if budget is not None:
        message = fitted(message, budget, CUT_MARKER)
    shown = render(message)
    limit = (MAX_ACTIVITY - HEADROOM) // 2
    while size(shown) > MAX_ACTIVITY - HEADROOM and limit > 100:
        shown = render(fitted(message, limit, CUT_MARKER))
        limit = int(limit * 0.8)
    return shown


def fit_page(render: Callable[[int | None], dict[str, Any]]) -> dict[str, Any]:
    """A page's activity (a person's Home card) within Teams' limit: as it is when it fits, else each item cut to
    a budget of characters (`render(budget)`), smaller until it fits."""
    shown = render(None)
    budget = 2000
    while size(shown) > MAX_ACTIVITY - HEADROOM and budget > 50:
        shown = render(budget)
        budget = int(budget * 0.7)
    return shown
