"""Slack's payloads as pydantic models: validated once, here at the edge, then turned into the core's types."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.chat import Command
from bot.directory.lookup import account_word, group_word
from bot.forms import Submission
from handlers.slack_render import submitted_values, unescape

# Slack escapes what a slash command names (the manifest's should_escape): <@U123|name>, <!subteam^S123|@handle>,
# <mailto:a@b|a@b>, <https://…|label>. The core reads mentions in one form of its own (bot.directory.lookup) and links
# bare; the escaping of &, < and > is undone (the core keeps the characters, every post escapes them again).
_ESCAPED = re.compile(r"<(@[UW][A-Z0-9]+|!subteam\^S[A-Z0-9]+|mailto:[^|>\s]+|https?://[^|>\s]+)(?:\|[^<>]*)?>")


def neutral_words(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        inner = m.group(1)
        if inner.startswith("@"):
            return account_word(inner[1:])
        if inner.startswith("!subteam^"):
            return group_word(inner.removeprefix("!subteam^"))
        return inner.removeprefix("mailto:")

    return unescape(_ESCAPED.sub(one, text))


class SlashCommandPayload(BaseModel):
    # Slack adds fields over time; the ones we need are required, the rest ignored.
    model_config = ConfigDict(extra="ignore")

    command: str = Field(max_length=40)
    text: str = Field(default="", max_length=4000)
    user_id: str = Field(max_length=100)
    channel_id: str = Field(max_length=100)
    team_id: str | None = None
    response_url: str | None = Field(default=None, max_length=1000)
    trigger_id: str | None = Field(default=None, max_length=200)

    def to_command(self, received_at: datetime) -> Command:
        return Command(
            name=self.command.lstrip("/"),
            text=neutral_words(self.text.strip()),
            user_id=self.user_id,
            channel_id=self.channel_id,
            response_url=self.response_url or None,
            trigger_id=self.trigger_id or None,
            received_at=received_at,
        )


class _User(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(max_length=100)


class _View(BaseModel):
    model_config = ConfigDict(extra="ignore")
    callback_id: str = Field(max_length=255)
    private_metadata: str = ""
    state: dict[str, Any] = {}


class ViewSubmissionPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")
    user: _User
    view: _View
    trigger_id: str | None = Field(default=None, max_length=200)

    def to_submission(self) -> Submission:
        try:
            context = json.loads(self.view.private_metadata or "{}")
        except ValueError:
            context = {}
        if not isinstance(context, dict):
            context = {}
        return Submission(self.view.callback_id, self.user.id, submitted_values(self.view.model_dump()),
                          {str(k): str(v) for k, v in context.items()})


class _Item(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str
    channel: str | None = None
    ts: str | None = None


class ReactionAdded(BaseModel):
    model_config = ConfigDict(extra="ignore")
    user: str
    reaction: str
    item: _Item


class MemberJoined(BaseModel):
    model_config = ConfigDict(extra="ignore")
    user: str
    channel: str


class _Channel(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(max_length=100)


class _Action(BaseModel):
    model_config = ConfigDict(extra="ignore")
    action_id: str = Field(max_length=255)
    value: str = Field(default="", max_length=2000)


class BlockActionsPayload(BaseModel):
    """A click on a button: in a message (with its channel and a response URL) or on a Home (with neither)."""

    model_config = ConfigDict(extra="ignore")
    user: _User
    actions: list[_Action] = Field(min_length=1, max_length=25)
    channel: _Channel | None = None
    response_url: str | None = Field(default=None, max_length=1000)
    trigger_id: str | None = Field(default=None, max_length=200)

    @property
    def channel_id(self) -> str | None:
        return self.channel.id if self.channel else None


class _Team(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str | None = None
    domain: str | None = Field(default=None, max_length=100)


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")
    text: str = Field(default="", max_length=40000)
    ts: str = Field(max_length=40)


class MessageShortcutPayload(BaseModel):
    """A message shortcut: which, by whom, on what message, where."""

    model_config = ConfigDict(extra="ignore")
    callback_id: str = Field(max_length=255)
    user: _User
    channel: _Channel
    message: _Message
    trigger_id: str = Field(max_length=200)
    response_url: str | None = Field(default=None, max_length=1000)
    team: _Team | None = None

    @property
    def text(self) -> str:
        # Slack escapes &, < and > in what was written; the core keeps the characters.
        return unescape(self.message.text)

    @property
    def link(self) -> str:
        """The message's permalink, as Slack writes them, from the workspace's domain (no round trip)."""
        domain = self.team.domain if self.team else None
        if not domain or not domain.replace("-", "").isalnum():
            return ""
        return f"https://{domain}.slack.com/archives/{self.channel.id}/p{self.message.ts.replace('.', '')}"


class AppHomeOpened(BaseModel):
    model_config = ConfigDict(extra="ignore")
    user: str = Field(max_length=100)
    tab: str = "home"
    view: dict[str, Any] | None = None
