"""Homes at the City's size: the cost of one change, of the periodic redraw, and the memory it takes.

    .venv/bin/python -m benchmarks.homes [--people 2000] [--homes 1500] [--forums 100] [--disagreements 500]
                                         [--actions 50]

A model is generated from the shipped one (its parties, roles, ladder and forums kept) with --forums more weekly
forums and --people more people spread over the parties and roles; --homes of them have opened their Home. The
database (SQLite, in a temporary folder) gets --disagreements open disagreements between the City and the supplier
and --actions open actions in each generated forum, each owned by one of the people. The chat is RecordingChat
(answers at once), so the figures are the bot's own cost, not Slack's.

It measures, with bot.native.home as the worker runs it (`home.redraw`):
- the first redraw (every Home published once: what a start after a long pause costs);
- the periodic redraw with nothing changed (what `plan` asks for every `home.EVERY`): its CPU, its share of one core
  spread over `EVERY` (target: under 2%), and views.publish calls (target: none);
- one change (an action added in one forum, as a command would, then the redraw a command asks for): Homes drawn,
  Homes published (should be only those who can see it) and milliseconds;
- the process's peak RSS (target: under 250 MB).
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy import insert

from bot.app import Samverkan
from bot.clock import ManualClock, SystemClock
from bot.directory.seed import seed_directory
from bot.disagreement.ladder import path_for, sitting_forum
from bot.model import load_model
from bot.model.loader import shipped_model_path
from bot.native import home
from storage.db import make_engine, migrate, session_factory
from storage.models import DisagreementRow
from storage.uow import SqlUnitOfWork
from tests.fakes.recording_chat import RecordingChat

CPU_SHARE_TARGET = 0.02
RSS_TARGET_MB = 250


def generate_model(path: Path, people: int, forums: int) -> None:
    shipped = yaml.safe_load(shipped_model_path().read_text(encoding="utf-8"))
    parties = [p["key"] for p in shipped["parties"]]
    roles = [r["key"] for r in shipped["roles"] if not r.get("administers_directory")]
    rng = random.Random(23)
    shipped["people"] += [{
        "key": f"person.{n:05d}", "name": f"Person {n}", "party": rng.choice(parties),
        "roles": [rng.choice(roles)], "slack_user": f"UP{n:07d}", "email": f"person.{n}@example.se",
    } for n in range(people)]
    start = datetime.now(UTC).date() - timedelta(days=30)
    shipped["forums"] += [{
        "key": f"forum-{n:03d}", "name": {"sv": f"Forum {n}", "en": f"Forum {n}"}, "channel": f"#forum-{n:03d}",
        "cadence": {"sv": "varje vecka", "en": "weekly"}, "chair": ["city"],
        "attendees": [{"party": rng.choice(parties), "roles": [rng.choice(roles)]},
                      {"party": "supplier", "roles": [rng.choice(roles)]}],
        "rrule": f"FREQ=WEEKLY;BYDAY={('MO', 'TU', 'WE', 'TH', 'FR')[n % 5]}", "starts": start.isoformat(),
        "time": f"{9 + n % 7:02d}:00", "duration_minutes": 60,
    } for n in range(forums)]
    path.write_text(yaml.safe_dump(shipped, allow_unicode=True), encoding="utf-8")


def seed(url: str, model_path: Path, args: argparse.Namespace) -> tuple[Samverkan, RecordingChat]:
    model = load_model(model_path)
    engine = make_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    now = SystemClock().now()

    def unit_of_work(read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions, read_only)

    with unit_of_work() as uow:
        seed_directory(uow, model, now)
        uow.commit()
    pair = ("city", "supplier")
    path, level, leader = path_for(model, pair)
    forum = sitting_forum(model, path[level], "digitala-enheter").key
    rows = [{"id": n, "title": f"Fråga {n}", "description": "", "raised_by": "johan.ek", "party_a": pair[0],
             "party_b": pair[1], "path": [[p.forum, p.grace_days] for p in path], "level": level,
             "rung": path[level].forum, "forum": forum, "catalogue": "digitala-enheter", "service": None,
             "state": "open", "opened_at": now - timedelta(days=3), "level_since": now - timedelta(days=3),
             "deadline": now + timedelta(days=30), "accepted": [], "led_by": leader}
            for n in range(1, args.disagreements + 1)]
    with engine.begin() as connection:
        if rows:
            connection.execute(insert(DisagreementRow), rows)
    rng = random.Random(7)
    with unit_of_work() as uow:
        for f in range(args.forums):
            for a in range(args.actions):
                uow.forum.add_action(f"forum-{f:03d}", f"person.{rng.randrange(args.people):05d}",
                                     now.date() + timedelta(days=7 + a % 30), f"Action {f}.{a}", "eva.lind", now)
        for n in range(args.homes):
            uow.homes.opened(f"UP{n:07d}", f"person.{n:05d}", now)
        uow.commit()
    chat = RecordingChat()
    return Samverkan(model, unit_of_work, ManualClock(now), chat, lang="sv", worker="bench"), chat


def published(chat: RecordingChat) -> int:
    return sum(len(pages) for pages in chat.homes.values())


def timed_redraw(core: Samverkan, chat: RecordingChat) -> tuple[float, float, int]:
    before = published(chat)
    wall, cpu = time.perf_counter(), time.process_time()
    home.redraw(core)
    return time.perf_counter() - wall, time.process_time() - cpu, published(chat) - before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.homes", description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--homes", type=int, default=1500)
    parser.add_argument("--forums", type=int, default=100)
    parser.add_argument("--disagreements", type=int, default=500)
    parser.add_argument("--actions", type=int, default=50, help="open actions in each generated forum")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        model_path = Path(tmp) / "model.yaml"
        generate_model(model_path, args.people, args.forums)
        started = time.perf_counter()
        core, chat = seed(f"sqlite:///{Path(tmp) / 'homes.db'}", model_path, args)
        print(f"{args.people} people (+ the shipped model's), {args.homes} Homes opened, {args.forums} forums (+ the "
              f"shipped ones), {args.disagreements} open disagreements, {args.actions} open actions a forum; "
              f"seeded in {time.perf_counter() - started:.1f} s (SQLite)")
        first = timed_redraw(core, chat)
        print(f"first redraw: {first[0] * 1000:.0f} ms wall, {first[1] * 1000:.0f} ms CPU, {first[2]} published")
        full = timed_redraw(core, chat)
        print(f"a full redraw with nothing changed: {full[0] * 1000:.0f} ms wall, {full[1] * 1000:.0f} ms CPU, "
              f"{full[2]} published (what the periodic duty cost every {home.EVERY.total_seconds():.0f} s before "
              f"issue 23: {full[1] / home.EVERY.total_seconds():.2%} of one core)")
        # The periodic duty as the scheduler runs it, over a simulated day: the planner every EVERY, with the clock
        # moved on, and the redraw it plans performed at once.
        clock = core.clock
        start, cpu_total, redraws, calls = clock.now(), 0.0, 0, 0
        day = timedelta(days=1)
        while clock.now() - start < day:
            clock.set(clock.now() + home.EVERY)
            cpu = time.process_time()
            before = published(chat)
            home.plan(core, clock.now())
            with core.unit_of_work() as uow:
                keys = uow.duties.pending_keys(f"{home.REFRESH}:")
                for key in keys:
                    uow.duties.unplan(key)
                uow.commit()
            if keys:
                home.redraw(core)
                redraws += 1
            cpu_total += time.process_time() - cpu
            calls += published(chat) - before
        share = cpu_total / day.total_seconds()
        print(f"periodic duty over a simulated day ({int(day / home.EVERY)} looks, one every "
              f"{home.EVERY.total_seconds():.0f} s): {redraws} redraws (sittings starting, midnight), "
              f"{cpu_total:.1f} s CPU = {share:.3%} of one core (target < {CPU_SHARE_TARGET:.0%}: "
              f"{'met' if share < CPU_SHARE_TARGET else 'NOT met'}); views.publish calls {calls} (only Homes whose "
              f"sittings or overdue actions changed)")
        with core.unit_of_work() as uow:
            uow.forum.add_action("forum-000", "person.00000", core.clock.now().date() + timedelta(days=3),
                                 "A new action", "eva.lind", core.clock.now())
            uow.commit()
        change = timed_redraw(core, chat)
        print(f"one change (an action added in forum-000): {args.homes} Homes drawn, {change[2]} published, "
              f"{change[0] * 1000:.0f} ms wall, {change[1] * 1000:.0f} ms CPU")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS {rss:.0f} MB (target < {RSS_TARGET_MB} MB: {'met' if rss < RSS_TARGET_MB else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
