"""Slack's limits on a message, and the last line of defence that keeps every message within them: whatever people
wrote, a message is cut (with a marker) rather than refused, for a refused reminder is never seen.

The core already summarises what can grow (a reminder's agenda, bot.forum.reminders); this catches whatever else
grows past the limits.
"""

from __future__ import annotations

from typing import Any

from bot.fit import CUT_MARKER, fitted
from bot.message import Message
from handlers.slack_render import blocks, mrkdwn

# https://api.slack.com/reference/block-kit/blocks : a message holds at most 50 blocks; a section block's text is
# at most 3,000 characters (more is refused as invalid_blocks).
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
# https://api.slack.com/methods/chat.postMessage : `text` over 40,000 characters is refused (msg_too_long).
MAX_TEXT = 40_000
# Slack also refuses blocks whose text together is long (msg_blocks_too_long) at a bound it does not document,
# seen near 13,000 characters; a message with blocks is kept under 12,000 (the markdown block's documented bound).
MAX_BLOCKS_TEXT = 12_000

# Slack's answers that mean the message itself is over a limit: another try of the same message is refused again.
TOO_LONG = frozenset({"invalid_blocks", "msg_too_long", "msg_blocks_too_long", "invalid_blocks_format",
                      "too_many_blocks"})

# The budget of a message cut after Slack refused it anyway: a screenful, far inside every limit.
LAST_RESORT = 2500


def _fits(text: str, shown: list[dict[str, Any]] | None) -> bool:
    if len(text) > MAX_TEXT:
        return False
    if not shown:
        return True
    sections = [str((b.get("text") or {}).get("text", "")) for b in shown if b.get("type") == "section"]
    return (len(shown) <= MAX_BLOCKS and all(len(t) <= MAX_SECTION_TEXT for t in sections)
            and sum(map(len, sections)) <= MAX_BLOCKS_TEXT)


def fit(message: Message, always: bool = False, budget: int | None = None) -> tuple[str, list[dict[str, Any]] | None]:
    """The message's text and blocks within Slack's limits: cut to `budget` characters when given, else cut only
    as far as it must be, each cut marked."""
    if budget is not None:
        message = fitted(message, budget, CUT_MARKER)
    text, shown = mrkdwn(message), blocks(message, always)
    limit = MAX_BLOCKS_TEXT if shown else MAX_TEXT
    while not _fits(text, shown):
        # The rendered mrkdwn is longer than the plain text (escapes, mentions): cut until it fits.
        limit = int(limit * 0.8)
        cut = fitted(message, limit, CUT_MARKER) if limit > 100 else Message(buttons=message.buttons[:5])
        text, shown = mrkdwn(cut) or CUT_MARKER, blocks(cut, always)
        if limit <= 100:
            break
    return text, shown
