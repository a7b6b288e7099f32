"""What the scheduler's per-second tick costs: with nothing changed, and the tick after another process changed the
calendar.

    .venv/bin/python -m benchmarks.planning [--backend sqlite|postgres|both] [--ticks 3000] [--changes 20]

Two cores ("this process" and "another process", each with its own engine) share a fresh database: the shipped
model, its directory, reminders planned, and `--stored` duties planned for later (escalations, as a busy bot has).
This process ticks (`Samverkan.tick`, what APScheduler calls every second: plan if the calendar changed or five
minutes passed, recover dead commands, sweep what is due) `--ticks` times, the manual clock one second further each
time, nothing else happening. Then, `--changes` times, the other process adds an extra sitting with `/forum extra` and
dies before planning it itself, and this process's next tick must plan its reminders: the benchmark checks that it
did, and times that tick. For comparison it times a plan alone, which every tick cost when the tick planned on every
call. PostgreSQL is started from the installed binaries, as the tests do.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert

from bot.app import Samverkan
from bot.chat import Command
from bot.clock import STOCKHOLM, ManualClock
from bot.directory.seed import seed_directory
from bot.disagreement.escalation import ESCALATE
from bot.forum.calendar import is_working_day
from bot.forum.reminders import REMINDER
from bot.model import load_model
from storage.db import make_engine, migrate, session_factory
from storage.models import DutyRow
from storage.uow import SqlUnitOfWork
from tests.fakes.recording_chat import RecordingChat

# At night: no reminder falls due in the hour the quiet ticks cover, so they show the tick itself.
START = datetime(2027, 1, 11, 1, 0, tzinfo=STOCKHOLM)
EVA = "U01EVALIND"  # the City's chair of Kontraktsforum
TARGET_MS = 1.0  # the tick with nothing changed (issue 12)
PERIOD_MS = 1000.0  # the scheduler ticks every second: a change is planned by the next tick


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def core_on(url: str, clock: ManualClock) -> Samverkan:
    """A process: its own engine and core on the shared database."""
    model = load_model()
    sessions = session_factory(make_engine(url))

    def unit_of_work(read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions, read_only)

    return Samverkan(model, unit_of_work, clock, RecordingChat(), lang="sv")


def seed(url: str, stored: int) -> None:
    engine = make_engine(url)
    migrate(engine)
    with SqlUnitOfWork(session_factory(engine)) as uow:
        seed_directory(uow, load_model(), START)
        uow.commit()
    later = START + timedelta(days=60)
    with engine.begin() as connection:
        for first in range(0, stored, 10_000):
            connection.execute(insert(DutyRow), [
                {"key": f"{ESCALATE}:{n}:1", "kind": ESCALATE, "due_at": later + timedelta(minutes=n),
                 "not_after": None, "payload": {"id": n, "level": 1}, "state": "pending", "attempts": 0, "note": ""}
                for n in range(first, min(first + 10_000, stored))])
    engine.dispose()


def counting_plans(core: Samverkan) -> list[int]:
    """Counts this core's plans, however they come about."""
    plans = [0]
    plan = core.plan

    def counted(now: datetime | None = None, version: int | None = None) -> None:
        plans[0] += 1
        plan(now, version)

    core.plan = counted  # type: ignore[method-assign]
    return plans


def working_days(after: date, count: int) -> list[date]:
    days: list[date] = []
    day = after
    while len(days) < count:
        day += timedelta(days=1)
        if is_working_day(day):
            days.append(day)
    return days


