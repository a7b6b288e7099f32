"""The core's messages and forms as Slack shows them: mrkdwn, Block Kit and modals.

Every piece of text the core hands over goes through `neutralise` on its way out, so no text typed by a person can
notify a channel, the workspace or a user group, whichever path it travels (a title, an update, a comment, an agenda
item). The mentions that notify are the core's own `Mention` values, rendered here.
"""

from __future__ import annotations

import html
import re
from typing import Any

from bot.forms import Form, FormField
from bot.message import ChannelLink, Code, Inline, Link, Mention, Message, Page, Strong, Text

# Slack's markup in angle brackets, which a person's text may hold (a slash command's words arrive with it, and a
# person may type the characters): none of it is kept. A mention of a person or a channel becomes its name as text,
# a link its address as text (Slack links a bare address to itself), a special mention is taken apart.
_REFERENCE = re.compile(r"<([^<>]*)>")
_PERSON = re.compile(r"^@([UW][A-Z0-9]+)(?:\|([^<>]*))?$")
_CHANNEL = re.compile(r"^#(C[A-Z0-9]+)(?:\|([^<>]*))?$")
_LINK = re.compile(r"^(https?://[^\s|<>]+|mailto:[^\s|<>]+)(?:\|([^<>]*))?$")
_SPECIAL = re.compile(r"^!(here|channel|everyone|group)(\|[^<>]*)?$")
_SUBTEAM = re.compile(r"^!subteam\^[A-Z0-9]+(?:\|@?([^<>]*))?$")
_FALLBACK = re.compile(r"^![a-z]+\^[^|<>]*\|([^<>]*)$")  # <!date^...|fallback>
# Broadcast words typed without markup: Slack does not act on them in an API post, but a word joiner after the @
# makes sure no client or later setting ever does.
_BROADCAST = re.compile(r"@(here|channel|everyone)\b", re.IGNORECASE)
_JOINER = "\u2060"
# mrkdwn's formatting in a person's text (*bold*, _italic_, ~struck~, `code`, > quote) would make their words look
# like the bot's own: Slack has no escape for it, so each such character is shown as a look-alike that Slack does
# not format. A character between two letters or digits formats nothing (snake_case, 2*3) and is kept, and so is
# an address, whose characters are its own.
_ADDRESS = re.compile(r"(?:https?://|mailto:)[^\s<>]*[^\s<>*_~`]")
_FORMATTING = re.compile(r"(?<![^\W_])[*_~]|[*_~](?![^\W_])|`")
_LOOKALIKE = {"*": "\u2217", "_": "\uff3f", "~": "\u223c", "`": "\u02cb"}
_QUOTE = re.compile(r"^([ \t]*)&gt;", re.MULTILINE)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _defanged(word: str) -> str:
    return f"@{_JOINER}{word}"


def neutralise(text: str, formatting: bool = True) -> str:
    """A person's text as mrkdwn that is only ever text: no link whose label is not its address, no mention of
    anyone, no channel reference, no broadcast, and (with `formatting`) none of mrkdwn's formatting."""
    out: list[str] = []
    at = 0
    for m in _REFERENCE.finditer(text):
        out.append(text[at:m.start()])
        out.append(_taken_apart(m.group(1), m.group(0)))
        at = m.end()
    out.append(text[at:])
    shown = _plain("".join(out))
    return _unformatted(shown) if formatting else shown


def _taken_apart(inner: str, whole: str) -> str:
    """What a person's `<…>` shows as: characters only, the names and addresses it held."""
    if person := _PERSON.match(inner):
        return f"@{(person.group(2) or person.group(1)).lstrip('@')}"
    if channel := _CHANNEL.match(inner):
        return f"#{(channel.group(2) or channel.group(1)).lstrip('#')}"
    if link := _LINK.match(inner):
        address, label = link.group(1), (link.group(2) or "").strip()
        if not label or label in (address, address.removeprefix("mailto:")):
            return address.removeprefix("mailto:")
        return f"{label} ({address})"  # both as text: the label links nowhere it does not say
    if special := _SPECIAL.match(inner):
        return _defanged(special.group(1))
    if (subteam := _SUBTEAM.match(inner)) is not None:
        return _defanged(subteam.group(1) or "grupp")
    if fallback := _FALLBACK.match(inner):
        return fallback.group(1)
    return whole


