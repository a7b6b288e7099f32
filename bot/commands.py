"""Slash commands as sets of sub-commands, and the context a sub-command runs in."""

from __future__ import annotations

import shlex
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot import permissions
from bot.chat import Command
from bot.clock import Clock
from bot.directory.people import Person
from bot.domain_events import Answered, DomainEvent, Messaged, Posted
from bot.errors import UserError
from bot.events import Event
from bot.i18n import Texts
from bot.message import Message
from bot.model import GovernanceModel
from bot.ports import UnitOfWork


class Hidden(UserError):
    """What a sub-command is about exists, but this person may not see it: they are told it does not exist, in the
    same words as for something that does not, and the event log notes the refusal."""


class Refused(UserError):
    """A sub-command the matrix does not allow this person: explained, and written to the event log. `hidden`: what
    it was about exists but this person may not see it, so to anyone but the event log's readers (the answer, the
    metrics, the log's outcome) it is what a missing one is: explained."""

    hidden: bool = False

    def __init__(self, command: str, subcommand: str, kinds: set[permissions.Kind], subject: str, key: str,
                 /, **values: object) -> None:
        super().__init__(key, **values)
        self.command = command
        self.subcommand = subcommand
        self.kinds = kinds
        self.subject = subject


# What is said to someone: a message, or a function of the catalogue that writes it in the reader's language.
Say = Message | Callable[[Texts], Message]


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
    # The catalogue for what everyone reads (a channel): the default language, whatever the speaker's own (`t`).
    channel_texts: Texts | None = None
    changed: bool = False  # something was written down (the Homes that show it are drawn anew)

    @property
    def actor(self) -> str:
        return self.person.key if self.person else f"user:{self.command.user_id}"

    @property
    def shared(self) -> Texts:
        return self.channel_texts or self.t

    def record(self, kind: str, subject: str, **data: object) -> None:
        self.uow.events.record(Event(self.clock.now(), self.actor, kind, subject, dict(data)))
        self.changed = True

    def emit(self, event: DomainEvent) -> None:
        self.events.append(event)

    def reply(self, message: Message) -> None:
        self.emit(Answered(message))

    def post(self, channel: str, message: Say) -> None:
        """A post in a channel: given as a function of the catalogue, it is written in the channel's language."""
        self.emit(Posted(channel, message if isinstance(message, Message) else message(self.shared)))

    def direct(self, person: Person, message: Say) -> None:
        """A direct message to a directory person, by their chat account or their e-mail address; given as a
        function of the catalogue, it is written in the language that person reads."""
        if person.account or person.email:
            # The e-mail address goes along: someone whose account is not known yet (on Teams, anyone who has not
            # spoken to the bot) is reached through the account it leads to when the message is delivered.
            self.emit(Messaged(person.account, message if isinstance(message, Message)
                               else message(self.texts_of(person)), person.email))

    def texts_of(self, person: Person | None) -> Texts:
        """The catalogue a person reads: their remembered language, else the channels' one."""
        known = self.uow.languages.get(person.account) if person and person.account else None
        return Texts(known.lang) if known else self.shared

    def require_person(self) -> Person:
        if self.person is None:
            raise UserError("directory.not_in_directory")
        return self.person


Handler = Callable[..., None]
# What a sub-command is about, read from its first words (which it consumes): a forum, a war room, a disagreement.
Resolver = Callable[[Context], permissions.Subject]


@dataclass(frozen=True)
class Subcommand:
    name: str
    handler: Handler
    aliases: tuple[str, ...] = ()
    subject: Resolver | None = None


HELP_WORDS = ("help", "hjälp", "hjalp", "?")


@dataclass
class CommandSet:
    """One slash command (`/samverkan`) and its sub-commands; the help text lives in the catalogue."""

    name: str
    subcommands: list[Subcommand] = field(default_factory=list)

    def add(self, name: str, *aliases: str, subject: Resolver | None = None) -> Callable[[Handler], Handler]:
        """Registers a sub-command. With `subject`, its handler is called with what the sub-command is about, once
        the permission matrix has allowed this person to act on it."""
        def register(handler: Handler) -> Handler:
            self.subcommands.append(Subcommand(name, handler, aliases, subject))
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
        rule = permissions.rule(self.name, sub.name)
        if ctx.person is None and permissions.Kind.OUTSIDER not in rule.allowed:
            # Before anything is looked up: someone outside the directory learns nothing, not even what exists.
            raise Refused(self.name, sub.name, {permissions.Kind.OUTSIDER}, "", "directory.not_in_directory")
        try:
            subject = sub.subject(ctx) if sub.subject else None
        except Hidden as hidden:
            refused = Refused(self.name, sub.name, permissions.kinds(ctx.model, ctx.uow, ctx.person, None), "",
                              hidden.key, **hidden.values)
            refused.hidden = True
            raise refused from hidden
        kinds = permissions.kinds(ctx.model, ctx.uow, ctx.person, subject)
        if not rule.allows(kinds):
            raise Refused(self.name, sub.name, kinds, permissions.reference(subject), rule.refusal,
                          **permissions.describe(ctx.model, ctx.t.lang, subject))
        if sub.subject:
            sub.handler(ctx, subject)
        else:
            sub.handler(ctx)


def split_words(text: str) -> list[str]:
    """Words as a shell would split them, so that "quoted names" stay whole. Control characters (a NUL byte
    above all, which PostgreSQL refuses) are refused here, before any word reaches a query."""
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t\r" for c in text):
        raise UserError("input.control_characters")
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise UserError("input.unbalanced_quotes") from exc