def run(backend: str, url: str, ticks: int, changes: int, stored: int) -> None:
    started = time.perf_counter()
    seed(url, stored)
    clock = ManualClock(START)
    this, other = core_on(url, clock), core_on(url, clock)
    this.tick()
    other.tick()
    # What a running process has loaded long before: the message catalogue, for the other's commands.
    assert this.texts.text("forum.extra_added", forum="", when="", by="")
    seeded = time.perf_counter() - started
    plans = counting_plans(this)

    # 1. Nothing changes: one tick a second.
    quiet, quiet_cpu = [], []
    performed = 0
    for _ in range(ticks):
        clock.advance(timedelta(seconds=1))
        began, cpu = time.perf_counter(), time.process_time()
        performed += this.tick()
        quiet_cpu.append(time.process_time() - cpu)
        quiet.append(time.perf_counter() - began)
    periodic = plans[0]
    assert performed == 0, f"{performed} duties fell due in the quiet hour"

    # 2. Another process changes the calendar and dies before planning it: this process's next tick plans it.
    other.bus.replan = lambda: None  # type: ignore[method-assign]
    after = []
    for day in working_days(clock.now().date(), changes):
        clock.advance(timedelta(seconds=1))
        other.handle(Command(name="forum", text=f"extra kontraktsforum {day.isoformat()} 14:00", user_id=EVA,
                             channel_id="C0CONSOLE", received_at=clock.now()))
        assert "extra sammanträde" in other.chat.last_reply, other.chat.last_reply  # type: ignore[attr-defined]
        before = plans[0]
        clock.advance(timedelta(seconds=1))
        began = time.perf_counter()
        this.tick()
        after.append(time.perf_counter() - began)
        assert plans[0] == before + 1, "the tick after a change did not plan"
        with this.unit_of_work(read_only=True) as uow:
            start = datetime(day.year, day.month, day.day, 14, tzinfo=STOCKHOLM).astimezone(UTC)
            assert any(f":{start:%Y%m%dT%H%M%SZ}:extra:" in key
                       for key in uow.duties.pending_keys(f"{REMINDER}:kontraktsforum:")), "not planned"

    # 3. For comparison: planning alone, which every tick paid when it planned on every call.
    alone = []
    for _ in range(10):
        began = time.perf_counter()
        this.plan()
        alone.append(time.perf_counter() - began)

    median, p99 = statistics.median(quiet) * 1000, percentile(quiet, 99) * 1000
    changed = statistics.median(after) * 1000
    print(f"{backend:8} seeded in {seeded:4.1f} s, {stored:,} duties planned for later | nothing changed, "
          f"{ticks:,} ticks a second apart ({periodic} planned: five minutes had passed): median {median:.3f} ms, "
          f"p99 {p99:.3f} ms, max {max(quiet) * 1000:.1f} ms (target {TARGET_MS:g} ms: median "
          f"{median / TARGET_MS:.2f}x, p99 {p99 / TARGET_MS:.2f}x; this process's CPU median "
          f"{statistics.median(quiet_cpu) * 1000:.3f} ms, p99 "
          f"{percentile(quiet_cpu, 99) * 1000:.3f} ms)", flush=True)
    print(f"{backend:8} the tick after another process changed the calendar ({changes} changes, each planned by that "
          f"tick): median {changed:.1f} ms, max {max(after) * 1000:.1f} ms (within the {PERIOD_MS:g} ms period: "
          f"{changed / PERIOD_MS:.3f}x) | a plan alone (what every tick cost when it planned on every call): median "
          f"{statistics.median(alone) * 1000:.1f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--ticks", type=int, default=3000)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--stored", type=int, default=10_000)
    args = parser.parse_args()
    backends: list[tuple[str, Callable[[], str]]] = []
    if args.backend in ("sqlite", "both"):
        folder = tempfile.mkdtemp(prefix="samverkan-bench-")
        backends.append(("sqlite", lambda: f"sqlite:///{folder}/planning.db"))
    server = None
    if args.backend in ("postgres", "both"):
        from tests.postgres_server import PostgresServer

        server = PostgresServer.from_env()
        server.start()
        backends.append(("postgres", lambda: server.create_database(f"planning_{int(time.time())}")))
    try:
        for backend, url in backends:
            run(backend, url(), args.ticks, args.changes, args.stored)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
