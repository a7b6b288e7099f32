"""Clicks on the bot's buttons (Block Kit `block_actions`): each is the command it stands for (bot.native.buttons),
written into the inbox and acknowledged like a slash command; the core checks the permission matrix again."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App

from bot.app import Samverkan
from bot.chat import Command
from bot.native import buttons
from handlers.payloads import BlockActionsPayload

log = logging.getLogger(__name__)

Accept = Callable[[Samverkan, Executor, Ack, Command], None]
# Our buttons' action ids: a row of the permission matrix, with a suffix when two of one action share a block.
ACTION_ID = re.compile(r"^[a-z]+\.[a-z]+(:\d+)?$")


def register(app: App, core: Samverkan, work: Executor, accept: Accept) -> None:
    app.action(ACTION_ID)(_click_listener(core, work, accept))


def _click_listener(core: Samverkan, work: Executor, accept: Accept) -> Callable[..., None]:
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
        accept(core, work, ack, command)

    return on_click
