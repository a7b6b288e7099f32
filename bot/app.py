"""The application core: one command in, its effects committed, then its messages out; and the duties that
fall due as the clock moves."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from bot.chat import ChatPort, Command, Outbox
from bot.clock import Clock
from bot.commands import CommandSet, Context, UserError, split_words
from bot.directory.commands import samverkan
from bot.directory.lookup import identify
from bot.disagreement import agenda as disagreement_agenda
from bot.disagreement import escalation
from bot.disagreement.commands import disagreement
from bot.duties import DutyRunner
from bot.forum import agenda, reminders
from bot.forum.commands import forum
from bot.forum.deployments import deploy
from bot.i18n import Lang, Texts
from bot.incident import assembly as incident_assembly
from bot.incident import reminders as incident_reminders
from bot.incident.commands import incident
from bot.incident.report import major_incidents_since
from bot.model import GovernanceModel
from bot.ports import UnitOfWork

log = logging.getLogger(__name__)

# Every slash command the product has; the capabilities fill in their sub-commands.
COMMANDS = ("samverkan", "forum", "incident", "disagreement", "deploy")

# What each capability contributes besides its commands: the duties it performs when they fall due (by kind),
# what plans those duties, and what it puts on forum agendas.
PERFORMERS = {
    reminders.REMINDER: reminders.perform_reminder,
    reminders.ACTION_DUE: reminders.perform_action_due,
    incident_assembly.ASSEMBLE: incident_assembly.perform_assembly,
    incident_reminders.UPDATE_DUE: incident_reminders.perform,
    escalation.ESCALATE: escalation.perform,
}
PLANNERS = [reminders.plan, incident_reminders.plan]
AGENDA_SOURCES = [agenda.added_items, agenda.open_actions, agenda.announced_deployments,
                  disagreement_agenda.open_disagreements, major_incidents_since]


def command_sets() -> dict[str, CommandSet]:
    sets = {name: CommandSet(name) for name in COMMANDS}
    for capability in (samverkan, forum, deploy, incident, disagreement):
        sets[capability.name] = capability
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
        self.agenda_sources = list(AGENDA_SOURCES)

    @property
    def texts(self) -> Texts:
        return Texts(self.lang)

    def handle(self, command: Command, chat: ChatPort) -> None:
        """Runs a command to the end. Called after the platform has been acknowledged, never before."""
        t = self.texts
        outbox = Outbox()
        replan = False
        follow_ups: list[Callable[[ChatPort], None]] = []
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
                    core=self,
                )
                commands.run(ctx)
                uow.commit()
                replan = ctx.replan
                follow_ups = ctx.after_commit
        except UserError as refused:
            outbox = Outbox()
            outbox.reply(t(refused.key, **refused.values))
        except Exception:
            # The person gets a plain apology, the log gets the trace; the transaction was rolled back.
            log.exception("command /%s %r failed", command.name, command.text)
            outbox = Outbox()
            outbox.reply(t("error.internal"))
        outbox.deliver(command, chat)
        if replan:
            # A sitting moved, was cancelled or added: its reminders change at once, not at the next planning.
            self.plan()
        for work in follow_ups:
            try:
                work(chat)
            except Exception:
                # What is left undone is a duty still claimed: a later sweep finishes it.
                log.exception("work after /%s %r failed", command.name, command.text)

    # -- what falls due -----------------------------------------------------------------------------------------
    def plan(self, now: datetime | None = None) -> None:
        """Writes down the duties that will fall due (reminders and the like). Idempotent."""
        now = now or self.clock.now()
        for planner in PLANNERS:
            planner(self, now)

    def runner(self, chat: ChatPort, lease: timedelta = timedelta(minutes=2), worker: str | None = None) -> DutyRunner:
        performers = {kind: functools.partial(performer, self) for kind, performer in PERFORMERS.items()}
        return DutyRunner(self.unit_of_work, chat, performers, lease=lease, worker=worker)

    def tick(self, chat: ChatPort, runner: DutyRunner | None = None) -> int:
        """Plans and performs what is due now; returns how many duties this process performed."""
        now = self.clock.now()
        self.plan(now)
        return (runner or self.runner(chat)).sweep(now)
