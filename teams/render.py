"""The core's messages as Teams shows them: HTML-ish text (`textFormat: xml`) with mention entities, and the
buttons as an Adaptive Card whose Action.Submit data says the action and its value.

Every piece of text is HTML-escaped here, so nothing a person typed becomes markup, a link or a mention (`<at>`
typed by someone arrives as text). The only mentions that notify are the core's `Mention` values that carry an
Entra ID object id; Teams has no @channel or @team that text alone could trigger.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, replace
from typing import Any

from bot.fit import CUT_MARKER, fitted
from bot.forms import Choice, Form, FormField
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


EXECUTE = "samverkan.form"  # the verb of a form's Action.Execute
SHAPE = "samverkan_shape"  # the form itself, so that a bad submission is answered by the same card redrawn
ADAPTIVE = "application/vnd.microsoft.card.adaptive"


def form_card(form: Form, values: Mapping[str, str | list[str]] | None = None,
              errors: Mapping[str, str] | None = None, *, task: bool = False) -> dict[str, Any]:
    """A form as an Adaptive Card: its fields as inputs, what was filled in kept (`values`), and each error in red
    beside its field (an error about no field shown goes under the title). In a chat its button is an
    Action.Execute (Universal Actions): Teams sends it as an `adaptiveCard/action` invoke, answered at once with
    this card redrawn while anything is wrong, so nothing is written down until it is valid
    (https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/universal-actions-for-
    adaptive-cards/work-with-universal-actions-for-adaptive-cards). In a task module (a message action's dialog)
    it is an Action.Submit, which Teams sends as `composeExtension/submitAction`. A person field is Teams' people
    picker, which hands back an Entra object id."""
    values, errors = values or {}, errors or {}
    body: list[dict[str, Any]] = [{"type": "TextBlock", "text": markdown_escaped(form.title), "weight": "Bolder",
                                   "size": "Medium", "wrap": True}]
    names = {f.name for f in form.fields}
    body.extend(_error(text) for name, text in errors.items() if name not in names)
    for field in form.fields:
        given = values.get(field.name)
        shown = replace(field, initial=",".join(given) if isinstance(given, list) else given) \
            if given is not None else field
        body.extend(_input(shown))
        if field.name in errors:
            body.append(_error(errors[field.name]))
    data = {FORM: form.action, CONTEXT: dict(form.context),
            MULTI: [f.name for f in form.fields if f.kind == "multiselect"]}
    action: dict[str, Any] = {"type": "Action.Submit", "title": form.submit[:75] or "OK", "data": data}
    if not task:
        action = {**action, "type": "Action.Execute", "verb": EXECUTE, "data": {**data, SHAPE: shape(form)}}
    return {"type": "AdaptiveCard", "$schema": CARD_SCHEMA, "version": "1.4", "body": body, "actions": [action]}


def _error(text: str) -> dict[str, Any]:
    return {"type": "TextBlock", "text": markdown_escaped(text), "color": "Attention", "wrap": True,
            "spacing": "Small"}


def sent_card(form: Form, note: str) -> dict[str, Any]:
    """What a form's card becomes once its submission is taken: its title and a note, without inputs or button,
    so it cannot be sent twice."""
    return {"type": "AdaptiveCard", "$schema": CARD_SCHEMA, "version": "1.4", "body": [
        {"type": "TextBlock", "text": markdown_escaped(form.title), "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "TextBlock", "text": markdown_escaped(note), "wrap": True, "isSubtle": True}]}


def shape(form: Form) -> dict[str, Any]:
    """The form as data travelling with its card (its own words, not anyone's values)."""
    return asdict(form)


def form_of(data: Any) -> Form | None:
    """The form a card's data carries back, or None when it is not one (a forged or old card)."""
    if not isinstance(data, dict):
        return None
    try:
        fields = tuple(FormField(**{**f, "choices": tuple(Choice(**c) for c in f.get("choices") or ())})
                       for f in data.get("fields") or ())
        return Form(**{**data, "fields": fields, "context": {str(k): str(v) for k, v in
                                                            (data.get("context") or {}).items()}})
    except (TypeError, ValueError, AttributeError):
        return None


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

def plain_text(content: str) -> str:
    """A Teams message's HTML (a chatMessage's body, a message action's payload) as plain text: line breaks and
    paragraphs as lines, other tags dropped, entities unescaped, spaces collapsed within each line."""
    content = re.sub(r"(?i)<br\s*/?>|</p\s*>|</div\s*>|</li\s*>", "\n", content)
    text = html.unescape(re.sub(r"<[^>]*>", "", content))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)
