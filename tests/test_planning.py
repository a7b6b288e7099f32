"""The per-second tick plans reminders anew only when it must: when the calendar changed, in this process or another
(a version in the database, bumped in the transaction of the change), and every five minutes however quiet.

Two runtimes (two processes' worth of engines and cores) share one fresh database and a manual clock."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.app import PLAN_RETRY, REPLAN_EVERY, Samverkan
from bot.bus import DELIVER
from bot.chat import Command
from bot.clock import STOCKHOLM, ManualClock
from bot.duties import Duty
from bot.forum.reminders import REMINDER
from bot.message import text, to_json
from samverkan.settings import Settings
from samverkan.wiring import Runtime, build
from tests.conftest import BACKENDS
from tests.fakes.recording_chat import RecordingChat

EVA = "U01EVALIND"  # the City's chair of Kontraktsforum
JOHAN = "U02JOHANEK"  # the supplier's: not a chair, may not move its dates
# Kontraktsforum sits on Tuesday 19 January at 10:00; moved, it sits on Thursday 21 January at 13:00 (12:00 UTC).
MOVE = "move kontraktsforum 2027-01-19 2027-01-21 13:00"
MOVED = "kontraktsforum-20270119T1000Z:20270121T120000Z:moved"


@pytest.fixture
def plans(monkeypatch: pytest.MonkeyPatch) -> Counter[Samverkan]:
    """How many times each core has planned, however it came to (a tick, or after a command's commit)."""
    counted: Counter[Samverkan] = Counter()
    original = Samverkan.plan

    def plan(self: Samverkan, now: datetime | None = None, version: int | None = None) -> None:
        counted[self] += 1
        original(self, now, version)

    monkeypatch.setattr(Samverkan, "plan", plan)
    return counted


@pytest.fixture(params=BACKENDS)
def processes(request: pytest.FixtureRequest, tmp_path: Path, plans: Counter[Samverkan],
              ) -> Iterator[tuple[Runtime, Runtime, ManualClock]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'planning.db'}"
    else:
        name = f"t_{uuid.uuid4().hex[:12]}"
        url = request.getfixturevalue("postgres").create_database(name)
    clock = ManualClock(datetime(2027, 1, 11, 9, 0, tzinfo=STOCKHOLM))
    settings = Settings(database_url=url, samverkan_lang="sv")
    runtimes = [build(settings, clock, lambda _: RecordingChat()) for _ in range(2)]
    yield runtimes[0], runtimes[1], clock
    for runtime in runtimes:
        runtime.close()
    if request.param == "postgres":
        request.getfixturevalue("postgres").drop_database(name)


def say(runtime: Runtime, user: str, text: str) -> str:
    runtime.core.handle(Command(name="forum", text=text, user_id=user, channel_id="C0CONSOLE",
                                received_at=runtime.core.clock.now()))
    return runtime.core.chat.last_reply  # type: ignore[attr-defined,no-any-return]


def ticks(clock: ManualClock, *runtimes: Runtime, seconds: int = 30) -> None:
    """The scheduler's ticks, once a second for a while, in each process."""
    for _ in range(seconds):
        clock.advance(timedelta(seconds=1))
        for runtime in runtimes:
            runtime.core.tick()


def pending_reminders(runtime: Runtime) -> set[str]:
    with runtime.core.unit_of_work() as uow:
        return uow.duties.pending_keys(f"{REMINDER}:kontraktsforum:")


def test_the_first_tick_plans_and_then_nothing_changed_plans_nothing(processes, plans) -> None:  # type: ignore[no-untyped-def]
    first, second, clock = processes
    first.core.tick()
    second.core.tick()
    assert plans == {first.core: 1, second.core: 1}
    ticks(clock, first, second, seconds=60)
    assert plans == {first.core: 1, second.core: 1}


def test_a_change_committed_by_another_process_is_planned_by_the_next_tick(processes, plans) -> None:  # type: ignore[no-untyped-def]
    first, second, clock = processes
    first.core.tick()
    second.core.tick()
    # The second process is killed right after its commit, before it plans the reminders anew itself.
    second.core.bus.replan = lambda: None
    assert "flyttat" in say(second, EVA, MOVE)
    assert not any(MOVED in key for key in pending_reminders(first))
    plans.clear()
    first.core.tick()
    assert plans == {first.core: 1}
    assert any(MOVED in key for key in pending_reminders(first))
    ticks(clock, first, seconds=10)
    assert plans == {first.core: 1}  # once is enough


def test_a_change_in_this_process_is_planned_at_once_and_the_other_plans_it_at_its_next_tick(  # type: ignore[no-untyped-def]
        processes, plans) -> None:
    first, second, clock = processes
    first.core.tick()
    second.core.tick()
    plans.clear()
    say(first, EVA, MOVE)
    assert plans == {first.core: 1}  # after the commit, before the next tick
    assert any(MOVED in key for key in pending_reminders(second))
    ticks(clock, first, second, seconds=3)
    assert plans == {first.core: 1, second.core: 1}  # the other process saw the new version once; this one knew it


def test_a_refused_change_changes_no_version(processes, plans) -> None:  # type: ignore[no-untyped-def]
    first, second, clock = processes
    first.core.tick()
    second.core.tick()
    plans.clear()
    assert "flyttat" not in say(second, JOHAN, MOVE)
    ticks(clock, first, second, seconds=3)
    assert not plans


def test_a_quiet_calendar_is_planned_anew_every_five_minutes(processes, plans) -> None:  # type: ignore[no-untyped-def]
    first, _, clock = processes
    first.core.tick()
    clock.advance(REPLAN_EVERY - timedelta(seconds=1))
    first.core.tick()
    assert plans == {first.core: 1}
    clock.advance(timedelta(seconds=1))
    first.core.tick()
    assert plans == {first.core: 2}


def test_a_plan_that_fails_does_not_stop_the_sweep_and_is_tried_again_in_seconds(  # type: ignore[no-untyped-def]
        processes, plans, monkeypatch: pytest.MonkeyPatch) -> None:
    first, _, clock = processes
    tried: list[datetime] = []

    def planner(core: Samverkan, now: datetime) -> None:
        tried.append(now)
        raise ConnectionError("the database went away for a moment")

    monkeypatch.setattr("bot.app.PLANNERS", [planner])
    with first.core.unit_of_work() as uow:  # a message owed, due now
        uow.duties.plan(Duty("chat.deliver:test", DELIVER, clock.now(),
                             payload={"message": to_json(text("Hej")), "to": "post", "channel": "#forum-test"}))
        uow.commit()
    first.core.tick()
    assert len(tried) == 1 and first.core.chat.posts == [("#forum-test", "Hej")]  # type: ignore[attr-defined]
    ticks(clock, first, seconds=int(PLAN_RETRY.total_seconds()) - 1)
    assert len(tried) == 1  # not every second
    ticks(clock, first, seconds=1)
    assert len(tried) == 2
