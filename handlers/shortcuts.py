"""Message shortcuts: acknowledged at once; the form is opened after (bot.native.shortcuts), within the seconds
Slack's trigger lives, and what it sends back goes through the inbox like any form."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App

from bot.app import Samverkan
from bot.native import shortcuts
from handlers.payloads import MessageShortcutPayload

log = logging.getLogger(__name__)


def register(app: App, core: Samverkan, work: Executor) -> None:
    for callback in shortcuts.SHORTCUTS:
        app.shortcut(callback)(_shortcut_listener(core, work))


def _shortcut_listener(core: Samverkan, work: Executor):  # type: ignore[no-untyped-def]
    def on_shortcut(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        try:
            payload = MessageShortcutPayload.model_validate(body)
        except ValidationError:
            log.warning("a message shortcut Slack sent did not have the expected fields")
            return
        work.submit(_open, core, shortcuts.MessageShortcut(
            payload.callback_id, payload.user.id, payload.channel.id, payload.text, payload.link, payload.trigger_id,
            core.clock.now(), payload.response_url))

    return on_shortcut


def _open(core: Samverkan, shortcut: shortcuts.MessageShortcut) -> None:
    try:
        shortcuts.open_form(core, shortcut)
    except Exception:
        log.exception("could not open the form of the shortcut %s", shortcut.callback)
