"""Things that must happen exactly once at a given time: reminders, escalations, overdue-update nudges.

The database is the source of truth for what is due; a scheduler only says "look now". Each duty is claimed with a
conditional update, so of two processes (or a sweep racing a restart) exactly one performs it. Its messages carry
the duty's key, so a duty whose performer died mid-way is finished by checking what the chat already shows
instead of posting twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from bot.chat import ChatPort
from bot.events import Event

log = logging.getLogger(__name__)

Outcome = Literal["done", "dropped"]


@dataclass(frozen=True)
class Duty:
    key: str  # unique for what it is, e.g. "forum.reminder:kontraktsforum:20270119T0900Z:7d"
    kind: str  # selects the performer
    due: datetime
    not_after: datetime | None = None  # past this it is dropped, not done late
    payload: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0


class DutyStore(Protocol):
    def plan(self, duty: Duty) -> bool:
        """Adds the duty unless one with its key exists in any state; True when added."""
        ...

    def unplan(self, key: str) -> bool:
        """Withdraws a duty that has not been claimed; True when withdrawn."""
        ...

    def pending_keys(self, prefix: str) -> set[str]: ...

    def due(self, now: datetime, limit: int) -> list[Duty]:
        """Pending duties due by now, oldest first. Cost grows with the number due, not the number planned."""
        ...

    def claim(self, key: str, worker: str, now: datetime) -> bool: ...

    def stale(self, claimed_before: datetime, limit: int) -> list[tuple[Duty, datetime]]:
        """Claimed duties never finished, with their claim time: their performer died."""
        ...

    def reclaim(self, key: str, worker: str, now: datetime, claimed_at: datetime) -> bool: ...

    def finish(self, key: str, outcome: Outcome, now: datetime, note: str = "") -> None: ...


class OnceChat:
    """Posts that carry a duty's key. When recovering a duty whose performer died, a post the chat already shows
    is not made again."""

    def __init__(self, chat: ChatPort, key: str, recovering: bool) -> None:
        self.chat = chat
        self.key = key
        self.recovering = recovering

    def post(self, channel: str, text: str, part: str = "") -> None:
        key = f"{self.key}#{part}" if part else self.key
        if self.recovering and self.chat.was_posted(channel, key):
            log.info("duty %s already posted in %s before a restart; not posting again", key, channel)
            return
        self.chat.post(channel, text, key=key)

    def direct(self, user_id: str, text: str, part: str = "") -> None:
        key = f"{self.key}#{part}" if part else self.key
        if self.recovering and self.chat.was_posted(user_id, key):
            return
        self.chat.direct(user_id, text, key=key)


# A performer does the duty's work in its own transaction and says, through OnceChat, what it has to say.
Performer = Callable[[Duty, datetime, OnceChat], Outcome]


class DutyRunner:
    def __init__(self, store: Callable[[], Any], chat: ChatPort, performers: Mapping[str, Performer],
                 lease: timedelta = timedelta(minutes=2), worker: str | None = None, batch: int = 200,
                 max_attempts: int = 5) -> None:
        """`store` opens a unit of work that has `.duties` and `.commit()`."""
        self.unit_of_work = store
        self.chat = chat
        self.performers = performers
        self.lease = lease
        self.worker = worker or f"worker-{uuid.uuid4().hex[:8]}"
        self.batch = batch
        self.max_attempts = max_attempts

    def sweep(self, now: datetime) -> int:
        """Performs every duty due by `now` that nobody else has; returns how many this worker performed."""
        done = 0
        with self.unit_of_work() as uow:
            stale = uow.duties.stale(now - self.lease, self.batch)
            due = uow.duties.due(now, self.batch)
        for duty, claimed_at in stale:
            with self.unit_of_work() as uow:
                won = uow.duties.reclaim(duty.key, self.worker, now, claimed_at)
                uow.commit()
            if won:
                done += self._perform(duty, now, recovering=True)
        for duty in due:
            with self.unit_of_work() as uow:
                won = uow.duties.claim(duty.key, self.worker, now)
                uow.commit()
            if won:
                done += self._perform(duty, now, recovering=False)
        return done

    def perform_planned(self, duty: Duty, now: datetime) -> int:
        """Performs one planned duty at once when this worker wins its claim: for work that should not wait for
        the next sweep (a war room being assembled), yet must be resumed by a sweep if this process dies."""
        with self.unit_of_work() as uow:
            won = uow.duties.claim(duty.key, self.worker, now)
            uow.commit()
        return self._perform(duty, now, recovering=False) if won else 0

    def _perform(self, duty: Duty, now: datetime, recovering: bool) -> int:
        performer = self.performers.get(duty.kind)
        if duty.attempts > self.max_attempts:
            outcome: Outcome = "dropped"
            note = f"gave up after {duty.attempts} attempts"
            log.error("giving up on %s after %d attempts", duty.key, duty.attempts)
        elif duty.not_after is not None and now >= duty.not_after:
            outcome = "dropped"
            note = "too late"
            log.warning("dropped %s: due %s, its moment passed at %s", duty.key, duty.due, duty.not_after)
        elif performer is None:
            outcome, note = "dropped", "no performer"
            log.error("no performer for duty kind %s (%s)", duty.kind, duty.key)
        else:
            try:
                outcome = performer(duty, now, OnceChat(self.chat, duty.key, recovering))
                note = ""
            except Exception:
                # Left claimed: after the lease another sweep retries it, checking what was already posted.
                log.exception("duty %s failed; it will be retried after %s", duty.key, self.lease)
                return 0
        with self.unit_of_work() as uow:
            uow.duties.finish(duty.key, outcome, now, note)
            uow.events.record(Event(now, self.worker, f"duty.{outcome}", duty.key[:300],
                                    {"kind": duty.kind, "due": duty.due.isoformat(), "note": note}))
            uow.commit()
        return 1 if outcome == "done" else 0
