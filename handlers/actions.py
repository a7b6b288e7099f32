"""Clicks on the bot's buttons (Block Kit `block_actions`): each is the command it stands for (bot.native.buttons),
written into the inbox and acknowledged like a slash command; the core checks the permission matrix again."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App

from bot.app import Samverkan
from bot.chat import Command
from bot.native import buttons
from handlers.payloads import BlockActionsPayload

log = logging.getLogger(__name__)

# Hands a written-down command on to be processed (handlers.app): to this process's workers or a worker process.
Handoff = Callable[[int, Command], None]
Accept = Callable[[Samverkan, Handoff, Ack, Command], None]
# Our buttons' action ids: a row of the permission matrix, with a suffix when two of one action share a block.
ACTION_ID = re.compile(r"^[a-z]+\.[a-z]+(:\d+)?$")


def register(app: App, core: Samverkan, handoff: Handoff, accept: Accept) -> None:
    app.action(ACTION_ID)(_click_listener(core, handoff, accept))


def _click_listener(core: Samverkan, handoff: Handoff, accept: Accept) -> Callable[..., None]:
    def on_click(ack: Ack, body: dict[str, Any]) -> None:
        try:
            payload = BlockActionsPayload.model_validate(body)
        except ValidationError:
            log.warning("a button click Slack sent did not have the expected fields")
            ack()
            return
        action = payload.actions[0]
        command = buttons.click(action.action_id, action.value, payload.user.id, payload.channel_id,
                                core.clock.now(), payload.response_url, payload.trigger_id)
        if command is None:
            ack()  # not one of ours: nothing to do
            return
        accept(core, handoff, ack, command)

    return on_click
