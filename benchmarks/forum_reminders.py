"""Forum calendar figures: reminder lateness with the real scheduler, a year of sittings for 50 forums, and the
due-reminder sweep against 10,000 scheduled reminders.

    .venv/bin/python -m benchmarks.forum_reminders [--reminders 240] [--skip-lateness]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from bot.clock import STOCKHOLM, ManualClock
from bot.duties import Duty, DutyRunner
from bot.forum.calendar import sittings
from bot.model import load_model, shipped_model_path
from storage.db import make_engine, migrate, session_factory
from storage.uow import SqlUnitOfWork
from tests.fakes.processes import BotProcess
from tests.fakes.recording_chat import RecordingChat
from tests.fakes.slack_api import FakeSlack


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# -- 1. lateness: the real `samverkan run`, its APScheduler and SystemClock, reminders due over about a minute ---
def lateness(reminders: int, folder: Path) -> dict[str, float]:
    forums = reminders // 2
    shipped = yaml.safe_load(shipped_model_path().read_text(encoding="utf-8"))
    now = datetime.now(STOCKHOLM)
    sitting = (now + timedelta(minutes=5)).replace(second=0, microsecond=0)
    lead = (sitting - now).total_seconds()
    model = {"name": {"sv": "B", "en": "B"}, "parties": shipped["parties"],
             "party_classes": shipped["party_classes"], "roles": shipped["roles"],
             "people": shipped["people"], "forums": []}
    for n in range(forums):
        # Two reminders a forum, spread between 10 s and 70 s from now, so several fall due in the same second.
        due_in = [10 + (n * 60) // forums, 10 + ((n * 60) // forums + 30) % 60]
        model["forums"].append({
            "key": f"b-{n:03d}", "name": {"sv": f"F{n}", "en": f"F{n}"}, "channel": f"#b-{n:03d}",
            "cadence": {"sv": "x", "en": "x"}, "chair": ["city"], "dates": [sitting.date().isoformat()],
            "time": sitting.strftime("%H:%M"), "holidays": "keep",
            "attendees": [{"party": "supplier", "roles": ["kundansvarig"]}],
            "reminders": sorted({f"{int(lead) - d}s" for d in due_in}),
        })
    (folder / "model.yaml").write_text(yaml.safe_dump(model, allow_unicode=True), encoding="utf-8")
    with FakeSlack() as fake:
        bot = BotProcess("lateness", f"sqlite:///{folder / 'bench.db'}", fake.base_url, folder / "model.yaml", folder)
        try:
            bot.wait_ready()
            deadline = time.monotonic() + 150
            while len(fake.calls_to("chat.postMessage")) < forums * 2 and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            bot.stop()
        late = []
        for call in fake.calls_to("chat.postMessage"):
            key = call.params["metadata"]["event_payload"]["key"]
            start = datetime.strptime(key.split(":")[3], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            offset = int(key.rsplit(":", 1)[1].removesuffix("s"))
            late.append(call.wall - (start - timedelta(seconds=offset)).timestamp())
    return {"reminders": len(late), "p50_s": percentile(late, 50), "p99_s": percentile(late, 99), "max_s": max(late)}


# -- 2. a year of sittings for 50 forums ------------------------------------------------------------------------
def year_of_sittings() -> dict[str, float]:
    model = load_model()
    forums = [f for f in model.calendar if f.sits]
    fifty = [forums[i % len(forums)].model_copy(update={"key": f"f{i}"}) for i in range(50)]
    start = datetime(2027, 1, 1, tzinfo=STOCKHOLM)
    runs = []
    for _ in range(5):
        began = time.perf_counter()
        count = sum(len(sittings(f, start, start + timedelta(days=365))) for f in fifty)
        runs.append(time.perf_counter() - began)
    return {"forums": 50, "sittings": count, "median_ms": round(statistics.median(runs) * 1000, 1)}


# -- 3. the due sweep: its cost follows what is due, not what is scheduled ----------------------------------------
def sweep(scheduled: int, due: int, folder: Path) -> dict[str, float]:
    engine = make_engine(f"sqlite:///{folder / f'sweep-{scheduled}.db'}")
    migrate(engine)
    sessions = session_factory(engine)
    now = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
    with SqlUnitOfWork(sessions) as uow:
        for n in range(scheduled):
            when = now - timedelta(seconds=n) if n < due else now + timedelta(minutes=n)
            uow.duties.plan(Duty(f"bench:{n}", "bench", when, payload={"n": n}))
        uow.commit()
    runs = []
    for _ in range(20):
        began = time.perf_counter()
        with SqlUnitOfWork(sessions) as uow:
            found = uow.duties.due(now, limit=500)
        runs.append(time.perf_counter() - began)
    assert len(found) == due
    # The whole sweep: find, claim and finish every due duty (the performer itself does nothing here); repeated
    # with a fresh batch of due duties each round, the scheduled ones staying.
    runner = DutyRunner(lambda read_only=False: SqlUnitOfWork(sessions, read_only), RecordingChat(),
                        {"bench": lambda duty, at, once: "done"}, ManualClock(now))
    sweeps = []
    for round_ in range(6):
        if round_:
            with SqlUnitOfWork(sessions) as uow:
                for n in range(due):
                    uow.duties.plan(Duty(f"bench:{round_}:{n}", "bench", now - timedelta(seconds=n)))
                uow.commit()
        began = time.perf_counter()
        performed = runner.sweep()
        sweeps.append(time.perf_counter() - began)
        assert performed == due
    engine.dispose()
    return {"scheduled": scheduled, "due": due, "due_query_median_ms": round(statistics.median(runs) * 1000, 2),
            "full_sweep_median_ms": round(statistics.median(sweeps[1:]) * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reminders", type=int, default=240)
    parser.add_argument("--skip-lateness", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print("a year of sittings:", year_of_sittings())
        for scheduled in (1_000, 10_000):
            print("due sweep:", sweep(scheduled, 50, folder))
        if not args.skip_lateness:
            figures = lateness(args.reminders, folder)
            print("reminder lateness:", {k: round(v, 3) for k, v in figures.items()},
                  "target p99 < 2 s:", "met" if figures["p99_s"] < 2 else "NOT met")


if __name__ == "__main__":
    main()
