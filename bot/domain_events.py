"""What a use case wants to happen once its changes are committed. A use case only emits these; `bot.bus` is the one
place that acts on them, after the commit and outside the transaction."""

from __future__ import annotations

from dataclasses import dataclass

from bot.duties import Duty
from bot.forms import Form
from bot.message import Message


@dataclass(frozen=True)
class Answered:
    """The command's answer to the person who sent it."""

    message: Message


@dataclass(frozen=True)
class Posted:
    channel: str
    message: Message


@dataclass(frozen=True)
class Messaged:
    """A direct message to one person: by their chat account, or (someone of another organisation who has not
    spoken to the bot yet) by the account their e-mail address leads to when it is delivered."""

    user_id: str | None
    message: Message
    email: str | None = None


@dataclass(frozen=True)
class CalendarChanged:
    """A sitting moved, was cancelled or added, or an action changed: reminders are planned anew. (A major
    incident's reminder to post an update is planned in the transaction of the change that makes it.)"""


@dataclass(frozen=True)
class WorkPlanned:
    """A duty planned in this transaction that should start at once (a war room's assembly), not at the next
    sweep; the sweep still finishes it if this process dies."""

    duty: Duty


@dataclass(frozen=True)
class FormWanted:
    form: Form


DomainEvent = Answered | Posted | Messaged | CalendarChanged | WorkPlanned | FormWanted
