"""Exactly once with a slow Slack (issue 14): a claim is dated when it is made and renewed while its work is in
flight, so another process never takes over a duty that a live process is still performing, however long Slack
takes and however long the sweep that claimed it has been running; and whether a reminder is late, or too late,
is decided when it is posted.

Two runtimes (two processes' worth of engines, runners and heartbeats) share one database and a manual clock.
Each post of the first takes longer than the lease: inside it the clock moves on, and the other process sweeps."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.clock import STOCKHOLM, ManualClock
from bot.message import Message
from bot.model import shipped_model_path
from samverkan.settings import Settings
from samverkan.wiring import Runtime, build
from storage.models import DutyRow
from tests.conftest import BACKENDS
from tests.fakes.recording_chat import RecordingChat

LEASE = timedelta(seconds=5)
SITTING = datetime(2027, 1, 11, 10, 0, tzinfo=STOCKHOLM)
FORUMS = 21


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.005)


class SlowChat(RecordingChat):
    """Slack keeping the bot waiting over every post: `meanwhile` runs while the post is in flight."""

    def __init__(self, meanwhile: Callable[[], None]) -> None:
        super().__init__()
        self.meanwhile = meanwhile

    def post(self, channel: str, message: Message, key: str | None = None) -> str:
        self.meanwhile()
        return super().post(channel, message, key)


def model_with_forums(path: Path) -> Path:
    """The shipped parties and people, and 21 forums sitting at 10:00 with a reminder half an hour before."""
    shipped = yaml.safe_load(shipped_model_path().read_text(encoding="utf-8"))
    shipped["forums"] = [{
        "key": f"f{n:02d}", "name": {"sv": f"Forum {n}", "en": f"Forum {n}"}, "channel": f"#f{n:02d}",
        "cadence": {"sv": "en gång", "en": "once"}, "chair": ["city"], "dates": [SITTING.date().isoformat()],
        "time": "10:00", "holidays": "keep", "reminders": ["30m"]} for n in range(FORUMS)]
    for key in ("ladder", "deployment_forum", "problem_forum"):
        shipped.pop(key, None)
    shipped["major_incidents"]["report_forums"] = []
    path.write_text(yaml.safe_dump(shipped, allow_unicode=True), encoding="utf-8")
    return path


Start = Callable[[Callable[[], None]], tuple[Runtime, Runtime]]


@pytest.fixture(params=BACKENDS)
def processes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Start, ManualClock]]:
    """Starts two runtimes on one fresh database: the first with a slow Slack doing `meanwhile` inside each post,
    the second with a fast one."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'claims.db'}"
    else:
        name = f"t_{uuid.uuid4().hex[:12]}"
        url = request.getfixturevalue("postgres").create_database(name)
    clock = ManualClock(SITTING - timedelta(minutes=30))  # every reminder falls due this very second
    settings = Settings(database_url=url, samverkan_lang="sv", samverkan_model=model_with_forums(tmp_path / "m.yaml"),
                        samverkan_claim_lease=LEASE.total_seconds())
    started: list[Runtime] = []

    def start(meanwhile: Callable[[], None]) -> tuple[Runtime, Runtime]:
        first = build(settings, clock, lambda _: SlowChat(meanwhile))
        second = build(settings, clock, lambda _: RecordingChat())
        started.extend([first, second])
        first.core.runner.start_heartbeat(every=0.01)
        return first, second

    yield start, clock
    for runtime in started:
        runtime.close()
    if request.param == "postgres":
        request.getfixturevalue("postgres").drop_database(name)


def claims_dated_since(runtime: Runtime, keys: set[str], since: datetime) -> bool:
    with runtime.core.unit_of_work() as uow:
        dates = list(uow.session.scalars(  # type: ignore[attr-defined]
            select(DutyRow.claimed_at).where(DutyRow.key.in_(keys), DutyRow.state == "claimed")))
    return all(at is not None and at >= since for at in dates)


def posted_keys(*runtimes: Runtime) -> list[str]:
    return [key for r in runtimes for keys in r.core.chat.keys.values() for key in keys]  # type: ignore[attr-defined]


def test_a_claim_in_flight_is_never_taken_over_however_slow_slack_is(processes) -> None:  # type: ignore[no-untyped-def]
    start, clock = processes
    runtimes: list[Runtime] = []

    def slack_is_slow() -> None:
        first, second = runtimes
        clock.advance(2 * LEASE)  # the post outlasts the lease...
        since = clock.now()
        # ...but the heartbeat dates the claims in flight anew, and only then does the other process look.
        wait_until(lambda: claims_dated_since(first, first.core.runner.holding(), since))
        second.core.runner.sweep()

    runtimes.extend(start(slack_is_slow))
    first, second = runtimes
    first.core.plan()
    first.core.runner.sweep()
    second.core.runner.sweep()
    keys = posted_keys(first, second)
    assert len(keys) == FORUMS and len(set(keys)) == FORUMS
    with first.core.unit_of_work() as uow:
        assert sum(e.kind == "duty.done" for e in uow.events.history(kind_prefix="duty.", limit=100)) == FORUMS
    # The slow process finished what it had begun; the other did the rest while it waited on Slack.
    assert 0 < len(first.core.chat.posts) < FORUMS  # type: ignore[attr-defined]


def test_lateness_is_decided_when_each_reminder_is_posted(processes) -> None:  # type: ignore[no-untyped-def]
    start, clock = processes
    first, _ = start(lambda: clock.advance(timedelta(minutes=2)))  # Slack answers each post after two minutes
    first.core.plan()
    first.core.runner.sweep()
    texts = [text for _, text in first.core.chat.posts]  # type: ignore[attr-defined]
    # Posted on time, then later and later: each says it is late from the second on; once the sitting has begun,
    # the rest are not posted at all. A sweep that used the time it started would have posted all 21 as on time.
    assert len(texts) == 15
    assert not texts[0].startswith("⏳") and all(text.startswith("⏳") for text in texts[1:])
    with first.core.unit_of_work() as uow:
        notes = [e.data["note"] for e in uow.events.history(kind_prefix="duty.dropped", limit=100)]
    assert notes.count("too late") == FORUMS - 15
