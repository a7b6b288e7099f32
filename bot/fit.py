"""Cutting a message down to a size: the core's summaries (a reminder's agenda) and the adapters' last line of
defence (a platform refuses a message over its limits, and a reminder that is refused is never seen) both use it.

Lengths are counted in the characters of the plain text; a platform's own measure (Slack's characters of mrkdwn,
Teams' bytes of UTF-16) is the adapter's to check, cutting again when the first cut was not enough.
"""

from __future__ import annotations

from bot.message import Code, Inline, Line, Message, Span, Strong, Text, plain

ELLIPSIS = "…"


def _clip(parts: Span, limit: int) -> tuple[Span, int, bool]:
    """The parts within `limit` characters: (kept, characters used, whether anything was cut). A mention, a
    channel or a link is kept whole or not at all: half a reference would go nowhere."""
    kept: list[Inline] = []
    used = 0
    for part in parts:
        room = limit - used
        if isinstance(part, Text | Code):
            if len(part.text) <= room:
                kept.append(part)
                used += len(part.text)
                continue
            if room > 0:
                kept.append(type(part)(part.text[:room].rstrip()))
                used = limit
            return tuple(kept), used, True
        if isinstance(part, Strong):
            inner, n, cut = _clip(part.parts, room)
            if inner:
                kept.append(Strong(inner))
            used += n
            if cut:
                return tuple(kept), used, True
            continue
        size = len(plain((part,)))
        if size > room:
            return tuple(kept), used, True
        kept.append(part)
        used += size
    return tuple(kept), used, False


def shortened(message: Message, limit: int) -> Message:
    """The message in at most `limit` characters (and an ellipsis), line by line; its buttons stay."""
    lines: list[Line] = []
    used = 0
    for line in message.lines:
        parts, n, cut = _clip(line.parts, max(limit - used, 0))
        if cut:
            lines.append(Line((*parts, Text(ELLIPSIS)), line.bullet))
            return Message(tuple(lines), message.buttons)
        lines.append(Line(parts, line.bullet))
        used += n + 1
    return message


def size(message: Message) -> int:
    return len(message.plain())


def fitted(message: Message, limit: int, marker: str) -> Message:
    """The message cut to about `limit` characters, with a `marker` line saying it was cut. Whole lines are kept
    while they fit; the line that does not is cut."""
    if size(message) <= limit:
        return message
    cut = shortened(message, max(limit - len(marker) - 1, 0))
    return Message((*cut.lines, Line((Text(marker),))), message.buttons)


# What an adapter adds when it had to cut a message the core wrote too long: the adapter knows no reader's
# language, so it says it in both.
CUT_MARKER = "✂️ … (avkortat: för långt för att visas här / shortened: too long to show here)"
