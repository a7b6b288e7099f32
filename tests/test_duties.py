"""Exactly once inside one process: a performer that dies mid-way is finished by the next sweep, not repeated."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.app import Samverkan
from bot.clock import STOCKHOLM, ManualClock
from bot.message import Message
from tests.fakes.recording_chat import RecordingChat


class Killed(BaseException):
    """What kill -9 looks like from inside: nothing after it runs, no except Exception catches it."""


class DyingChat(RecordingChat):
    def __init__(self, die_after_post: bool) -> None:
        super().__init__()
        self.die_after_post = die_after_post

    def post(self, channel: str, message: Message, key: str | None = None) -> str:
        if not self.die_after_post:
            raise Killed
        super().post(channel, message, key)
        raise Killed


@pytest.mark.parametrize("die_after_post", [True, False], ids=["after-posting", "before-posting"])
def test_a_reminder_interrupted_by_a_kill_is_posted_exactly_once(core: Samverkan, clock: ManualClock,
                                                                 die_after_post: bool) -> None:
    core.plan()
    clock.set(datetime(2027, 1, 12, 10, 0, tzinfo=STOCKHOLM))  # Kontraktsforum's 7-day reminder is due
    dying = DyingChat(die_after_post)
    with pytest.raises(Killed):
        core.duty_runner(dying, worker="first").sweep()  # dies at the first reminder it posts
    [(victim, _)] = [(k, v) for k, v in _claimed(core)]
    # The restarted process shares the chat's history (Slack keeps it), not the dead one's memory.
    survivor = RecordingChat(posts=list(dying.posts), keys={k: set(v) for k, v in dying.keys.items()},
                             refs=dict(dying.refs))
    clock.advance(timedelta(seconds=30))
    core.duty_runner(survivor, lease=timedelta(minutes=2), worker="second").sweep()
    assert _claimed(core) == [(victim, "first")]  # within its lease the dead worker's duty is left alone
    clock.advance(timedelta(minutes=2))
    core.duty_runner(survivor, lease=timedelta(minutes=2), worker="second").sweep()
    assert _claimed(core) == []
    # Reminders go to channels; what reports owe their owners and chairs goes to people directly.
    keys = [key for where, keys in survivor.keys.items() if where.startswith("#") for key in keys]
    assert len(survivor.posts) == len(keys) == len(set(keys))  # every reminder once, the victim's included
    assert victim in keys and any(channel == "#forum-kontraktsforum" for channel, _ in survivor.posts)


def _claimed(core: Samverkan) -> list[tuple[str, str]]:
    from sqlalchemy import select  # the test reads the table itself: the store's API has no such query

    from storage.models import DutyRow

    with core.unit_of_work() as uow:
        rows = uow.session.execute(select(DutyRow.key, DutyRow.claimed_by).where(DutyRow.state == "claimed"))
        return [(key, worker) for key, worker in rows]


def test_a_duty_that_keeps_failing_is_given_up(core: Samverkan, clock: ManualClock) -> None:
    class Broken(RecordingChat):
        def post(self, channel: str, message: Message, key: str | None = None) -> str:
            raise ConnectionError("Slack is down")

    core.plan()
    clock.set(datetime(2027, 1, 12, 10, 0, tzinfo=STOCKHOLM))
    runner = core.duty_runner(Broken(), lease=timedelta(seconds=1), worker="w")
    for _ in range(12):  # each failure is retried sooner than a minute later, and given up after eight
        runner.sweep()
        clock.advance(timedelta(seconds=61))
    with core.unit_of_work() as uow:
        outcomes = [e for e in uow.events.history(kind_prefix="duty.") if "kontraktsforum" in e.subject]
    assert [e.kind for e in outcomes] == ["duty.dropped"]
    assert "gave up after" in outcomes[0].data["note"]
