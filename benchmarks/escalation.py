"""How the disagreement capability scales: the escalation sweep and the paginated list.

    .venv/bin/python -m benchmarks.escalation [--backend sqlite|postgres|both] [--stored 10000,100000]

For each stored count it bulk-inserts that many open disagreements (with their pending escalation duties and an
"opened" history entry) of which 1,000 are past their deadline, times sweeping until nothing is due (the core's
own duty runner, batches of 200, a chat that answers at once: no Slack latency), checks that each of the 1,000 moved
up once with its history entry, its next duty, its duty log entry and its messages, times the empty sweep (the duty
runner's) and the empty tick (the scheduler's, every second), and times `/disagreement list` for a party that sees
5,000 of them (first page and the last). PostgreSQL is started from the installed binaries, as the tests do.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select

from bot.app import Samverkan
from bot.chat import Command
from bot.clock import STOCKHOLM, ManualClock
from bot.directory.seed import seed_directory
from bot.disagreement.escalation import ESCALATE, duty_key
from bot.disagreement.ladder import path_for, sitting_forum
from bot.forum.calendar import is_working_day
from bot.model import load_model
from storage.db import make_engine, migrate, session_factory
from storage.models import DisagreementEntryRow, DisagreementRow, DutyRow, EventRow
from storage.uow import SqlUnitOfWork
from tests.fakes.recording_chat import RecordingChat

DUE = 1_000
VISIBLE = 5_000  # disagreements between the lead supplier and the school platform supplier
NOW = datetime(2027, 1, 14, 10, 1, tzinfo=STOCKHOLM)
PER = "U0PERSTRAND"
# Milliseconds per escalation, with no Slack latency (issue 12).
TARGETS = {"sqlite": 1.0, "postgres": 2.0}


@dataclass
class Figures:
    backend: str
    stored: int
    seeded_s: float
    escalations: int
    sweeps: int
    sweep_s: float
    sweep_cpu_s: float
    empty_ms: float
    tick_ms: float
    list_ms: dict[str, float]

    @property
    def per_escalation_ms(self) -> float:
        return self.sweep_s / max(self.escalations, 1) * 1000

    @property
    def cpu_per_escalation_ms(self) -> float:
        return self.sweep_cpu_s / max(self.escalations, 1) * 1000


def seed(url: str, stored: int) -> Samverkan:
    model = load_model()
    engine = make_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    clock = ManualClock(NOW)
    with SqlUnitOfWork(sessions) as uow:
        seed_directory(uow, model, NOW)
        uow.commit()
    city_supplier, start, _ = path_for(model, ("city", "supplier"))
    suppliers, s_start, led_by = path_for(model, ("school-platform", "supplier"))
    opened = NOW - timedelta(days=3)
    due_at = NOW - timedelta(hours=1)
    later = NOW + timedelta(days=30)
    batch = 10_000
    with engine.begin() as connection:
        for first in range(1, stored + 1, batch):
            rows, duties, entries = [], [], []
            for n in range(first, min(first + batch, stored + 1)):
                pair, path, level, leader = ((("school-platform", "supplier"), suppliers, s_start, led_by)
                                             if n <= VISIBLE else (("city", "supplier"), city_supplier, start, None))
                forum = sitting_forum(model, path[level], "digitala-enheter").key
                # The due ones are spread evenly over the City–supplier disagreements, all at the service forum.
                deadline = due_at if n > VISIBLE and (n - VISIBLE) % ((stored - VISIBLE) // DUE) == 0 else later
                rows.append({"id": n, "title": f"Fråga {n}", "description": "", "raised_by": "johan.ek",
                             "party_a": pair[0], "party_b": pair[1], "path": [[p.forum, p.grace_days] for p in path],
                             "level": level, "rung": path[level].forum, "forum": forum, "catalogue": "digitala-enheter",
                             "service": None, "state": "open", "opened_at": opened, "level_since": opened,
                             "deadline": deadline, "accepted": [], "led_by": leader})
                duties.append({"key": duty_key(n, level), "kind": ESCALATE, "due_at": deadline, "not_after": None,
                               "payload": {"id": n, "level": level}, "state": "pending", "attempts": 0, "note": ""})
                entries.append({"disagreement_id": n, "at": opened, "actor": "johan.ek", "party": "supplier",
                                "kind": "opened", "level": level, "forum": forum, "text": "", "ref": ""})
            connection.execute(insert(DisagreementRow), rows)
            connection.execute(insert(DutyRow), duties)
            connection.execute(insert(DisagreementEntryRow), entries)
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SELECT setval('disagreement_id_seq', (SELECT max(id) FROM disagreement))")
            connection.exec_driver_sql("ANALYZE")

    def unit_of_work(read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions, read_only)

    # The seeding's deadlines are in the past of NOW; the sweep compares against the level's real sitting, which
    # must be over too: the service forum sat on Tuesday 12 January.
    return Samverkan(model, unit_of_work, clock, RecordingChat(), lang="sv", worker="bench")


def warm(core: Samverkan) -> None:
    """What a running process has loaded long before a sweep, once: the message catalogue and the holidays."""
    assert core.texts.text("disagreement.reason_unsettled")
    is_working_day(NOW.date())


def sweep(core: Samverkan) -> tuple[float, float, int, int]:
    """Sweeps until nothing is due, as the scheduler's tick would; returns the time, this process's CPU time, the
    duties done and the sweeps."""
    started, cpu = time.perf_counter(), time.process_time()
    done = sweeps = 0
    while True:
        with core.unit_of_work(read_only=True) as uow:
            if not uow.duties.due(NOW, 1):
                break
        done += core.runner.sweep()
        sweeps += 1
    return time.perf_counter() - started, time.process_time() - cpu, done, sweeps


def check(core: Samverkan, engine_url: str) -> None:
    """Each due disagreement moved up exactly once, with everything that goes with it; the others did not move."""
    chat: RecordingChat = core.chat  # type: ignore[assignment]
    _, start, _ = path_for(core.model, ("city", "supplier"))
    engine = make_engine(engine_url)
    with engine.connect() as connection:
        moved = connection.scalar(select(func.count()).select_from(DisagreementRow)
                                  .where(DisagreementRow.level == start + 1, DisagreementRow.level_since == NOW))
        escalated = connection.scalar(select(func.count()).select_from(DisagreementEntryRow)
                                      .where(DisagreementEntryRow.kind == "escalated",
                                             DisagreementEntryRow.ref.like(f"{ESCALATE}:%")))
        done = connection.scalar(select(func.count()).select_from(DutyRow)
                                 .where(DutyRow.kind == ESCALATE, DutyRow.state == "done"))
        next_steps = connection.scalar(select(func.count()).select_from(DutyRow)
                                       .where(DutyRow.kind == ESCALATE, DutyRow.state == "pending",
                                              DutyRow.key.like(f"{ESCALATE}:%:{start + 1}")))
        logged = connection.scalar(select(func.count()).select_from(EventRow).where(EventRow.kind == "duty.done"))
    engine.dispose()
    told = {(user, text.split("*")[1]) for user, text in chat.directs}
    assert moved == escalated == done == next_steps == logged == DUE, (moved, escalated, done, next_steps, logged)
    assert len(told) == len(chat.directs) and len({ref for _, ref in told}) == DUE, "each told once, every one told"


def list_times(core: Samverkan) -> dict[str, float]:
    chat: RecordingChat = core.chat  # type: ignore[assignment]
    chat.emails[PER] = "per.strand@skolplattform.example"
    times = {}
    for label, text in (("page 1", "list"), ("page 250 (last)", "list sida=250")):
        samples = []
        for _ in range(5):
            started = time.perf_counter()
            core.handle(Command(name="disagreement", text=text, user_id=PER, channel_id="C1", received_at=NOW))
            samples.append(time.perf_counter() - started)
        times[label] = statistics.median(samples) * 1000
        assert f"({VISIBLE} st" in chat.last_reply, chat.last_reply[:200]
    return times


def run(backend: str, url_for: Callable[[int], str], stored_counts: list[int]) -> list[Figures]:
    results = []
    for stored in stored_counts:
        url = url_for(stored)
        started = time.perf_counter()
        core = seed(url, stored)
        seeded = time.perf_counter() - started
        warm(core)
        elapsed, cpu, done, sweeps = sweep(core)
        check(core, url)
        empty, ticks = [], []
        for _ in range(50):
            began = time.perf_counter()
            core.runner.sweep()
            empty.append(time.perf_counter() - began)
        core.tick()  # its first plans the reminders
        for _ in range(50):
            began = time.perf_counter()
            core.tick()
            ticks.append(time.perf_counter() - began)
        figures = Figures(backend, stored, seeded, done, sweeps, elapsed, cpu, statistics.median(empty) * 1000,
                          statistics.median(ticks) * 1000, list_times(core))
        target = TARGETS[backend]
        print(f"{backend:8} stored={stored:>7,} seeded in {seeded:5.1f} s | sweep of {done:,} due in {sweeps} sweeps: "
              f"{elapsed:5.2f} s, {figures.per_escalation_ms:.3f} ms per escalation (target {target:g} ms, "
              f"{figures.per_escalation_ms / target:.2f}x the target; this process's CPU "
              f"{figures.cpu_per_escalation_ms:.3f} ms) | empty sweep {figures.empty_ms:.2f} ms, empty tick "
              f"{figures.tick_ms:.2f} ms | list "
              f"for a party seeing {VISIBLE:,}: " + ", ".join(f"{k} {v:.1f} ms" for k, v in figures.list_ms.items()),
              flush=True)
        results.append(figures)
    if len(results) > 1:
        first, last = results[0], results[-1]
        growth = last.per_escalation_ms / first.per_escalation_ms
        print(f"{backend:8} per escalation at {last.stored:,} stored is {growth:.2f}x that at {first.stored:,} "
              "(flat is 1)", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--stored", default="10000,100000")
    args = parser.parse_args()
    counts = [int(n) for n in args.stored.split(",")]
    if args.backend in ("sqlite", "both"):
        folder = tempfile.mkdtemp(prefix="samverkan-bench-")
        run("sqlite", lambda n: f"sqlite:///{folder}/bench-{n}.db", counts)
    if args.backend in ("postgres", "both"):
        from tests.postgres_server import PostgresServer

        server = PostgresServer.from_env()
        server.start()
        try:
            run("postgres", lambda n: server.create_database(f"bench_{n}_{int(time.time())}"), counts)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
