"""Slack's payloads as pydantic models: validated once, here at the edge, then turned into the core's types."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from bot.chat import Command


class SlashCommandPayload(BaseModel):
    # Slack adds fields over time; the ones we need are required, the rest ignored.
    model_config = ConfigDict(extra="ignore")

    command: str
    text: str = ""
    user_id: str
    channel_id: str
    team_id: str | None = None
    response_url: str | None = None
    trigger_id: str | None = None

    def to_command(self, received_at: datetime) -> Command:
        return Command(
            name=self.command.lstrip("/"),
            text=self.text.strip(),
            user_id=self.user_id,
            channel_id=self.channel_id,
            response_url=self.response_url,
            trigger_id=self.trigger_id,
            received_at=received_at,
        )
