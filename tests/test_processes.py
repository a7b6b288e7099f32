"""Exactly once across real processes: two bots on one PostgreSQL database, and a bot killed with SIGKILL in the
middle of posting a reminder."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from tests.fakes.processes import BotProcess, soon_model
from tests.fakes.slack_api import FakeSlack, Fault


def reminders(fake: FakeSlack, channels: list[str]) -> Counter[tuple[str, str]]:
    """(channel, duty key) of every reminder posted, counted."""
    seen: Counter[tuple[str, str]] = Counter()
    for channel in channels:
        for message in fake.posted(channel):
            seen[(channel, message["metadata"]["event_payload"]["key"])] += 1
    return seen


def wait_for_posts(fake: FakeSlack, channels: list[str], count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while sum(reminders(fake, channels).values()) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # longer than the claim lease: a duplicate would have had its chance


@pytest.mark.postgres
def test_two_processes_on_one_database_post_each_reminder_once(postgres, fake_slack, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = postgres.create_database("two_bots")
    channels = soon_model(tmp_path / "model.yaml", forums=40, due_in=[8, 12])
    bots = [BotProcess(name, url, fake_slack.base_url, tmp_path / "model.yaml", tmp_path) for name in ("a", "b")]
    try:
        for bot in bots:
            bot.wait_ready()
        wait_for_posts(fake_slack, channels, 80)
    finally:
        for bot in bots:
            bot.stop()
    seen = reminders(fake_slack, channels)
    assert len(seen) == 80 and set(seen.values()) == {1}, [k for k, n in seen.items() if n > 1]
    logs = "".join(bot.log.read_text() for bot in bots)
    assert "Traceback" not in logs


@pytest.mark.parametrize("database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_a_bot_killed_while_posting_does_not_post_twice_after_restart(database_url: str, fake_slack,  # type: ignore[no-untyped-def]
                                                                      tmp_path: Path) -> None:
    channels = soon_model(tmp_path / "model.yaml", forums=5, due_in=[8])
    # Slack takes the first reminder, then keeps the bot waiting for its answer: that is when it is killed.
    fake_slack.fail("chat.postMessage", Fault(hang=60))
    first = BotProcess("first", database_url, fake_slack.base_url, tmp_path / "model.yaml", tmp_path)
    try:
        first.wait_ready()
        fake_slack.wait_for("chat.postMessage", 1, timeout=60)
        first.kill()
    finally:
        first.stop()
    assert sum(reminders(fake_slack, channels).values()) == 1
    second = BotProcess("second", database_url, fake_slack.base_url, tmp_path / "model.yaml", tmp_path)
    try:
        second.wait_ready()
        wait_for_posts(fake_slack, channels, 5)
    finally:
        second.stop()
    seen = reminders(fake_slack, channels)
    assert len(seen) == 5 and set(seen.values()) == {1}
    assert "already posted" in second.log.read_text()  # it was recovered by reading the channel, not reposted
