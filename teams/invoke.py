"""Teams' invokes: what a person does in a card or a dialog that Teams wants answered at once, in the HTTP answer
to the invoke itself (https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/conversations/
conversation-basics, "invoke activities").

- `adaptiveCard/action`: a form's Action.Execute in a chat. It is checked as a Slack modal's submission is
  (bot.native.forms.check, reading only); while anything is wrong the answer is the same card redrawn with each
  error beside its field and what was filled in kept, and nothing is written down. A valid one is written into
  the inbox, as a typed command is, and the card becomes a note that it was sent.
- `composeExtension/fetchTask`: a message action (Ta upp som oenighet, Lägg på dagordning, Lägg i tidslinjen)
  chosen on a message: its form as the dialog's card, built by the same shortcut as Slack's, through the same
  permission matrix (bot.native.shortcuts), or what to tell the person instead.
- `composeExtension/submitAction`: that dialog sent: checked, redrawn with its errors, or written down and closed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.app import Samverkan
from bot.chat import Command
from bot.forms import Form
from bot.i18n import Texts
from bot.message import Message
from bot.native import forms, language, shortcuts
from teams.activity import Activity
from teams.render import ADAPTIVE, EXECUTE, SHAPE, form_card, form_of, plain_text, sent_card

log = logging.getLogger(__name__)

ACTION = "adaptiveCard/action"
FETCH = "composeExtension/fetchTask"
SUBMIT = "composeExtension/submitAction"

# Writes a command into the inbox and hands it to a worker; the HTTP status it comes to.
Enqueue = Callable[[Command], str]


def answer(core: Samverkan, found: Activity, enqueue: Enqueue) -> dict[str, Any] | None:
    """The invoke's answer (the body of the HTTP 200), or None for an invoke Samverkan does not take."""
    user = found.user
    if user is None:
        return None
    t = Texts(language.of(core, user))
    if found.name == ACTION and found.verb == EXECUTE:
        return _execute(core, found, t, enqueue)
    if found.name == FETCH:
        return _fetch(core, found, t)
    if found.name == SUBMIT:
        return _submit(core, found, t, enqueue)
    return None


def _card(card: dict[str, Any]) -> dict[str, Any]:
    # The Universal Actions answer that replaces the card for whoever pressed
    # (https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/universal-actions-for-
    # adaptive-cards/work-with-universal-actions-for-adaptive-cards, "Adaptive Card response").
    return {"statusCode": 200, "type": ADAPTIVE, "value": card}


def _message(text: str) -> dict[str, Any]:
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}


def _dialog(form: Form, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None
            ) -> dict[str, Any]:
    # A task module that stays open with this card (https://learn.microsoft.com/en-us/microsoftteams/platform/
    # messaging-extensions/how-to/action-commands/create-task-module, "The initial invoke request").
    return {"task": {"type": "continue", "value": {
        "title": form.title[:60], "width": "medium", "height": "medium",
        "card": {"contentType": ADAPTIVE, "content": form_card(form, values, errors, task=True)}}}}


def _dialog_message(text: str) -> dict[str, Any]:
    return {"task": {"type": "message", "value": text[:1000]}}


def _inputs(data: dict[str, Any], form: Form) -> dict[str, Any]:
    """What the person filled in, as it came (to draw it again)."""
    return {f.name: str(data[f.name]) for f in form.fields if isinstance(data.get(f.name), str | int | float)}


def _checked(core: Samverkan, found: Activity, data: dict[str, Any], form: Form | None
             ) -> tuple[Command | None, dict[str, str]]:
    """The submission's command when it is valid, else its errors by field."""
    submission = found.submission(data)
    if submission is None or form is None or submission.action != form.action:
        return None, {"": "?"}
    try:
        errors = forms.check(core, submission)
    except Exception:
        # The command's own rules still stand behind it: the form goes on rather than failing.
        log.exception("could not check the form %s", submission.action)
        errors = {}
    if errors:
        return None, errors
    # The trigger is the invoke: the Connector's redelivery of the same submission is not done twice.
    return core.form_command(submission, core.clock.now(), found.id), {}


def _execute(core: Samverkan, found: Activity, t: Texts, enqueue: Enqueue) -> dict[str, Any]:
    data = found.invoke_data
    form = form_of(data.get(SHAPE))
    command, errors = _checked(core, found, data, form)
    if form is None:
        return _message(t.text("error.internal"))
    if command is None:
        return _card(form_card(form, _inputs(data, form), errors))
    if not enqueue(command).startswith("200"):
        return _message(t.text("error.internal"))
    return _card(sent_card(form, t.text("native.form.sent")))


def _shortcut(core: Samverkan, found: Activity) -> shortcuts.MessageShortcut:
    value = found.value or {}
    payload = value.get("messagePayload") if isinstance(value.get("messagePayload"), dict) else {}
    body = payload.get("body") if isinstance(payload.get("body"), dict) else {}
    text = plain_text(str(body.get("content") or ""))
    user = found.user or ""
    where = user if found.personal or len(found.conversation.id) > 100 else found.conversation.id
    return shortcuts.MessageShortcut(callback=str(value.get("commandId") or ""), user_id=user, channel_id=where,
                                     text=text[:4000], link=str(payload.get("linkToMessage") or "")[:500],
                                     trigger_id=found.id or "", received_at=core.clock.now())


def _fetch(core: Samverkan, found: Activity, t: Texts) -> dict[str, Any]:
    made = shortcuts.build(core, _shortcut(core, found))
    if made is None:
        return _dialog_message(t.text("error.internal"))
    if isinstance(made, Message):
        return _dialog_message(made.plain(markup=False))
    return _dialog(made)


def _submit(core: Samverkan, found: Activity, t: Texts, enqueue: Enqueue) -> dict[str, Any]:
    data = found.invoke_data
    made = shortcuts.build(core, _shortcut(core, found))  # the same form again: its fields and choices
    form = made if isinstance(made, Form) else None
    command, errors = _checked(core, found, data, form)
    if form is None:
        return _dialog_message(made.plain(markup=False) if isinstance(made, Message) else t.text("error.internal"))
    if command is None:
        return _dialog(form, _inputs(data, form), errors)
    if not enqueue(command).startswith("200"):
        return _dialog_message(t.text("error.internal"))
    return _dialog_message(t.text("native.form.sent"))
