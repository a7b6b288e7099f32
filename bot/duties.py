"""Things that must happen exactly once: a reminder at its time, an escalation, a war room's assembly, a message
that a committed command owes someone.

The database is the source of truth for what is due; a scheduler only says "look now". Each duty is claimed with a
conditional update, so of two processes (or a sweep racing a restart) exactly one performs it. A claim is dated by
the clock when it is made and renewed by a heartbeat while the work is in flight, so only a claim whose process has
stopped renewing it (it died) is ever taken over. The taker-over checks what the chat already shows, through the
keys the messages carry, instead of posting twice.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple, Protocol

from bot.chat import ChatPort, Undeliverable
from bot.clock import Clock
from bot.events import Event
from bot.finishing import GroupFinisher
from bot.message import Message
from bot.telemetry import SILENT, Telemetry

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
    def plan(self, duty: Duty, claimed_by: str | None = None, at: datetime | None = None) -> bool:
        """Adds the duty unless one with its key exists in any state; True when added. With `claimed_by`, a duty
        with a key nobody else can have is added already claimed by that worker, which performs it at once."""
        ...

    def unplan(self, key: str) -> bool:
        """Withdraws a duty that has not been claimed; True when withdrawn."""
        ...

    def pending_keys(self, prefix: str, kind: str | None = None) -> set[str]:
        """The keys of pending duties that start with the prefix; `kind`, when the caller knows the duties' kind,
        has them read among that kind's only."""
        ...

    def get(self, key: str) -> Duty | None: ...

    def due(self, now: datetime, limit: int) -> list[Duty]:
        """Pending duties due by now, oldest first. Cost grows with the number due, not the number planned."""
        ...

    def plan_many(self, duties: Sequence[Duty]) -> None:
        """Adds, in one go, each duty whose key no duty has yet."""
        ...

    def claim(self, key: str, worker: str, now: datetime) -> bool: ...

    def claim_many(self, keys: Sequence[str], worker: str, now: datetime) -> set[str]:
        """Claims, in one go, those of these duties that are still pending and due by now; returns their keys. Of
        several workers claiming the same duty, exactly one gets it, as with `claim`."""
        ...

    def renew(self, keys: list[str], worker: str, now: datetime) -> int:
        """Dates this worker's claims on these duties anew; returns how many it still holds."""
        ...

    def stale(self, claimed_before: datetime, limit: int) -> list[tuple[Duty, datetime]]:
        """Claimed duties whose claim was last dated before then, with that date: their performer died."""
        ...

    def reclaim(self, key: str, worker: str, now: datetime, claimed_at: datetime) -> bool: ...

    def retry(self, key: str, worker: str, at: datetime, note: str) -> None:
        """Gives a failed duty back, due again at `at`."""
        ...

    def finish(self, key: str, worker: str, outcome: Outcome, now: datetime, note: str = "") -> bool:
        """Records the outcome if this worker still holds the claim."""
        ...

    def finish_many(self, outcomes: Mapping[str, tuple[Outcome, str]], worker: str, now: datetime) -> set[str]:
        """Records each duty's outcome and note where this worker still holds its claim; returns those keys."""
        ...

    def due_counts(self, now: datetime) -> dict[str, int]:
        """How many duties of each kind are due and not taken up (for the operators' metrics)."""
        ...


class OnceChat:
    """Posts that carry a duty's key. When recovering a duty whose performer died, a post the chat already shows
    is not made again."""

    def __init__(self, chat: ChatPort, key: str, recovering: bool) -> None:
        self.chat = chat
        self.key = key
        self.recovering = recovering

    def _key(self, part: str) -> str:
        return f"{self.key}#{part}" if part else self.key

    def post(self, channel: str, message: Message, part: str = "") -> str:
        key = self._key(part)
        if self.recovering and (ref := self.chat.find_posted(channel, key)):
            log.info("duty %s already posted in %s before a restart; not posting again", key, channel)
            return ref
        return self.chat.post(channel, message, key=key)

    def direct(self, user_id: str, message: Message, part: str = "") -> str:
        key = self._key(part)
        if self.recovering and (ref := self.chat.find_posted(user_id, key)):
            return ref
        return self.chat.direct(user_id, message, key=key)


