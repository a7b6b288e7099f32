"""A click on a button, as the command it stands for.

A button says what it does by a row of the permission matrix (`disagreement.accept`) and on what by the words that
follow the sub-command (`D-7`): the click is the command `/disagreement accept D-7`, written into the inbox and run
through the same pipeline, so the matrix and the rules are asked again on every click, and a refusal is the same
explanation, to that person alone. A button that needs more words than it carries (a proposal's text, a reason)
opens the sub-command's form, where the platform has forms; elsewhere the person is told the words to type.
"""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import ValidationError

from bot import permissions
from bot.chat import Command

# The buttons the bot puts on its messages and Homes, by their action: each is a row of the permission matrix.
ACTIONS = (
    "disagreement.accept", "disagreement.reject", "disagreement.propose",
    "incident.update", "incident.role", "incident.severity", "incident.resolve",
    "forum.agenda", "forum.report", "forum.done",
)
# An action as a platform hands it back: Slack's action id, with a suffix telling two of the same apart.
_ACTION = re.compile(r"^([a-z]+)\.([a-z]+)(?::\d+)?$")


def action_of(action_id: str) -> tuple[str, str] | None:
    """(command, sub-command) of a button's action id; None for what no button of ours is."""
    m = _ACTION.match(action_id)
    if m is None or permissions.MATRIX.get(m.group(1), {}).get(m.group(2)) is None:
        return None
    return m.group(1), m.group(2)


def click(action_id: str, value: str, user_id: str, channel_id: str | None, received_at: datetime,
          response_url: str | None = None, trigger_id: str | None = None) -> Command | None:
    """The command a click stands for; None for a button that is not ours (or a value no command could carry)."""
    found = action_of(action_id)
    if found is None:
        return None
    command, sub = found
    try:
        return Command(name=command, text=f"{sub} {value}".strip()[:4000], user_id=user_id,
                       channel_id=channel_id or user_id, response_url=response_url, trigger_id=trigger_id,
                       received_at=received_at)
    except ValidationError:
        return None
