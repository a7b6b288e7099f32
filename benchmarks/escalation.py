"""How the disagreement capability scales: the escalation sweep and the paginated list.

    .venv/bin/python -m benchmarks.escalation [--backend sqlite|postgres|both] [--stored 10000,100000]

For each stored count it bulk-inserts that many open disagreements (with their pending escalation duties and an
"opened" history entry) of which 1,000 are past their deadline, times sweeping until nothing is due, and times
`/disagreement list` for a party that sees 5,000 of them (first page and a deep page). PostgreSQL is started from
the installed binaries, as the tests do.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import datetime, timedelta

from sqlalchemy import insert

from bot.app import Samverkan
from bot.chat import Command
from bot.clock import STOCKHOLM, ManualClock
from bot.directory.seed import seed_directory
from bot.disagreement.escalation import ESCALATE, duty_key
from bot.disagreement.ladder import path_for, sitting_forum
from bot.model import load_model
from storage.db import make_engine, migrate, session_factory
from storage.models import DisagreementEntryRow, DisagreementRow, DutyRow
from storage.uow import SqlUnitOfWork
from tests.fakes.recording_chat import RecordingChat

DUE = 1_000
VISIBLE = 5_000  # disagreements between the lead supplier and the school platform supplier
NOW = datetime(2027, 1, 14, 10, 1, tzinfo=STOCKHOLM)
PER = "U0PERSTRAND"


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

    def unit_of_work() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions)

    # The seeding's deadlines are in the past of NOW; the sweep compares against the level's real sitting, which
    # must be over too: the service forum sat on Tuesday 12 January.
    return Samverkan(model, unit_of_work, clock, lang="sv")


def sweep(core: Samverkan) -> tuple[float, int, int]:
    chat = RecordingChat()
    runner = core.runner(chat, worker="bench")
    started = time.perf_counter()
    done = sweeps = 0
    while True:
        with core.unit_of_work() as uow:
            if not uow.duties.due(NOW, 1):
                break
        done += runner.sweep(NOW)
        sweeps += 1
    return time.perf_counter() - started, done, sweeps


def list_times(core: Samverkan) -> dict[str, float]:
    chat = RecordingChat(emails={PER: "per.strand@skolplattform.example"})
    times = {}
    for label, text in (("page 1", "list"), ("page 250 (last)", "list sida=250")):
        samples = []
        for _ in range(5):
            started = time.perf_counter()
            core.handle(Command(name="disagreement", text=text, user_id=PER, channel_id="C1",
                                received_at=NOW), chat)
            samples.append(time.perf_counter() - started)
        times[label] = statistics.median(samples)
        assert f"({VISIBLE} st" in chat.last_reply, chat.last_reply[:200]
    return times


def run(backend: str, url_for, stored_counts: list[int]) -> None:  # type: ignore[no-untyped-def]
    for stored in stored_counts:
        url = url_for(stored)
        started = time.perf_counter()
        core = seed(url, stored)
        seeded = time.perf_counter() - started
        elapsed, done, sweeps = sweep(core)
        again, _, _ = sweep(core)
        lists = list_times(core)
        print(f"{backend:9} stored={stored:>7,} seeded in {seeded:5.1f}s | sweep of {done} due: {elapsed:6.2f}s "
              f"({elapsed / max(done, 1) * 1000:.2f} ms each, {sweeps} sweeps of <=200) | empty sweep: "
              f"{again * 1000:.1f} ms | list for a party seeing {VISIBLE:,}: "
              + ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in lists.items()), flush=True)


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