# A performer does the duty's work in its own transactions and says, through OnceChat, what it has to say.
Performer = Callable[[Duty, datetime, OnceChat], Outcome]
# A batch performer does many duties of one kind at once: the work of all of them in one transaction (their reads
# in bulk, their writes together), then what each has to say through its own OnceChat. It returns, by key, each
# duty's outcome, or the exception that stopped that duty (which is then given back and tried again, as a
# performer's exception is). An exception it raises stops them all.
BatchPerformer = Callable[[Sequence[Duty], datetime, Mapping[str, OnceChat]], Mapping[str, "Outcome | Exception"]]


class Look(NamedTuple):
    stale: list[tuple[Duty, datetime]]
    due: list[Duty]


def stamp(instant: datetime) -> str:
    """An instant as it stands in a duty's key (UTC, to the second): a key with it names one moment for good."""
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... seconds after the `attempts`-th failure, at most a minute: a Slack hiccup heals in seconds,
    an outage is not hammered."""
    return timedelta(seconds=min(2 ** attempts, 60))


class DutyRunner:
    def __init__(self, store: Callable[[], Any], chat: ChatPort, performers: Mapping[str, Performer], clock: Clock,
                 lease: timedelta = timedelta(seconds=30), worker: str | None = None, batch: int = 200,
                 max_attempts: int = 8, quiet: frozenset[str] = frozenset(),
                 telemetry: Telemetry = SILENT, group_finish: bool = False,
                 batches: Mapping[str, BatchPerformer] | None = None, part: int = 100) -> None:
        """`store` opens a unit of work that has `.duties`, `.events` and `.commit()`. Duties of `quiet` kinds
        (message deliveries) are written to the event log only when they fail; with `group_finish` (a server)
        their being done is written in groups (bot.finishing). The sweep claims the due duties of a kind that has
        a batch performer together, `part` at a time, and performs and finishes them together."""
        self.unit_of_work = store
        self.chat = chat
        self.performers = performers
        self.batches = dict(batches or {})
        self.part = part
        self.clock = clock
        self.lease = lease
        self.worker = worker or f"worker-{uuid.uuid4().hex[:8]}"
        self.batch = batch
        self.max_attempts = max_attempts
        self.quiet = quiet
        self.telemetry = telemetry
        self._held: set[str] = set()
        self._held_lock = threading.Lock()
        self._heartbeat: threading.Thread | None = None
        self._stopping = threading.Event()
        self._finisher = GroupFinisher(store, self.worker) if group_finish else None

    # -- the heartbeat --------------------------------------------------------------------------------------------
    def start_heartbeat(self, every: float | None = None) -> None:
        """Renews this worker's claims every `every` seconds (a third of the lease unless told), so a live process
        never loses a claim however long its Slack calls take."""
        interval = every if every is not None else self.lease.total_seconds() / 3

        def beat() -> None:
            while not self._stopping.wait(interval):
                try:
                    self.renew()
                except Exception:
                    log.exception("could not renew the claims of %s", self.worker)

        self._heartbeat = threading.Thread(target=beat, name=f"heartbeat-{self.worker}", daemon=True)
        self._heartbeat.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=5)
        finisher, self._finisher = self._finisher, None  # from now on each is written at once
        if finisher is not None:
            finisher.close()

    def renew(self) -> int:
        with self._held_lock:
            keys = sorted(self._held)
        if not keys:
            return 0
        with self.unit_of_work() as uow:
            held = uow.duties.renew(keys, self.worker, self.clock.now())
            uow.commit()
        return held

    def holding(self) -> set[str]:
        with self._held_lock:
            return set(self._held)

    # -- sweeping -------------------------------------------------------------------------------------------------
    def look(self, uow: Any) -> Look:
        """What a sweep would do now, read in the caller's unit of work: the claims of dead performers to take
        over and the duties due."""
        return Look(uow.duties.stale(self.clock.now() - self.lease, self.batch),
                    uow.duties.due(self.clock.now(), self.batch))

    def sweep(self, look: Look | None = None) -> int:
        """Performs every duty due now that nobody else has, as `look` found them if given (read just before, in
        a transaction of the caller's); returns how many this worker performed."""
        done = 0
        if look is None:
            with self.unit_of_work(read_only=True) as uow:
                look = self.look(uow)
        stale, due = look
        for duty, claimed_at in stale:
            # Each claim is dated when it is made: a sweep that has run for a while must not look old.
            if self._claim(lambda uow, d=duty, c=claimed_at: uow.duties.reclaim(d.key, self.worker, self.clock.now(),
                                                                                c)):
                self.telemetry.claim_taken_over(duty.kind)
                done += self._perform(duty, recovering=True)
        batched: set[str] = set()
        for duty in due:
            if duty.kind in self.batches:
                # The first of a kind in due order brings the rest of its kind in this sweep with it.
                if duty.kind not in batched:
                    batched.add(duty.kind)
                    done += self._sweep_batch(duty.kind, [d for d in due if d.kind == duty.kind])
            elif self._claim(lambda uow, d=duty: uow.duties.claim(d.key, self.worker, self.clock.now())):
                done += self._perform(duty, recovering=False)
        return done

    def _sweep_batch(self, kind: str, duties: list[Duty]) -> int:
        """Claims the duties a part at a time, each part in one statement, and performs those this worker won
        together. In parts, so that another process sweeping at the same time takes the parts this one has not
        come to yet, instead of waiting while this one says everything."""
        done = 0
        for first in range(0, len(duties), self.part):
            part = duties[first:first + self.part]
            with self.unit_of_work() as uow:
                won = uow.duties.claim_many([d.key for d in part], self.worker, self.clock.now())
                uow.commit()
            mine = [d for d in part if d.key in won]
            if not mine:
                continue
            with self._held_lock:
                self._held.update(won)
            try:
                done += self._run_batch(kind, mine)
            finally:
                with self._held_lock:
                    self._held.difference_update(won)
        return done

    def _run_batch(self, kind: str, duties: list[Duty]) -> int:
        """As `_run`, for many duties of one kind: the same checks, one call of the batch performer, the failures
        given back one by one and the outcomes recorded together."""
        now = self.clock.now()
        finished: dict[str, tuple[Duty, Outcome, str]] = {}
        runnable = []
        for duty in duties:
            if duty.attempts >= self.max_attempts:
                finished[duty.key] = (duty, "dropped", f"gave up after {duty.attempts} attempts")
                log.error("dropped %s: %s", duty.key, finished[duty.key][2])
            elif duty.not_after is not None and now >= duty.not_after:
                finished[duty.key] = (duty, "dropped", "too late")
                log.warning("dropped %s: too late", duty.key)
            else:
                runnable.append(duty)
        failed: dict[str, tuple[Duty, Exception]] = {}
        if runnable:
            onces = {d.key: OnceChat(self.chat, d.key, d.attempts > 0) for d in runnable}
            try:
                results = self.batches[kind](runnable, now, onces)
            except Exception as exc:
                results = {d.key: exc for d in runnable}
            for duty in runnable:
                result = results.get(duty.key, RuntimeError(f"the batch performer said nothing of {duty.key}"))
                if isinstance(result, Undeliverable):
                    finished[duty.key] = (duty, "dropped", f"refused by the platform: {result}")
                    log.error("dropped %s: the platform refuses its message (%s)", duty.key, result)
                elif isinstance(result, Exception):
                    failed[duty.key] = (duty, result)
                else:
                    finished[duty.key] = (duty, result, "")
        if failed:
            self._give_back(list(failed.values()))
        return self._finish_many(list(finished.values()))

    def _give_back(self, failures: list[tuple[Duty, Exception]]) -> None:
        with self.unit_of_work() as uow:
            for duty, exc in failures:
                retry_at = self.clock.now() + backoff(duty.attempts)
                log.warning("duty %s failed (attempt %d), retrying at %s: %s", duty.key, duty.attempts,
                            retry_at.isoformat(), exc, exc_info=exc)
                uow.duties.retry(duty.key, self.worker, retry_at, f"{type(exc).__name__}: {exc}"[:300])
            uow.commit()
        now = self.clock.now()
        for duty, _ in failures:
            self.telemetry.duty_done(duty.kind, "retry", (now - duty.due).total_seconds())

    def _finish_many(self, finished: list[tuple[Duty, Outcome, str]]) -> int:
        if not finished:
            return 0
        now = self.clock.now()
        with self.unit_of_work() as uow:
            mine = uow.duties.finish_many({d.key: (outcome, note) for d, outcome, note in finished}, self.worker,
                                          now)
            uow.events.record_many([Event(now, self.worker, f"duty.{outcome}", duty.key[:300],
                                          {"kind": duty.kind, "due": duty.due.isoformat(), "note": note})
                                    for duty, outcome, note in finished
                                    if duty.key in mine and (duty.kind not in self.quiet or outcome != "done")])
            uow.commit()
        for duty, outcome, _ in finished:
            if duty.key in mine:
                self.telemetry.duty_done(duty.kind, outcome, (now - duty.due).total_seconds())
        return sum(1 for d, outcome, _ in finished if outcome == "done" and d.key in mine)

    def perform_planned(self, duty: Duty) -> int:
        """Performs one planned duty at once when this worker wins its claim: for work that should not wait for
        the next sweep (a war room being assembled, a command's answer), yet is resumed by a sweep if this
        process dies."""
        if self._claim(lambda uow: uow.duties.claim(duty.key, self.worker, self.clock.now())):
            return self._perform(duty, recovering=False)
        return 0

    def perform_claimed(self, duty: Duty) -> int:
        """Performs a duty this worker planned as claimed, in the transaction that made it necessary."""
        return self._perform(duty, recovering=False)

    def _claim(self, attempt: Callable[[Any], bool]) -> bool:
        with self.unit_of_work() as uow:
            won = attempt(uow)
            uow.commit()
        return won

    def _perform(self, duty: Duty, recovering: bool) -> int:
        with self._held_lock:
            self._held.add(duty.key)
        try:
            return self._run(duty, recovering)
        finally:
            with self._held_lock:
                self._held.discard(duty.key)

    def _run(self, duty: Duty, recovering: bool) -> int:
        performer = self.performers.get(duty.kind)
        now = self.clock.now()  # the time of the decision, not of the sweep
        if duty.attempts >= self.max_attempts:  # the attempts before this claim
            return self._finish(duty, "dropped", f"gave up after {duty.attempts} attempts", log.error)
        if duty.not_after is not None and now >= duty.not_after:
            return self._finish(duty, "dropped", "too late", log.warning)
        if performer is None:
            return self._finish(duty, "dropped", "no performer", log.error)
        try:
            outcome = performer(duty, now, OnceChat(self.chat, duty.key, recovering or duty.attempts > 0))
        except Undeliverable as exc:
            # The platform refuses the message as it is, even cut to its limits: another try is refused alike.
            return self._finish(duty, "dropped", f"refused by the platform: {exc}", log.error)
        except Exception as exc:
            # Given back at once, due again within seconds: a passing failure heals quickly, and the next try
            # looks at what the chat already shows.
            retry_at = self.clock.now() + backoff(duty.attempts)
            log.warning("duty %s failed (attempt %d), retrying at %s: %s", duty.key, duty.attempts,
                        retry_at.isoformat(), exc, exc_info=True)
            with self.unit_of_work() as uow:
                uow.duties.retry(duty.key, self.worker, retry_at, f"{type(exc).__name__}: {exc}"[:300])
                uow.commit()
            self.telemetry.duty_done(duty.kind, "retry", (now - duty.due).total_seconds())
            return 0
        return self._finish(duty, outcome, "", None)

    def _finish(self, duty: Duty, outcome: Outcome, note: str, say: Callable[..., None] | None) -> int:
        if say is not None:
            say("%s %s: %s", outcome, duty.key, note)
        now = self.clock.now()
        if (finisher := self._finisher) is not None and duty.kind in self.quiet and outcome == "done":
            finisher.mark(duty.key, outcome, now)
            self.telemetry.duty_done(duty.kind, outcome, (now - duty.due).total_seconds())
            return 1
        with self.unit_of_work() as uow:
            mine = uow.duties.finish(duty.key, self.worker, outcome, now, note)
            if mine and (duty.kind not in self.quiet or outcome != "done"):
                uow.events.record(Event(now, self.worker, f"duty.{outcome}", duty.key[:300],
                                        {"kind": duty.kind, "due": duty.due.isoformat(), "note": note}))
            uow.commit()
        if mine:
            self.telemetry.duty_done(duty.kind, outcome, (now - duty.due).total_seconds())
        return 1 if outcome == "done" and mine else 0
