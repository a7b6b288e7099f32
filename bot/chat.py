"""The chat boundary: one request type in, one port out.

Every adapter (Slack over HTTP or Socket Mode, the terminal console, the tests' recorder) turns what its platform
delivers into a `Command` and implements `ChatPort`. Use cases never see which one they run under: they say
`Message`s, and the adapter renders them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from bot.forms import Form
from bot.message import Message, Page

# Slack's conversations.invite takes at most this many users per call.
INVITE_BATCH = 100


class Command(BaseModel):
    """A slash command (or a button, or a filled-in form, put into the words of one) as the core sees it."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[a-z]+$")  # without the slash: "samverkan", "forum", ...
    text: str = ""
    user_id: str = Field(min_length=1, max_length=100)
    channel_id: str = Field(min_length=1, max_length=100)
    response_url: str | None = None
    trigger_id: str | None = None
    received_at: datetime
    # Ties the log lines of this command together, from the acknowledgement to the last delivery (bot.telemetry).
    request_id: str | None = Field(default=None, max_length=40)


class NameTaken(Exception):
    """The channel name is in use (perhaps archived); the assembly picks another."""


class RoomRefused(Exception):
    """The platform will not open a war room until someone changes its set-up. `code` says what, from a closed
    set the catalogue words for an administrator to act on (`permission`: an application permission not granted,
    named by `detail`; `app_not_in_catalogue`: the app is not in the organisation's app catalogue; `no_owner`: no
    owner is configured). The duty is still tried again later, since an administrator may fix it, but the declarer
    is told what is wrong, not that the platform is slow."""

    CODES = ("permission", "app_not_in_catalogue", "no_owner")

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}".rstrip(": "))
        self.code = code if code in self.CODES else "permission"
        self.detail = detail


class Undeliverable(Exception):
    """The platform refuses the message as it is (too long, too many blocks), even cut to its limits: another try
    would be refused the same way, so the duty that sends it is dropped, not retried (bot.duties)."""


class ChatPort(Protocol):
    """What the core asks of a chat platform. Permanent refusals come back as values (or `NameTaken`, or
    `Undeliverable` for a message the platform refuses as too long even cut to its limits); anything else raised
    is transient, and the duty that made the call is tried again. Every message is cut to the platform's limits
    by the adapter, with a marker, rather than refused."""

    # True where a war room is created with its people in it (a Teams group chat: Graph blocks adding people to a
    # chat created with fewer than three), so the assembly looks them up before it creates the room; False where
    # the room is created empty and people are invited afterwards (a Slack channel).
    seats_at_creation: bool

    # -- saying things --------------------------------------------------------------------------------------------
    def reply(self, to: Command, message: Message) -> None:
        """Answer the person who sent the command, visible only to them."""
        ...

    def post(self, channel: str, message: Message, key: str | None = None) -> str:
        """Post in a channel (an id, or a #name); returns the message's reference. A `key` travels with the
        message, so that `find_posted` finds it again after a restart."""
        ...

    def direct(self, user_id: str, message: Message, key: str | None = None) -> str:
        """A direct message to one person; returns the message's reference."""
        ...

    def find_posted(self, channel_or_user: str, key: str) -> str | None:
        """The reference of a keyed message already in the channel (or the direct conversation), if any."""
        ...

    def update(self, channel_or_user: str, ref: str, message: Message) -> bool:
        """Replaces a message the bot posted (in a channel, or in its direct conversation with a user) by a new
        version of it: a notice kept current, its buttons taken away once nothing is left to do. False when the
        message is gone (deleted, its channel archived): there is nothing left to keep current."""
        ...

    def publish_home(self, user_id: str, page: Page) -> None:
        """Shows the page as the person's own Home (Slack's App Home tab)."""
        ...

    # -- people ---------------------------------------------------------------------------------------------------
    def find_user_by_email(self, email: str) -> str | None:
        """The platform's user id for an e-mail address, or None when nobody has it."""
        ...

    def email_of(self, user_id: str) -> str | None:
        """The e-mail address a platform user has, when the platform tells."""
        ...

    def usergroup_members(self, usergroup: str, *, fresh: bool = False) -> list[str]:
        """Who is in a user group now. The platform may answer from a short-lived cache, which is good enough to
        recognise who is speaking; `fresh=True` asks the platform itself, for a war room that must invite the rota
        on duty now, not the one before a shift handover."""
        ...

    def locale_of(self, user_id: str) -> str | None:
        """The person's locale as the platform knows it (`sv-SE`, `en-GB`), or None when it does not say."""
        ...

    # -- war rooms ------------------------------------------------------------------------------------------------
    def create_channel(self, name: str, private: bool, members: Sequence[str] = ()) -> str:
        """Creates the war room; returns its id, or raises NameTaken (or RoomRefused). Where the platform seats
        people at creation, `members` (platform user ids) are put in it; they are invited afterwards all the same,
        and someone already in it is no failure."""
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

    def pin(self, channel: str, ref: str) -> None: ...

    def archive(self, channel: str) -> None: ...

    def message_text(self, channel: str, ref: str) -> str | None:
        """The text of one message, for the timeline when someone marks it."""
        ...

    # -- forms ----------------------------------------------------------------------------------------------------
    def open_form(self, command: Command, form: Form) -> bool:
        """Shows the form to the person who sent the command; False when the platform has no forms."""
        ...


def received(command: Command, now: datetime) -> float:
    """Seconds since the command arrived."""
    return (now - command.received_at).total_seconds()
