"""Bot Framework activities as pydantic models: validated once, here at the edge, then turned into the core's
`Command`. Only what Samverkan reads is modelled; the rest is ignored."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.chat import Command
from bot.directory.lookup import account_word
from bot.forms import Submission
from bot.native import buttons
from teams.render import CONTEXT, FORM, MULTI, SHAPE

_AT = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_NAME = re.compile(r"^[a-z]+$")
# A word alone that opens the person's Home (a card in their personal chat with the bot), as `/samverkan home`.
HOME_WORDS = frozenset({"home", "hem"})
_OBJECT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


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


class Reaction(_Loose):
    """One reaction of a messageReaction activity: its type (like, heart, laugh, surprised, sad, angry)."""

    type: str = Field(max_length=100)


class Activity(_Loose):
    type: str = Field(max_length=40)
    name: str | None = Field(default=None, max_length=100)  # an invoke's: adaptiveCard/action, composeExtension/...
    id: str | None = Field(default=None, max_length=300)
    service_url: str = Field(alias="serviceUrl", max_length=500)
    channel_id: str | None = Field(default=None, alias="channelId", max_length=40)  # "msteams"
    sender: Account = Field(alias="from")
    recipient: Account | None = None
    conversation: Conversation
    text: str = Field(default="", max_length=8000)
    value: dict[str, Any] | None = None
    entities: list[Entity] = Field(default=[], max_length=50)
    locale: str | None = Field(default=None, max_length=20)
    channel_data: dict[str, Any] = Field(default={}, alias="channelData")
    # A messageReaction activity: the message reacted to, and the reactions added to it.
    reply_to_id: str | None = Field(default=None, alias="replyToId", max_length=300)
    reactions_added: list[Reaction] = Field(default=[], alias="reactionsAdded", max_length=50)

    @property
    def personal(self) -> bool:
        return self.conversation.conversation_type == "personal"

    @property
    def user(self) -> str | None:
        """The sender as the directory knows them in Teams: their Entra ID object id."""
        return self.sender.aad_object_id.lower() if self.sender.aad_object_id else None

    def words(self, bot_id: str, account_of: Callable[[Account], str | None] = lambda _: None) -> str:
        """What the person wrote, as plain text, with the mention of the bot taken out. A mention of another person
        becomes the core's mention of their account (bot.directory.lookup) when `account_of` knows it (Teams names
        people in mentions by their Bot Framework id, not their Entra object id); otherwise it is left as their
        name, and the directory finds people by key or e-mail."""
        mentions = {e.text: e.mentioned for e in self.entities if e.type == "mention" and e.mentioned and e.text}

        def one(m: re.Match[str]) -> str:
            mentioned = mentions.get(m.group(0))
            if mentioned is None:
                return m.group(1)
            if mentioned.id.split(":")[-1] == bot_id.split(":")[-1]:
                return ""
            account = (mentioned.aad_object_id or account_of(mentioned) or "").lower()
            return f" {account_word(account)} " if account else m.group(1)

        text = _AT.sub(one, self.text)
        return " ".join(html.unescape(_TAG.sub(" ", text)).split())

    @property
    def invoke_data(self) -> dict[str, Any]:
        """What an invoke carries: an Action.Execute's data with the card's inputs merged in
        (`value.action.data`), or a task module's submitted inputs (`value.data`)."""
        value = self.value or {}
        action = value.get("action") if isinstance(value.get("action"), dict) else {}
        data = action.get("data") if self.name == "adaptiveCard/action" else value.get("data")
        return data if isinstance(data, dict) else {}

    @property
    def verb(self) -> str:
        action = (self.value or {}).get("action")
        return str(action.get("verb") or "") if isinstance(action, dict) else ""

    def submission(self, value: dict[str, Any] | None = None) -> Submission | None:
        """A form's card sent back filled in: its values by field (a multiselect's as a list, a picked person as
        the core's mention of them), and the context it travelled with. `value`: an invoke's data instead of the
        activity's value."""
        value = self.value or {} if value is None else value
        user = self.user
        if user is None or not isinstance(value.get(FORM), str):
            return None
        context = value.get(CONTEXT) if isinstance(value.get(CONTEXT), dict) else {}
        several = {str(n) for n in value.get(MULTI) or [] if isinstance(value.get(MULTI), list)}
        values: dict[str, str | list[str]] = {}
        for name, given in value.items():
            if name in (FORM, CONTEXT, MULTI, SHAPE) or not isinstance(given, str | int | float):
                continue
            text = str(given)
            if name in several:
                values[name] = [v for v in text.split(",") if v]
            elif _OBJECT_ID.match(text):
                values[name] = account_word(text.lower())
            else:
                values[name] = text
        return Submission(str(value[FORM]), user, values, {str(k): str(v) for k, v in context.items()})

    def reaction(self) -> tuple[str, str, str, list[str]] | None:
        """A reaction added to a message where the bot is installed (a war room's chat): the conversation, the
        message's id, who reacted (their Entra object id) and the reaction types; None for anything else.
        Teams sends it as `type: messageReaction` with `reactionsAdded` and `replyToId`, the id of the message
        reacted to (https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/conversations/
        subscribe-to-conversation-events, "Message reaction events")."""
        user = self.user
        if self.type != "messageReaction" or not self.reactions_added or not self.reply_to_id or user is None:
            return None
        conversation = self.conversation.id.split(";", 1)[0]
        return conversation, self.reply_to_id, user, [r.type for r in self.reactions_added]

    def to_command(self, bot_id: str, received_at: datetime,
                   account_of: Callable[[Account], str | None] = lambda _: None) -> Command | None:
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
        first, _, rest = self.words(bot_id, account_of).lstrip("/").partition(" ")
        name = first.lower()
        if not _NAME.match(name):
            name, rest = "samverkan", "help"
        elif name in HOME_WORDS and not rest.strip():
            name, rest = "samverkan", "home"  # `home` alone opens the person's Home: `/samverkan home`
        return Command(name=name, text=rest.strip()[:4000], user_id=user, channel_id=where, trigger_id=self.id,
                       received_at=received_at)
