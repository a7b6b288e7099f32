"""Slack's payloads as pydantic models: validated once, here at the edge, then turned into the core's types."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.chat import Command
from bot.forms import Submission
from handlers.slack_render import submitted_values, unescape


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
            # Slack escapes &, < and > in what was typed; the core keeps the characters, and every message the bot
            # posts escapes them again (handlers.slack_render).
            text=unescape(self.text.strip()),
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
