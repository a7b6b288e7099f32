"""The core's messages as Teams shows them: HTML-ish text (`textFormat: xml`) with mention entities, and the
buttons as an Adaptive Card whose Action.Submit data says the action and its value.

Every piece of text is HTML-escaped here, so nothing a person typed becomes markup, a link or a mention (`<at>`
typed by someone arrives as text). The only mentions that notify are the core's `Mention` values that carry an
Entra ID object id; Teams has no @channel or @team that text alone could trigger.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from bot.fit import CUT_MARKER, fitted
from bot.forms import Form, FormField
from bot.message import ChannelLink, Code, Inline, Link, Mention, Message, Page, Strong, Text

_OBJECT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_URL = re.compile(r"^https?://[^\s<>\"']+$")
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
BUTTON_LIMIT = 6  # Teams shows at most this many actions on a card


def escape(text: str) -> str:
    return html.escape(text, quote=True)


# Adaptive Cards read a TextBlock's text as Markdown (a CommonMark subset: **bold**, _italic_, lists, [label](url)):
# a person's words in a card's text would become a link whose label is not its address, or the bot's own emphasis.
# Every one of CommonMark's punctuation characters that a card's Markdown acts on is backslash-escaped, which
# CommonMark shows as the character itself.
_MARKDOWN = re.compile(r"([\\*_\[\]()#+\-.!`>~|{}<])")


def markdown_escaped(text: str) -> str:
    """Text for a card's TextBlock: shown as written, nothing in it read as Markdown."""
    return _MARKDOWN.sub(r"\\\1", text)


def _no_link_syntax(text: str) -> str:
    """Text for what a card shows without Markdown (a choice's title): as written, but a word joiner between `]`
    and `(` so that no renderer, then or later, could read a link in it."""
    return text.replace("](", "]\u2060(")


# A channel's link, when the adapter knows it: (url, label) for a channel id.
ChannelLinks = Callable[[str], tuple[str, str] | None]


def _no_links(channel: str) -> tuple[str, str] | None:
    return None


def _inline(part: Inline, entities: list[dict[str, Any]], links: ChannelLinks = _no_links) -> str:
    match part:
        case Text(text):
            return escape(_no_link_syntax(text))  # a message is XML, but no client is trusted to read no Markdown
        case Strong(parts):
            inner = "".join(_inline(p, entities, links) for p in parts).strip()
            return f"<b>{inner}</b>" if inner else ""
        case Code(text):
            return f"<code>{escape(text)}</code>"
        case Mention(name, user, _group):
            if user and _OBJECT_ID.match(user):
                shown = f"<at>{escape(name)}</at>"
                entities.append({"type": "mention", "text": shown, "mentioned": {"id": user, "name": name}})
                return shown
            return escape(name)
        case ChannelLink(channel):
            if (link := links(channel)) is not None:
                return f'<a href="{escape(link[0])}">{escape(link[1])}</a>'
            return escape(channel if channel.startswith("#") else f"#{channel}")
        case Link(url, label):
            if not _URL.match(url):
                return escape(f"{label} ({url})" if label and label != url else url)
            return f'<a href="{escape(url)}">{escape(label or url)}</a>'
    return ""


def text_of(message: Message, links: ChannelLinks = _no_links) -> tuple[str, list[dict[str, Any]]]:
    """The message's text and the mention entities that go with it."""
    entities: list[dict[str, Any]] = []
    lines = [("• " if line.bullet else "") + "".join(_inline(p, entities, links) for p in line.parts)
             for line in message.lines]
    return "<br>".join(lines), entities


def activity(message: Message, links: ChannelLinks = _no_links) -> dict[str, Any]:
    """A message activity for the Bot Connector: the text, and a card when there are buttons."""
    text, entities = text_of(message, links)
    shown: dict[str, Any] = {"type": "message", "textFormat": "xml", "text": text or " ", "entities": entities}
    if message.buttons:
        shown["attachments"] = [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card(message)}]
    return shown


def card(message: Message) -> dict[str, Any]:
    """An Adaptive Card of the message's buttons. A press comes back as a message activity whose `value` is the
    button's data; the edge turns it into the command it stands for, and the permission matrix is checked again."""
    actions = []
    for button in message.buttons[:BUTTON_LIMIT]:
        action: dict[str, Any] = {"type": "Action.Submit", "title": button.label[:75] or "–",
                                  "data": {"action": button.action, "value": button.value[:2000]}}
        if button.style:
            action["style"] = "positive" if button.style == "primary" else "destructive"
        actions.append(action)
    return {"type": "AdaptiveCard", "$schema": CARD_SCHEMA, "version": "1.4", "body": [], "actions": actions}


# -- forms ----------------------------------------------------------------------------------------------------------
# The data a form's Submit carries besides the fields: which form, and the context it travels with.
FORM = "samverkan_form"
CONTEXT = "samverkan_context"
MULTI = "samverkan_multi"  # the fields whose choices Teams sends back comma-separated


