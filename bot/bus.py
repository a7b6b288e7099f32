"""What happens after a commit, in one place.

A use case emits domain events while its transaction is open. Before the commit, `persist` turns every message into
a delivery duty in that same transaction: what the command has to say is then as durable as what it changed, and a
process killed after the commit leaves the saying to the next sweep. After the commit, `dispatch` does the rest
at once, outside any transaction: it delivers the messages, starts planned work, plans reminders anew, opens forms.
A changed calendar is also written down as a new version of it, so that the other processes plan anew too.
"""

from __future__ import annotations

import contextvars
import logging
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from datetime import datetime, timedelta

from bot.chat import ChatPort, Command
from bot.domain_events import Answered, CalendarChanged, DomainEvent, FormWanted, Messaged, Posted, WorkPlanned
from bot.duties import Duty, DutyRunner, OnceChat, Outcome
from bot.message import from_json, to_json

log = logging.getLogger(__name__)

DELIVER = "chat.deliver"
# Slack's response_url answers for 30 minutes; an answer owed longer than that goes as a direct message.
RESPONSE_URL_LIFETIME = timedelta(minutes=29)


def _delivery(event: Answered | Posted | Messaged, command: Command | None, now: datetime, n: int) -> Duty:
    payload: dict[str, object] = {"message": to_json(event.message)}
    match event:
        case Answered():
            assert command is not None, "an answer needs the command it answers"
            payload.update(to="answer", command=command.model_dump(mode="json"))
        case Posted(channel):
            payload.update(to="post", channel=channel)
        case Messaged(user_id, _, email):
            payload.update(to="direct", user=user_id, email=email)
    return Duty(f"{DELIVER}:{uuid.uuid4().hex}:{n}", DELIVER, now, payload=payload)


def persist(uow, events: Sequence[DomainEvent], command: Command | None, now: datetime,  # type: ignore[no-untyped-def]
            worker: str) -> list[Duty]:
    """Plans, in the open transaction, the duties the events stand for: one delivery per message, in order, claimed
    by this worker, which delivers them the moment the transaction is committed (and the sweep if it dies first).
    A changed calendar bumps its version in the same transaction: every process's tick sees it and plans anew."""
    duties = []
    changed = False
    for n, event in enumerate(events):
        if isinstance(event, Answered | Posted | Messaged):
            duty = _delivery(event, command, now, n)
            uow.duties.plan(duty, claimed_by=worker, at=now)
            duties.append(duty)
        elif isinstance(event, WorkPlanned):
            duties.append(event.duty)
        elif isinstance(event, CalendarChanged):
            changed = True
    if changed:
        uow.forum.calendar_changed()
    return duties


def deliver(duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    """The performer of a delivery: a message the core owes someone, said once."""
    message = from_json(duty.payload["message"])
    match duty.payload["to"]:
        case "answer":
            command = Command.model_validate(duty.payload["command"])
            if now - command.received_at < RESPONSE_URL_LIFETIME:
                once.chat.reply(command, message)
            else:
                # Recovered after Slack's response URL expired: the person still gets their answer.
                once.direct(command.user_id, message)
        case "post":
            once.post(duty.payload["channel"], message)
        case "direct":
            user = duty.payload.get("user") or once.chat.find_user_by_email(duty.payload.get("email") or "")
            if not user:
                return "dropped"  # nobody on the platform has the address: there is no one to tell
            once.direct(user, message)
    return "done"


class Bus:
    """`after`, when given, does the work after the commit on threads of its own, so the thread that did the
    command is free for the next one while Slack takes its time (a server: many threads, mostly waiting on Slack).
    Without it the work is done at once, in order (the console and the tests)."""

    def __init__(self, runner: DutyRunner, chat: ChatPort, replan: Callable[[], None],
                 after: Executor | None = None) -> None:
        self.runner = runner
        self.chat = chat
        self.replan = replan
        self.after = after

    def dispatch(self, events: Sequence[DomainEvent], duties: Sequence[Duty], command: Command | None) -> None:
        if self.after is None:
            self._do(events, duties, command)
            return
        try:
            # The request id (bot.telemetry) goes along, so the delivery's log lines belong to the command.
            self.after.submit(contextvars.copy_context().run, self._do, events, duties, command)
        except RuntimeError:
            # Shutting down: what was planned is in the database, and the next sweep does it.
            log.warning("not delivering after the commit now: shutting down; the sweep will")

    def _do(self, events: Sequence[DomainEvent], duties: Sequence[Duty], command: Command | None) -> None:
        for duty in duties:
            try:
                if duty.kind == DELIVER:
                    self.runner.perform_claimed(duty)
                else:
                    self.runner.perform_planned(duty)
            except Exception:
                # Still planned: the sweep performs it.
                log.exception("could not perform %s after the commit", duty.key)
        for event in events:
            try:
                match event:
                    case CalendarChanged():
                        self.replan()
                    case FormWanted(form) if command is not None:
                        # A form lives for seconds (Slack's trigger): not durable, the person can ask again.
                        if not self.chat.open_form(command, form):
                            log.warning("the form %s could not be shown", form.action)
            except Exception:
                log.exception("could not act on %s after the commit", type(event).__name__)
