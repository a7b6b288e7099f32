"""Slash commands as sets of sub-commands, and the context a sub-command runs in."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.chat import Command
from bot.clock import Clock
from bot.directory.people import Person
from bot.domain_events import Answered, DomainEvent, Messaged, Posted
from bot.events import Event
from bot.i18n import Texts
from bot.message import Message
from bot.model import GovernanceModel
from bot.ports import UnitOfWork


class UserError(Exception):
    """Bad input or a refused action: the person is told why, in their language, and nothing is saved."""

    def __init__(self, key: str, /, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass
class Context:
    command: Command
    args: list[str]
    model: GovernanceModel
    t: Texts
    uow: UnitOfWork
    clock: Clock
    person: Person | None
    # What each subject puts on a sitting's agenda (bot.forum.agenda.AgendaSource), composed in bot.app.
    agenda_sources: Sequence[Any] = ()
    events: list[DomainEvent] = field(default_factory=list)

    @property
    def actor(self) -> str:
        return self.person.key if self.person else f"user:{self.command.user_id}"

    def record(self, kind: str, subject: str, **data: object) -> None:
        self.uow.events.record(Event(self.clock.now(), self.actor, kind, subject, dict(data)))

    def emit(self, event: DomainEvent) -> None:
        self.events.append(event)

    def reply(self, message: Message) -> None:
        self.emit(Answered(message))

    def post(self, channel: str, message: Message) -> None:
        self.emit(Posted(channel, message))

    def direct(self, user_id: str | None, message: Message) -> None:
        """A direct message, when the person has a chat account to receive it."""
        if user_id:
            self.emit(Messaged(user_id, message))

    def require_person(self) -> Person:
        if self.person is None:
            raise UserError("directory.not_in_directory")
        return self.person


Handler = Callable[[Context], None]


@dataclass(frozen=True)
class Subcommand:
    name: str
    handler: Handler
    aliases: tuple[str, ...] = ()


HELP_WORDS = ("help", "hjälp", "hjalp", "?")


@dataclass
class CommandSet:
    """One slash command (`/samverkan`) and its sub-commands; the help text lives in the catalogue."""

    name: str
    subcommands: list[Subcommand] = field(default_factory=list)

    def add(self, name: str, *aliases: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.subcommands.append(Subcommand(name, handler, aliases))
            return handler

        return register

    def find(self, word: str) -> Subcommand | None:
        word = word.lower()
        return next((s for s in self.subcommands if word == s.name or word in s.aliases), None)

    def help(self, t: Texts) -> Message:
        return t(f"help.{self.name}")

    def run(self, ctx: Context) -> None:
        if not ctx.args or ctx.args[0].lower() in HELP_WORDS:
            ctx.reply(self.help(ctx.t))
            return
        sub = self.find(ctx.args[0])
        if sub is None:
            ctx.reply(ctx.t("help.unknown", command=self.name, word=ctx.args[0]) + self.help(ctx.t))
            return
        ctx.args = ctx.args[1:]
        sub.handler(ctx)


def split_words(text: str) -> list[str]:
    """Words as a shell would split them, so that "quoted names" stay whole."""
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise UserError("input.unbalanced_quotes") from exc