def form_card(form: Form) -> dict[str, Any]:
    """A form as an Adaptive Card in the person's chat: its fields as inputs, one Action.Submit whose data names
    the form. A person field is Teams' people picker, which hands back an Entra object id."""
    body: list[dict[str, Any]] = [{"type": "TextBlock", "text": markdown_escaped(form.title), "weight": "Bolder",
                                   "size": "Medium", "wrap": True}]
    for field in form.fields:
        body.extend(_input(field))
    return {"type": "AdaptiveCard", "$schema": CARD_SCHEMA, "version": "1.4", "body": body,
            "actions": [{"type": "Action.Submit", "title": form.submit[:75] or "OK",
                         "data": {FORM: form.action, CONTEXT: dict(form.context),
                                  MULTI: [f.name for f in form.fields if f.kind == "multiselect"]}}]}


def _input(field: FormField) -> list[dict[str, Any]]:
    label = {"type": "TextBlock", "text": markdown_escaped(field.label), "wrap": True}
    shown: dict[str, Any] = {"id": field.name, "isRequired": not field.optional}
    if field.kind in ("text", "multiline"):
        shown.update(type="Input.Text", isMultiline=field.kind == "multiline", value=field.initial or "")
        if field.max_length:
            shown["maxLength"] = field.max_length
    elif field.kind == "person":
        shown.update({"type": "Input.ChoiceSet", "choices": [],
                      "choices.data": {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}})
        if field.initial:
            shown["value"] = field.initial
    else:
        shown.update(type="Input.ChoiceSet", style="compact", isMultiSelect=field.kind == "multiselect",
                     choices=[{"title": _no_link_syntax(c.label), "value": c.value} for c in field.choices[:100]])
        if field.initial:
            shown["value"] = field.initial
    return [label, shown]


# -- a person's Home --------------------------------------------------------------------------------------------------
def _card_inline(part: Inline, links: ChannelLinks) -> str:
    """A part of a message as a card's TextBlock Markdown: a person's words escaped (markdown_escaped), the bot's
    own emphasis bold, a link only where the core made one to a well-formed address."""
    match part:
        case Text(text):
            return markdown_escaped(text)
        case Strong(parts):
            inner = "".join(_card_inline(p, links) for p in parts).strip()
            return f"**{inner}**" if inner else ""
        case Code(text):
            return markdown_escaped(text)
        case Mention(name, _user, _group):
            return markdown_escaped(name)
        case ChannelLink(channel):
            if (link := links(channel)) is not None and _URL.match(link[0]):
                return f"[{markdown_escaped(link[1])}]({link[0]})"
            return markdown_escaped(channel if channel.startswith("#") else f"#{channel}")
        case Link(url, label):
            if _URL.match(url) and not re.search(r"[()\s]", url):
                return f"[{markdown_escaped(label or url)}]({url})"
            return markdown_escaped(f"{label} ({url})" if label and label != url else url)
    return ""


def _card_text(message: Message, links: ChannelLinks) -> str:
    lines = [("- " if line.bullet else "") + "".join(_card_inline(p, links) for p in line.parts)
             for line in message.lines]
    return "\n\n".join(line for line in lines if line.strip())


# Teams shows an Adaptive Card up to its message size limit (teams.limits); a Home shows a few items of each kind
# (bot.native.home.ITEMS) and counts the rest, so it stays well under it.
def home_card(page: Page, links: ChannelLinks = _no_links, item_budget: int | None = None) -> dict[str, Any]:
    """A person's Home as an Adaptive Card: each section a bold heading, its items (each with its buttons, whose
    Action.Submit data is the button's action and value, as on any other card), or the section's `empty` text.
    `item_budget`: each item's text cut (marked) to so many characters, for a card that would be too big."""
    body: list[dict[str, Any]] = []
    for n, section in enumerate(page.sections):
        heading = _card_text(section.heading, links)
        if heading:
            body.append({"type": "TextBlock", "text": heading, "weight": "Bolder",
                         "size": "Medium" if n == 0 else "Default", "wrap": True, "separator": n > 0,
                         "spacing": "Medium" if n > 0 else "Default"})
        for item in section.items:
            text = _card_text(fitted(item, item_budget, CUT_MARKER) if item_budget else item, links)
            if text:
                body.append({"type": "TextBlock", "text": text, "wrap": True})
            if item.buttons:
                body.append({"type": "ActionSet", "actions": card(item)["actions"]})
        if not section.items and section.empty is not None and (empty := _card_text(section.empty, links)):
            body.append({"type": "TextBlock", "text": empty, "wrap": True, "isSubtle": True})
    return {"type": "AdaptiveCard", "$schema": CARD_SCHEMA, "version": "1.4", "body": body}


def home_activity(page: Page, links: ChannelLinks = _no_links, item_budget: int | None = None) -> dict[str, Any]:
    """The message activity that carries a person's Home card in their personal chat with the bot."""
    return {"type": "message", "summary": "Samverkan", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "content": home_card(page, links, item_budget)}]}
