"""Slash commands as sets of sub-commands, and the context a sub-command runs in."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.chat import ChatPort, Command, Outbox
from bot.clock import Clock
from bot.directory.people import Person
from bot.events import Event
from bot.i18n import Texts
from bot.model import GovernanceModel
from bot.ports import UnitOfWork

if TYPE_CHECKING:
    from bot.app import Samverkan


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
    chat: ChatPort
    person: Person | None
    outbox: Outbox = field(default_factory=Outbox)
    core: Samverkan | Any = None
    # Set by a command that changed when forums sit, so the reminders are planned anew after the commit.
    replan: bool = False
    # Slow work on the chat platform that must follow the commit (a war room being assembled); each runs after
    # the command's messages are delivered, and only if the command's changes were committed.
    after_commit: list[Callable[[ChatPort], None]] = field(default_factory=list)

    @property
    def actor(self) -> str:
        return self.person.key if self.person else f"user:{self.command.user_id}"

    def record(self, kind: str, subject: str, **data: object) -> None:
        self.uow.events.record(Event(self.clock.now(), self.actor, kind, subject, dict(data)))

    def reply(self, text: str) -> None:
        self.outbox.reply(text)

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

    def help(self, t: Texts) -> str:
        if not self.subcommands:
            return t("help.not_yet", command=self.name)
        return t(f"help.{self.name}")

    def run(self, ctx: Context) -> None:
        if not self.subcommands:
            ctx.reply(self.help(ctx.t))
            return
        if not ctx.args or ctx.args[0].lower() in ("help", "hjälp", "hjalp", "?"):
            ctx.reply(self.help(ctx.t))
            return
        sub = self.find(ctx.args[0])
        if sub is None:
            ctx.reply(ctx.t("help.unknown", command=self.name, word=ctx.args[0]) + "\n" + self.help(ctx.t))
            return
        ctx.args = ctx.args[1:]
        sub.handler(ctx)


def split_words(text: str) -> list[str]:
    """Words as a shell would split them, so that "quoted names" stay whole."""
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise UserError("input.unbalanced_quotes") from exc