def _plain(text: str) -> str:
    """Escaped as Slack wants (& < >), and no @ that could be read as a broadcast; an @ before a name is kept."""
    return _BROADCAST.sub(lambda m: _defanged(m.group(1)), escape(text))


def _unformatted(text: str) -> str:
    out: list[str] = []
    at = 0
    for m in _ADDRESS.finditer(text):
        out.append(_FORMATTING.sub(lambda c: _LOOKALIKE[c.group(0)], text[at:m.start()]))
        out.append(m.group(0))
        at = m.end()
    out.append(_FORMATTING.sub(lambda c: _LOOKALIKE[c.group(0)], text[at:]))
    return _QUOTE.sub(lambda q: f"{q.group(1)}\uff1e", "".join(out))


def safe_plain(text: str) -> str:
    """A person's text for a `plain_text` field (a label, a header, a button, a form's starting value): Slack shows
    it as written, with Slack's markup taken apart as in mrkdwn."""
    return html.unescape(neutralise(text, formatting=False))


def unescape(text: str) -> str:
    """Slack's escaping of what a person typed (&amp; &lt; &gt;) undone: the core keeps the characters."""
    return html.unescape(text) if "&" in text else text


# -- messages -------------------------------------------------------------------------------------------------------
def inline(part: Inline) -> str:
    match part:
        case Text(text):
            return neutralise(text)
        case Strong(parts):
            inner = "".join(inline(p) for p in parts).strip()
            return f"*{inner}*" if inner else ""
        case Code(text):
            return f"`{escape(text).replace('`', 'ˋ')}`"
        case Mention(name, user, group):
            if group:
                return f"<!subteam^{group}>"
            if user and _PERSON.match(f"@{user}"):
                return f"<@{user}>"
            return neutralise(name)
        case ChannelLink(channel):
            return f"<#{channel}>" if _CHANNEL.match(f"#{channel}") else neutralise(channel)
        case Link(url, label):
            if not _LINK.match(url):
                return neutralise(f"{label} ({url})" if label else url)
            return f"<{url}|{neutralise(label).replace('|', '¦')}>" if label else f"<{url}>"
    return ""


def mrkdwn(message: Message) -> str:
    return "\n".join(("• " if line.bullet else "") + "".join(inline(p) for p in line.parts)
                     for line in message.lines)


SECTION_LIMIT = 3000
BUTTON_LIMIT = 75


