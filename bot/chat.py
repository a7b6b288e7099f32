"""The chat boundary: one request type in, a small port out.

Every adapter (Slack over HTTP or Socket Mode, the terminal console, the tests' recorder) turns what its platform
delivers into a `Command` and implements `ChatPort`. Use cases never see which one they run under.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field


class Command(BaseModel):
    """A slash command as the core sees it, whatever platform it came from."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[a-z]+$")  # without the slash: "samverkan", "forum", ...
    text: str = ""
    user_id: str = Field(min_length=1)
    channel_id: str = Field(min_length=1)
    response_url: str | None = None
    trigger_id: str | None = None
    received_at: datetime

    @property
    def words(self) -> list[str]:
        return self.text.split()


class ChatPort(Protocol):
    """What the core asks of a chat platform."""

    def reply(self, command: Command, text: str) -> None:
        """Answer the person who sent the command, visible only to them."""
        ...

    def post(self, channel: str, text: str, key: str | None = None) -> str:
        """Post in a channel (an id, or a #name); returns the message's reference. A `key` is carried with the
        message so that `was_posted` can find it again."""
        ...

    def direct(self, user_id: str, text: str, key: str | None = None) -> None:
        """A direct message to one person."""
        ...

    def was_posted(self, channel_or_user: str, key: str) -> bool:
        """Whether a message with this key is in the channel (or the direct conversation) already."""
        ...

    def find_user_by_email(self, email: str) -> str | None:
        """The platform's user id for an e-mail address, or None when nobody has it."""
        ...

    def email_of(self, user_id: str) -> str | None:
        """The e-mail address a platform user has, when the platform tells."""
        ...


@dataclass(frozen=True)
class Reply:
    text: str


@dataclass(frozen=True)
class Post:
    channel: str
    text: str


@dataclass(frozen=True)
class Direct:
    user_id: str
    text: str


Message = Reply | Post | Direct


@dataclass
class Outbox:
    """What a use case wants said. It is said only after its changes are committed, so a rolled-back change never
    leaves a message behind that claims otherwise."""

    messages: list[Message] = field(default_factory=list)

    def reply(self, text: str) -> None:
        self.messages.append(Reply(text))

    def post(self, channel: str, text: str) -> None:
        self.messages.append(Post(channel, text))

    def direct(self, user_id: str, text: str) -> None:
        self.messages.append(Direct(user_id, text))

    def deliver(self, command: Command, chat: ChatPort) -> None:
        for message in self.messages:
            match message:
                case Reply(text):
                    chat.reply(command, text)
                case Post(channel, text):
                    chat.post(channel, text)
                case Direct(user_id, text):
                    chat.direct(user_id, text)
