"""What the bot says, as platform-neutral rich text: each chat adapter renders it (Slack as mrkdwn and Block Kit,
the console as plain text, Teams as HTML and Adaptive Cards).

The point of the structure is safety as much as looks: text typed by a person only ever travels as `Text`, which
every renderer escapes, so nothing a user writes can become a mention, a link or markup. The mentions that notify
are `Mention` values the core itself puts in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter


@dataclass(frozen=True)
class Text:
    """Literal text: shown as written, whatever characters it holds."""

    text: str
    kind: Literal["text"] = "text"


@dataclass(frozen=True)
class Strong:
    parts: tuple[Inline, ...]
    kind: Literal["strong"] = "strong"


@dataclass(frozen=True)
class Code:
    """A command or a key as it is typed: `/forum agenda kontraktsforum`."""

    text: str
    kind: Literal["code"] = "code"


@dataclass(frozen=True)
class Mention:
    """Someone the bot names and notifies: a person (by their chat account) or a group standing for a team.
    Without an account it is shown as the name."""

    name: str
    user: str | None = None  # the chat platform's user id
    group: str | None = None  # the chat platform's user-group id
    key: str = ""  # the directory key, when the person is in the directory
    kind: Literal["mention"] = "mention"


@dataclass(frozen=True)
class ChannelLink:
    channel: str  # the platform's channel id, or a #name
    kind: Literal["channel"] = "channel"


@dataclass(frozen=True)
class Link:
    url: str
    label: str
    kind: Literal["link"] = "link"


Inline = Annotated[Text | Strong | Code | Mention | ChannelLink | Link, Field(discriminator="kind")]
Span = tuple[Inline, ...]


@dataclass(frozen=True)
class Line:
    parts: Span = ()
    bullet: bool = False


@dataclass(frozen=True)
class Button:
    """An action on a message. `action` names what it does (an entry of the permission matrix); `value` says on
    what (`D-7`, `A-12`)."""

    label: str
    action: str
    value: str = ""
    style: Literal["primary", "danger"] | None = None


@dataclass(frozen=True)
class Message:
    lines: tuple[Line, ...] = ()
    buttons: tuple[Button, ...] = field(default=())

    def __add__(self, other: Message) -> Message:
        return Message(self.lines + other.lines, self.buttons + other.buttons)

    def with_buttons(self, *buttons: Button) -> Message:
        return Message(self.lines, self.buttons + tuple(buttons))

    @property
    def span(self) -> Span:
        """The message as one line's worth of parts, for putting it inside another text."""
        out: list[Inline] = []
        for n, line in enumerate(self.lines):
            if n:
                out.append(Text(" "))
            out.extend(line.parts)
        return tuple(out)

    def plain(self, markup: bool = True) -> str:
        """Plain text, for the console, logs and tests: with the catalogue's light markup (*strong*, `code`) or,
        for a topic or a label, without. Mentions are @names."""
        return "\n".join(("• " if line.bullet else "") + plain(line.parts, markup) for line in self.lines)

    def mentions(self) -> list[Mention]:
        found: list[Mention] = []

        def walk(parts: Iterable[Inline]) -> None:
            for part in parts:
                if isinstance(part, Mention):
                    found.append(part)
                elif isinstance(part, Strong):
                    walk(part.parts)

        for line in self.lines:
            walk(line.parts)
        return found


def plain(parts: Iterable[Inline], markup: bool = False) -> str:
    out = []
    for part in parts:
        match part:
            case Text(text):
                out.append(text)
            case Code(text):
                out.append(f"`{text}`" if markup else text)
            case Strong(inner):
                out.append(f"*{plain(inner, markup)}*" if markup else plain(inner, markup))
            case Mention(name):
                out.append(f"@{name}")
            case ChannelLink(channel):
                out.append(channel if channel.startswith("#") else f"#{channel}")
            case Link(url, label):
                out.append(f"{label} ({url})" if label and label != url else url)
    return "".join(out)


def text(value: str) -> Message:
    """Literal text as a message, line by line."""
    return Message(tuple(Line((Text(line),)) for line in value.split("\n")))


def line(*parts: Inline | str, bullet: bool = False) -> Message:
    return Message((Line(tuple(Text(p) if isinstance(p, str) else p for p in parts), bullet),))


def phrase(*parts: Message | Inline | str, separator: str = " ") -> Message:
    """Parts run together on one line, with a separator between those that are not empty."""
    spans: list[Span] = []
    for part in parts:
        span = part.span if isinstance(part, Message) else ((Text(part),) if isinstance(part, str) else (part,))
        if span and span != (Text(""),):
            spans.append(span)
    return Message((Line(separated(spans, separator)),))


def join(messages: Iterable[Message]) -> Message:
    lines: list[Line] = []
    buttons: list[Button] = []
    for message in messages:
        lines.extend(message.lines)
        buttons.extend(message.buttons)
    return Message(tuple(lines), tuple(buttons))


def bullets(messages: Iterable[Message]) -> Message:
    return Message(tuple(Line(m.span, bullet=True) for m in messages))


def numbered(messages: Sequence[Message]) -> Message:
    return Message(tuple(Line((Text(f"{n}. "), *m.span)) for n, m in enumerate(messages, 1)))


def separated(spans: Iterable[Span | Inline | str], separator: str = ", ") -> Span:
    """Parts joined by a separator, for a list inside a line: "Eva Lind, Johan Ek"."""
    out: list[Inline] = []
    for n, item in enumerate(spans):
        if n:
            out.append(Text(separator))
        if isinstance(item, str):
            out.append(Text(item))
        elif isinstance(item, tuple):
            out.extend(item)
        else:
            out.append(item)
    return tuple(out)


@dataclass(frozen=True)
class Section:
    """A part of a page: a heading and its items, each item with buttons of its own; `empty` is shown when there
    are no items."""

    heading: Message
    items: tuple[Message, ...] = ()
    empty: Message | None = None


@dataclass(frozen=True)
class Page:
    """A page the platform shows on its own (a person's Home): sections, in order."""

    sections: tuple[Section, ...] = ()

    def plain(self) -> str:
        out: list[str] = []
        for section in self.sections:
            out.append(section.heading.plain())
            out.extend(item.plain() for item in section.items)
            if not section.items and section.empty is not None:
                out.append(section.empty.plain())
        return "\n".join(out)


# The outbox keeps messages as JSON until they are delivered.
MESSAGE = TypeAdapter(Message)
PAGE = TypeAdapter(Page)


def to_json(message: Message) -> dict:
    return MESSAGE.dump_python(message, mode="json")


def from_json(data: dict) -> Message:
    return MESSAGE.validate_python(data)


def page_json(page: Page) -> dict:
    return PAGE.dump_python(page, mode="json")