def blocks(message: Message, always: bool = False) -> list[dict[str, Any]] | None:
    """Block Kit for a message with buttons; None for plain text, which needs no blocks, unless `always` (an update
    must send blocks, or the buttons the message had would stay)."""
    if not message.buttons and not always:
        return None
    sections: list[dict[str, Any]] = []
    chunk = ""
    for line in mrkdwn(message).split("\n"):
        if chunk and len(chunk) + len(line) + 1 > SECTION_LIMIT:
            sections.append(_section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line[:SECTION_LIMIT]
    if chunk.strip():
        sections.append(_section(chunk))
    if not message.buttons:
        return sections or [_section(" ")]
    return [*sections, {"type": "actions", "elements": _buttons(message)}]


def _buttons(message: Message) -> list[dict[str, Any]]:
    """A button's action id is its action (a row of the permission matrix); two of the same action in one block
    (two reports to deliver) are told apart by a suffix the click handler takes off again."""
    elements = []
    seen: dict[str, int] = {}
    for button in message.buttons[:25]:
        n = seen[button.action] = seen.get(button.action, 0) + 1
        label = safe_plain(button.label)[:BUTTON_LIMIT] or "–"
        element: dict[str, Any] = {"type": "button", "action_id": button.action if n == 1 else f"{button.action}:{n}",
                                   "value": button.value[:2000], "text": {"type": "plain_text", "text": label}}
        if button.style:
            element["style"] = button.style
        elements.append(element)
    return elements


# Slack shows at most this many blocks on a Home tab.
HOME_BLOCKS = 100


def home_view(page: Page) -> dict[str, Any]:
    """A person's Home: each section a header, its items (text and their buttons), a divider between sections."""
    shown: list[dict[str, Any]] = []
    for n, section in enumerate(page.sections):
        if n:
            shown.append({"type": "divider"})
        heading = section.heading.plain(markup=False)
        if heading:
            shown.append({"type": "header", "text": {"type": "plain_text", "text": safe_plain(heading)[:150]}})
        for item in section.items:
            shown.extend(blocks(item, always=True) or [])
        if not section.items and section.empty is not None:
            shown.append({"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn(section.empty)[:3000]}]})
    return {"type": "home", "blocks": shown[:HOME_BLOCKS]}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


# -- forms ----------------------------------------------------------------------------------------------------------
def modal(form: Form) -> dict[str, Any]:
    import json

    def plain(text: str, limit: int = 75) -> dict[str, str]:
        return {"type": "plain_text", "text": safe_plain(text)[:limit] or "–"}

    return {
        "type": "modal", "callback_id": form.action, "private_metadata": json.dumps(form.context)[:3000],
        "title": plain(form.title, 24), "submit": plain(form.submit, 24), "close": plain(form.close, 24),
        "blocks": [_input(field, plain) for field in form.fields],
    }


def _input(field: FormField, plain: Any) -> dict[str, Any]:
    element: dict[str, Any] = {"action_id": "value"}
    if field.kind in ("text", "multiline"):
        element.update(type="plain_text_input", multiline=field.kind == "multiline")
        if field.max_length:
            element["max_length"] = field.max_length
        if field.initial:
            element["initial_value"] = safe_plain(field.initial)[:field.max_length or 3000]
    elif field.kind == "person":
        element.update(type="users_select")
        if field.initial:
            element["initial_user"] = field.initial
    else:
        options = [{"text": plain(c.label), "value": c.value[:150]} for c in field.choices][:100]
        element.update(type="static_select" if field.kind == "select" else "multi_static_select", options=options)
        chosen = next((o for o in options if o["value"] == field.initial), None) if field.initial else None
        if chosen is not None and field.kind == "select":
            element["initial_option"] = chosen
    return {"type": "input", "block_id": field.name, "label": plain(field.label, 2000), "optional": field.optional,
            "element": element}


def submitted_values(view: dict[str, Any]) -> dict[str, str | list[str]]:
    """A submitted modal's values by field name, however Slack nests them; whatever is not shaped as Slack shapes
    it is left out (the form's command then says what is missing)."""
    values: dict[str, str | list[str]] = {}
    state = view.get("state")
    blocks_ = state.get("values") if isinstance(state, dict) else None
    for block_id, actions in (blocks_ if isinstance(blocks_, dict) else {}).items():
        for element in (actions if isinstance(actions, dict) else {}).values():
            if not isinstance(element, dict):
                continue
            chosen, one, typed = element.get("selected_options"), element.get("selected_option"), element.get("value")
            user = element.get("selected_user")
            if isinstance(user, str):
                values[block_id] = f"@user:{user}"  # a mention, as the core reads them (bot.directory.lookup)
            elif isinstance(chosen, list):
                values[block_id] = [str(o.get("value", "")) for o in chosen if isinstance(o, dict)]
            elif isinstance(one, dict):
                values[block_id] = str(one.get("value", ""))
            elif isinstance(typed, str):
                values[block_id] = typed
    return values
