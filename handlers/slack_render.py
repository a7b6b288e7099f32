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

# What a person may keep in their text: a mention of one person, a channel, a link. Everything else in angle
# brackets is Slack's markup for special mentions and is taken apart.
_REFERENCE = re.compile(r"<([^<>]*)>")
_PERSON = re.compile(r"^@([UW][A-Z0-9]+)(\|[^<>]*)?$")
_CHANNEL = re.compile(r"^#(C[A-Z0-9]+)(\|[^<>]*)?$")
_LINK = re.compile(r"^(https?://[^\s|<>]+|mailto:[^\s|<>]+)(\|[^<>]*)?$")
_SPECIAL = re.compile(r"^!(here|channel|everyone|group)(\|[^<>]*)?$")
_SUBTEAM = re.compile(r"^!subteam\^[A-Z0-9]+(?:\|@?([^<>]*))?$")
_FALLBACK = re.compile(r"^![a-z]+\^[^|<>]*\|([^<>]*)$")  # <!date^...|fallback>
# Broadcast words typed without markup: Slack does not act on them in an API post, but a word joiner after the @
# makes sure no client or later setting ever does.
_BROADCAST = re.compile(r"@(here|channel|everyone)\b", re.IGNORECASE)
_JOINER = "\u2060"


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _defanged(word: str) -> str:
    return f"@{_JOINER}{word}"


def neutralise(text: str) -> str:
    """A person's text as mrkdwn that notifies nobody but the people it names one by one."""
    out: list[str] = []
    at = 0
    for m in _REFERENCE.finditer(text):
        out.append(_plain(text[at:m.start()]))
        inner = m.group(1)
        if _PERSON.match(inner) or _CHANNEL.match(inner) or _LINK.match(inner):
            out.append(f"<{inner}>")
        elif special := _SPECIAL.match(inner):
            out.append(_defanged(special.group(1)))
        elif (subteam := _SUBTEAM.match(inner)) is not None:
            out.append(_defanged(escape(subteam.group(1) or "grupp")))
        elif fallback := _FALLBACK.match(inner):
            out.append(_plain(fallback.group(1)))
        else:
            out.append(_plain(m.group(0)))
        at = m.end()
    out.append(_plain(text[at:]))
    return "".join(out)


def _plain(text: str) -> str:
    return _BROADCAST.sub(lambda m: _defanged(m.group(1)), escape(text))


def safe_plain(text: str) -> str:
    """A person's text for a `plain_text` field (a label, a header, a button, a form's starting value): Slack shows
    it as written, and what would be a broadcast mention in mrkdwn is taken apart all the same."""
    return html.unescape(neutralise(text))


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
