"""Bot Framework activities as pydantic models: validated once, here at the edge, then turned into the core's
`Command`. Only what Samverkan reads is modelled; the rest is ignored."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.chat import Command
from bot.native import buttons

_AT = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_NAME = re.compile(r"^[a-z]+$")


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Account(_Loose):
    id: str = Field(max_length=300)
    name: str | None = Field(default=None, max_length=300)
    aad_object_id: str | None = Field(default=None, alias="aadObjectId", max_length=64)


class Conversation(_Loose):
    id: str = Field(max_length=300)
    conversation_type: str | None = Field(default=None, alias="conversationType", max_length=40)
    tenant_id: str | None = Field(default=None, alias="tenantId", max_length=64)


class Entity(_Loose):
    type: str = Field(max_length=100)
    mentioned: Account | None = None
    text: str | None = Field(default=None, max_length=1000)


class Activity(_Loose):
    type: str = Field(max_length=40)
    id: str | None = Field(default=None, max_length=300)
    service_url: str = Field(alias="serviceUrl", max_length=500)
    sender: Account = Field(alias="from")
    recipient: Account | None = None
    conversation: Conversation
    text: str = Field(default="", max_length=8000)
    value: dict[str, Any] | None = None
    entities: list[Entity] = Field(default=[], max_length=50)
    locale: str | None = Field(default=None, max_length=20)
    channel_data: dict[str, Any] = Field(default={}, alias="channelData")

    @property
    def personal(self) -> bool:
        return self.conversation.conversation_type == "personal"

    @property
    def user(self) -> str | None:
        """The sender as the directory knows them in Teams: their Entra ID object id."""
        return self.sender.aad_object_id.lower() if self.sender.aad_object_id else None

    def words(self, bot_id: str) -> str:
        """What the person wrote, as plain text, with the mention of the bot taken out. Another person's mention is
        left as their name (the directory finds people by key or e-mail)."""
        bot_names = {e.text for e in self.entities if e.type == "mention" and e.mentioned
                     and e.mentioned.id.split(":")[-1] == bot_id.split(":")[-1]}
        text = _AT.sub(lambda m: "" if m.group(0) in bot_names else m.group(1), self.text)
        return " ".join(html.unescape(_TAG.sub(" ", text)).split())

    def to_command(self, bot_id: str, received_at: datetime) -> Command | None:
        """A message to the bot (`incident declare ...`) or a press of a card's button, as the command it stands for;
        None for anything else (someone typing to a channel where the bot is, without naming it, is not ours)."""
        user = self.user
        if user is None or self.type != "message":
            return None
        # A personal chat's id is longer than a channel id may be: the person stands for it, as a Slack Home's does.
        where = user if self.personal or len(self.conversation.id) > 100 else self.conversation.id
        if self.value and isinstance(self.value.get("action"), str):
            return buttons.click(str(self.value["action"]), str(self.value.get("value", "")), user, where,
                                 received_at, None, self.id)
        first, _, rest = self.words(bot_id).lstrip("/").partition(" ")
        name = first.lower()
        if not _NAME.match(name):
            name, rest = "samverkan", "help"
        return Command(name=name, text=rest.strip()[:4000], user_id=user, channel_id=where, trigger_id=self.id,
                       received_at=received_at)
