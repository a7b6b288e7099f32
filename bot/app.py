"""The application core: a command is received (written down before the platform is answered), processed once in
one transaction, and what it has to say is delivered after the commit; the duties fall due as the clock moves."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Executor
from datetime import datetime, timedelta

from bot import bus, rate, retention
from bot import chain_head as head_duty
from bot.chat import ChatPort, Command
from bot.clock import Clock
from bot.commands import HELP_WORDS, CommandSet, Context, Refused, UserError, split_words
from bot.directory import accounts
from bot.directory.commands import samverkan
from bot.directory.lookup import recognise
from bot.directory.people import Person
from bot.disagreement import agenda as disagreement_agenda
from bot.disagreement import (
    clarification,  # noqa: F401 - registers /disagreement clarify
    escalation,
)
from bot.disagreement import commands as disagreement_commands
from bot.disagreement.commands import disagreement
from bot.domain_events import Answered, DomainEvent
from bot.duties import DutyRunner, Look
from bot.events import Event
from bot.forms import Submission
from bot.forum import agenda, reminders, reports, service_levels, standing, underlag
from bot.forum import calls as _calls  # noqa: F401 - registers /forum call
from bot.forum.commands import forum
from bot.forum.deployments import deploy
from bot.i18n import Lang, Texts
from bot.incident import alert as _alert  # noqa: F401 - registers /incident alert
from bot.incident import assembly as incident_assembly
from bot.incident import clocks as incident_clocks
from bot.incident import commands as incident_commands
from bot.incident import legal as incident_legal
from bot.incident import reminders as incident_reminders
from bot.incident.commands import incident
from bot.incident.report import major_incidents_since
from bot.intake import Intake
from bot.model import GovernanceModel
from bot.native import forms as native_forms
from bot.native import home, language, live
from bot.native import views as _views  # noqa: F401 - registers how messages kept current look
from bot.ports import UnitOfWork, UnitOfWorkFactory
from bot.telemetry import SILENT, Telemetry, following

log = logging.getLogger(__name__)

# Every slash command the product has, with its sub-commands.
CAPABILITIES = (samverkan, forum, deploy, incident, disagreement)

# What each capability contributes besides its commands: the duties it performs when they fall due (by kind),
# what plans those duties, and what it puts on forum agendas.
PERFORMERS = {
    bus.DELIVER: bus.deliver,
    accounts.LINK: accounts.perform_link,
    reminders.REMINDER: reminders.perform_reminder,
    reminders.ACTION_DUE: reminders.perform_action_due,
    incident_assembly.ASSEMBLE: incident_assembly.perform_assembly,
    incident_assembly.ARCHIVE: incident_assembly.perform_archive,
    incident_reminders.UPDATE_DUE: incident_reminders.perform,
    escalation.ESCALATE: escalation.perform,
    reports.REPORT_DUE: reports.perform_due,
    reports.REPORT_MISSING: reports.perform_missing,
    service_levels.UNDECIDED: service_levels.perform_undecided,
    underlag.DUE: underlag.perform_due,
    underlag.LATE: underlag.perform_late,
    standing.CONVENE: standing.perform_convene,
    live.POST: live.perform_post,
    live.REFRESH: live.perform_refresh,
    home.REFRESH: home.perform_refresh,
    home.OPEN: home.perform_open,
    head_duty.HEAD: head_duty.perform,
    retention.RETENTION: retention.perform,
    incident_clocks.REMIND: incident_legal.perform_reminder,
    incident_clocks.MISSED: incident_legal.perform_missed,
}
# Performers of many duties of a kind at once, which the sweep uses for what falls due together.
BATCH_PERFORMERS = {
    escalation.ESCALATE: escalation.perform_batch,
}
PLANNERS = [reminders.plan, reports.plan, service_levels.plan, underlag.plan, incident_reminders.plan, home.plan,
            head_duty.plan, incident_clocks.plan, retention.plan]
# Forms, by their action: the command each one's answers are put into the words of.
FORMS = {
    "incident.declare": ("incident", incident_commands.declaration_words),
    "disagreement.open": ("disagreement", disagreement_commands.opening_words),
    **native_forms.FORMS,  # the forms behind buttons and shortcuts
}
AGENDA_SOURCES = (agenda.added_items, standing.standing_items, reports.owed_reports, agenda.open_actions,
                  agenda.announced_deployments, disagreement_agenda.open_disagreements, major_incidents_since)


# A command received this long ago and still waiting was left by a process that died; so many at a time.
RECOVER_AFTER = timedelta(seconds=5)
# The outcome of a command answered with an explanation, also of one about something the person may not see.
EXPLAINED = "explained"
# A command's or sub-command's label in the metrics and the log when it is none of those there are.
UNKNOWN = "unknown"
RECOVER_BATCH = 100
# However quiet the calendar, reminders are planned anew this often: sittings come into the horizon as time passes.
REPLAN_EVERY = timedelta(minutes=5)
PLAN_RETRY = timedelta(seconds=30)


class Samverkan:
    def __init__(
        self,
        model: GovernanceModel,
        unit_of_work: UnitOfWorkFactory,
        clock: Clock,
        chat: ChatPort,
        lang: Lang | None = None,
        sets: Iterable[CommandSet] = CAPABILITIES,
        lease: timedelta = timedelta(seconds=15),
        worker: str | None = None,
        intake: Intake | None = None,
        after: Executor | None = None,
        telemetry: Telemetry = SILENT,
        rate_limit: rate.RateLimit = rate.NO_LIMIT,
        chain_head: head_duty.HeadTarget | None = None,
    ) -> None:
        self.model = model
        self.chain_head = chain_head  # where the event log's chain head is written out (bot/chain_head.py)
        self.unit_of_work = unit_of_work
        self.clock = clock
        self.chat = chat
        self.lang: Lang = lang or model.language
        self.sets = {s.name: s for s in sets}
        self.agenda_sources = AGENDA_SOURCES
        self.intake = intake
        self.telemetry = telemetry
        # The limit per person on writing commands (bot.rate); `samverkan run` sets it from SAMVERKAN_RATE_LIMIT.
        self.rate_limit = rate_limit
        self.runner = self.duty_runner(chat, worker, lease, group_finish=after is not None)
        self.bus = bus.Bus(self.runner, chat, self.plan, after)
        # The calendar's version this process last planned from, and when; see tick().
        self._planned: tuple[int, datetime] | None = None
        self._planning = threading.Lock()

    def duty_runner(self, chat: ChatPort, worker: str | None = None,
                    lease: timedelta = timedelta(seconds=15), group_finish: bool = False) -> DutyRunner:
        """A runner of this core's duties: the process's own, or (in tests) another process's on a shared
        database."""
        performers = {kind: _bound(performer, self) for kind, performer in PERFORMERS.items()}
        batches = {kind: functools.partial(performer, self) for kind, performer in BATCH_PERFORMERS.items()}
        return DutyRunner(self.unit_of_work, chat, performers, self.clock, lease=lease, worker=worker,
                          quiet=frozenset({bus.DELIVER}), telemetry=self.telemetry, group_finish=group_finish,
                          batches=batches)

    @property
    def texts(self) -> Texts:
        return Texts(self.lang)

    # -- commands -------------------------------------------------------------------------------------------------
    def handle(self, command: Command) -> None:
        """Receives and processes a command at once: the console's and the tests' way, where nobody waits for an
        acknowledgement in between."""
        if (entry := self.receive(command)) is not None:
            self.process(entry, command)

    def form_command(self, submission: Submission, received_at: datetime, trigger_id: str | None = None) -> Command:
        """A filled-in form as the command it stands for; an unknown form is a command nobody has. The trigger it
        was submitted with tells a redelivery of it."""
        name, words = FORMS.get(submission.action, ("unknown", lambda _: ""))
        return Command(name=name, text=words(submission), user_id=submission.user_id, trigger_id=trigger_id,
                       channel_id=submission.context.get("channel") or submission.user_id, received_at=received_at)

    def receive(self, command: Command) -> int | None:
        """Writes the command down; once this returns, it will be processed even if this process dies now. None
        when this very delivery was received before (a redelivery): there is nothing more to do. A server writes
        what arrives at once in groups (bot.intake)."""
        if self.intake is not None:
            return self.intake.receive(command)
        with self.unit_of_work() as uow:
            entry = uow.inbox.add(command)
            uow.commit()
        return entry

    def process(self, entry: int, command: Command | None = None) -> None:
        """Runs a received command to the end, exactly once however many processes try. The command is read from
        the inbox unless the caller (which just wrote it there) has it in hand."""
        started = time.perf_counter()
        if command is None:
            with self.unit_of_work(read_only=True) as uow:
                command = uow.inbox.get(entry)
            if command is None:
                return
        with following(command.request_id):
            outcome = self._process(entry, command)
            seconds = time.perf_counter() - started
            name, subcommand = self.command_label(command), self.subcommand(command)
            self.telemetry.command_done(name, subcommand, outcome, seconds)
            log.info("/%s %s by %s: %s in %.0f ms", name, subcommand, command.user_id, outcome,
                     seconds * 1000, extra={"command": name, "subcommand": subcommand,
                                            "user": command.user_id, "outcome": outcome,
                                            "duration_ms": round(seconds * 1000, 1), "entry": entry})

    def command_label(self, command: Command) -> str:
        """The command's name, for the log and the metrics: one of the commands there are, never the person's
        words (on Teams the first word of any message is a command's name)."""
        return command.name if command.name in self.sets else UNKNOWN

    def subcommand(self, command: Command) -> str:
        """The sub-command's name, for the log and the metrics: one of a known few, never the person's words."""
        commands = self.sets.get(command.name)
        first = (command.text.split() or ["help"])[0].lower()
        if commands is None:
            return UNKNOWN
        if first in HELP_WORDS:
            return "help"
        found = commands.find(first)
        return found.name if found else UNKNOWN

    def _process(self, entry: int, command: Command) -> str:
        """The command's work and its answer; returns the outcome, for the log."""
        t = self.texts
        person = None
        try:
            person, t = self._sender(command.user_id)
            with self.unit_of_work() as uow:
                if not uow.inbox.take(entry, self.clock.now()):
                    return "elsewhere"  # another process did it
                ctx = self._context(command, uow, person, t)
                self._spend(ctx, person)  # in this transaction: a command refused for its pace saves nothing
                self._run(ctx)
                home.after(ctx)  # what it wrote down shows on people's Homes
                duties = bus.persist(uow, ctx.events, command, self.clock.now(), self.runner.worker)
                uow.commit()
            self.bus.dispatch(ctx.events, duties, command)
            return "done"
        except Refused as refused:
            self._conclude(entry, command, [Answered(t(refused.key, **refused.values))], refused=refused,
                           person=person)
            # What this person may not see is, in the metrics and the log, what does not exist: one outcome for
            # both, or the count of refusals would tell that a record exists.
            return EXPLAINED if refused.hidden else "refused"
        except rate.Limited as limited:
            self._conclude(entry, command, [Answered(t(limited.key, **limited.values))])
            return "limited"
        except UserError as refused:
            self._conclude(entry, command, [Answered(t(refused.key, **refused.values))])
            return EXPLAINED
        except Exception:
            # The person gets a plain apology, the log gets the trace; the transaction was rolled back.
            log.exception("command /%s %r failed", command.name, command.text[:200])
            self._conclude(entry, command, [Answered(t("error.internal"))], failed=True)
            return "failed"

    def _sender(self, user_id: str) -> tuple[Person | None, Texts]:
        """Who sent the command, and in which language they read: one read for someone the directory knows and
        whose language is remembered (nearly every command); otherwise the chat platform is asked, outside any
        transaction, since that may take a round trip."""
        with self.unit_of_work(read_only=True) as uow:
            person = uow.directory.by_account(user_id)
            remembered = uow.languages.get(user_id)
        if person is not None and remembered is not None:
            return person, Texts(remembered.lang)
        return (recognise(self.unit_of_work, self.chat, user_id, self.clock),
                Texts(language.of(self, user_id)))  # the person's own; may ask the platform, once

    def _spend(self, ctx: Context, person: Person | None) -> None:
        """Takes a token of the sender's bucket for a command that writes or notifies (bot.rate), or raises
        rate.Limited."""
        if self.rate_limit is rate.NO_LIMIT:
            return
        party = self.model.party(person.party) if person is not None else None
        bucket = rate.bucket_of(ctx.command.name, self.subcommand(ctx.command), ctx.args,
                                oversight=bool(party and party.oversight))
        if bucket is not None:
            rate.spend(ctx.uow.rates, self.rate_limit, bucket, ctx.command.user_id, self.clock.now())

    def _context(self, command: Command, uow: UnitOfWork, person, t: Texts) -> Context:  # type: ignore[no-untyped-def]
        return Context(command=command, args=split_words(command.text), model=self.model, t=t, uow=uow,
                       clock=self.clock, person=person, agenda_sources=self.agenda_sources, channel_texts=self.texts)

    def _run(self, ctx: Context) -> None:
        commands = self.sets.get(ctx.command.name)
        if commands is None:
            raise UserError("help.unknown_command", command=ctx.command.name)
        commands.run(ctx)

    def _conclude(self, entry: int, command: Command, events: list[DomainEvent], failed: bool = False,
                  refused: Refused | None = None, person: Person | None = None) -> None:
        """A command that changed nothing still owes an answer, and is done with. A refusal by the permission
        matrix is written to the event log: who tried what, on what, and as what kind of person."""
        with self.unit_of_work() as uow:
            if not uow.inbox.take(entry, self.clock.now(), failed=failed):
                return
            if refused is not None:
                actor = person.key if person else f"user:{command.user_id}"
                uow.events.record(Event(self.clock.now(), actor, "permission.refused",
                                        refused.subject or f"/{refused.command}",
                                        {"command": f"/{refused.command} {refused.subcommand}",
                                         "user": command.user_id, "as": sorted(refused.kinds),
                                         "why": refused.key}))
            duties = bus.persist(uow, events, command, self.clock.now(), self.runner.worker)
            uow.commit()
        self.bus.dispatch(events, duties, command)

    def recover(self, older_than: timedelta = RECOVER_AFTER, limit: int = RECOVER_BATCH,
                skip: set[int] | frozenset[int] = frozenset(), waiting: list[int] | None = None) -> int:
        """Processes commands that were received but never processed: their process died. `skip` are entries this
        process holds and will get to; `waiting`, when given, the entries the caller found waiting."""
        if waiting is None:
            # Read-only: on SQLite it then takes no write lock; PostgreSQL still skips the rows being processed.
            with self.unit_of_work(read_only=True) as uow:
                waiting = uow.inbox.waiting(self.clock.now() - older_than, limit)
        waiting = [e for e in waiting if e not in skip]
        for entry in waiting:
            log.warning("processing command %s, received by a process that stopped before it was done", entry)
            self.process(entry)
        return len(waiting)

    # -- what falls due -------------------------------------------------------------------------------------------
    def plan(self, now: datetime | None = None, version: int | None = None) -> None:
        """Writes down the duties that will fall due (reminders and the like). Idempotent. `version` is the
        calendar's version the caller read before: the plan is at least as new as that."""
        now = now or self.clock.now()
        if version is None:
            with self.unit_of_work(read_only=True) as uow:
                version = uow.forum.calendar_version()
        for planner in PLANNERS:
            planner(self, now)
        with self._planning:
            # Read before planning: a change committed meanwhile has a later version, and is planned next tick.
            if self._planned is None or version >= self._planned[0]:
                self._planned = (version, now)

    def planned(self, version: int, now: datetime) -> bool:
        """Whether this process's plan still stands: made from this version of the calendar, within the last
        REPLAN_EVERY (the horizon moves on as time passes)."""
        planned = self._planned
        return planned is not None and planned[0] == version and planned[1] <= now < planned[1] + REPLAN_EVERY

    def tick(self, skip: set[int] | frozenset[int] = frozenset()) -> int:
        """What the scheduler does every second; returns how many duties this process performed. It plans anew
        when the calendar changed (in this process or another: its version is in the database) or REPLAN_EVERY
        has passed, processes the commands of a process that died (but the entries in `skip`, this process's own
        backlog) and performs what is due. When nothing changed and nothing is due that is one read of one statement
        (UnitOfWork.glance)."""
        now = self.clock.now()
        with self.unit_of_work(read_only=True) as uow:
            seen = uow.glance()
            version = seen.calendar
            waiting = (uow.inbox.waiting(now - RECOVER_AFTER, RECOVER_BATCH)
                       if seen.oldest_waiting is not None and seen.oldest_waiting < now - RECOVER_AFTER else [])
            due = seen.next_due is not None and seen.next_due <= now
            stale = seen.oldest_claim is not None and seen.oldest_claim < now - self.runner.lease
            look: Look | None = self.runner.look(uow) if due or stale else Look([], [])
        if not self.planned(version, now):
            try:
                self.plan(now, version)
            except Exception:
                # Planning must not keep what is already due from being done; nor be tried again every second.
                log.exception("could not plan what falls due; trying again in %s", PLAN_RETRY)
                with self._planning:
                    self._planned = (version, now - REPLAN_EVERY + PLAN_RETRY)
            look = None  # what the plan made due is looked for again
        self.recover(skip=skip, waiting=waiting)
        return self.runner.sweep(look)


def _bound(performer, core: Samverkan):  # type: ignore[no-untyped-def]
    # Delivery needs only the chat; the capabilities' performers read the model and the store through the core.
    return performer if performer is bus.deliver else functools.partial(performer, core)
