"""The application core: one command in, its effects committed, then its messages out."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from bot.chat import ChatPort, Command, Outbox
from bot.clock import Clock
from bot.commands import CommandSet, Context, UserError, split_words
from bot.directory.commands import samverkan
from bot.directory.lookup import identify
from bot.i18n import Lang, Texts
from bot.model import GovernanceModel
from bot.ports import UnitOfWork

log = logging.getLogger(__name__)

# Every slash command the product has; the capabilities fill in their sub-commands.
COMMANDS = ("samverkan", "forum", "incident", "disagreement", "deploy")


def command_sets() -> dict[str, CommandSet]:
    sets = {name: CommandSet(name) for name in COMMANDS}
    sets["samverkan"] = samverkan
    return sets


class Samverkan:
    def __init__(
        self,
        model: GovernanceModel,
        unit_of_work: Callable[[], UnitOfWork],
        clock: Clock,
        lang: Lang | None = None,
        sets: Iterable[CommandSet] | None = None,
    ) -> None:
        self.model = model
        self.unit_of_work = unit_of_work
        self.clock = clock
        self.lang: Lang = lang or model.language
        self.sets = {s.name: s for s in sets} if sets is not None else command_sets()

    def handle(self, command: Command, chat: ChatPort) -> None:
        """Runs a command to the end. Called after the platform has been acknowledged, never before."""
        t = Texts(self.lang)
        outbox = Outbox()
        try:
            commands = self.sets.get(command.name)
            if commands is None:
                raise UserError("help.unknown_command", command=command.name)
            with self.unit_of_work() as uow:
                ctx = Context(
                    command=command,
                    args=split_words(command.text),
                    model=self.model,
                    t=t,
                    uow=uow,
                    clock=self.clock,
                    chat=chat,
                    person=identify(uow, chat, command.user_id, self.clock.now()),
                    outbox=outbox,
                )
                commands.run(ctx)
                uow.commit()
        except UserError as refused:
            outbox = Outbox()
            outbox.reply(t(refused.key, **refused.values))
        except Exception:
            # The person gets a plain apology, the log gets the trace; the transaction was rolled back.
            log.exception("command /%s %r failed", command.name, command.text)
            outbox = Outbox()
            outbox.reply(t("error.internal"))
        outbox.deliver(command, chat)
