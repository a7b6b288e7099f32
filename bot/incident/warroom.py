"""The war-room side of the chat boundary: what assembling and running a war room asks of the platform.

Slack (handlers/slack_chat.py), the console and the tests' recorder implement it beside `ChatPort`. Permanent
refusals come back as values or as `NameTaken`; anything else raised is transient and the assembly is retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.chat import ChatPort, Command

# Slack's conversations.invite takes at most this many users per call (the issue asks for batches of 100).
INVITE_BATCH = 100


@dataclass(frozen=True)
class DeclarationForm:
    """The declaration as a form (a Slack modal), in the reader's language."""

    heading: str
    submit: str
    title_label: str
    services_label: str
    severity_label: str
    description_label: str
    services: list[tuple[str, str]]  # (key, name)
    severities: list[int]
    channel: str  # where the command was typed: the answer goes there


class NameTaken(Exception):
    """The channel name is in use (perhaps archived); the assembly picks another."""


class WarRoomChat(ChatPort, Protocol):
    def create_channel(self, name: str, private: bool) -> str:
        """Creates the channel; returns its id, or raises NameTaken."""
        ...

    def find_channel(self, name: str) -> str | None:
        """The id of a channel of this name the bot is in: finds the one it created when the answer was lost."""
        ...

    def set_topic(self, channel: str, topic: str) -> None: ...

    def set_purpose(self, channel: str, purpose: str) -> None: ...

    def invite(self, channel: str, user_ids: list[str]) -> dict[str, str]:
        """Invites up to INVITE_BATCH members or guests; returns those who could not be invited, with the
        platform's reason. Someone already in the channel is not a failure."""
        ...

    def invite_shared(self, channel: str, email: str) -> str | None:
        """Invites a person of another organisation by e-mail (Slack Connect); the reason when refused."""
        ...

    def usergroup_members(self, usergroup: str) -> list[str]: ...

    def find_posted(self, channel: str, key: str) -> str | None:
        """The reference of a keyed message already in the channel, for finishing after a restart."""
        ...

    def pin(self, channel: str, ref: str) -> None: ...

    def archive(self, channel: str) -> None: ...

    def message_text(self, channel: str, ref: str) -> str | None:
        """The text of one message, for the timeline when someone marks it."""
        ...

    def open_declaration_form(self, command: Command, form: DeclarationForm) -> bool:
        """Shows the declaration form (a Slack modal); False when the platform has none."""
        ...
