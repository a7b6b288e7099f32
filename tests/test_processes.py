"""Exactly once across real processes (`samverkan run`): two bots on one PostgreSQL database, with Slack fast and
with Slack slower than the claims' lease allows for; and a bot killed with SIGKILL in the middle of a post.

The reminders are planned before any bot starts and the tests wait for the database to say each one is finished,
so how fast this machine starts a process or answers a request decides nothing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.fakes.processes import BotProcess, plan_reminders, soon_model, wait_until_finished
from tests.fakes.slack_api import FakeSlack, Fault

pytestmark = pytest.mark.slow


def reminders(fake: FakeSlack, channels: list[str]) -> Counter[tuple[str, str]]:
    """(channel, duty key) of every reminder posted, counted."""
    seen: Counter[tuple[str, str]] = Counter()
    for channel in channels:
        for message in fake.posted(channel):
            seen[(channel, message["metadata"]["event_payload"]["key"])] += 1
    return seen


def run_two(url: str, fake: FakeSlack, model: Path, logs: Path, lease: float) -> list[BotProcess]:
    bots = [BotProcess(name, url, fake.base_url, model, logs, lease=lease) for name in ("a", "b")]
    try:
        for bot in bots:
            bot.wait_ready()
        wait_until_finished(url, bots)
    finally:
        for bot in bots:
            bot.stop()
    return bots


@pytest.mark.postgres
def test_two_processes_on_one_database_post_each_reminder_once(postgres, fake_slack, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = postgres.create_database("two_bots")
    channels = soon_model(tmp_path / "model.yaml", forums=80)
    assert plan_reminders(url, tmp_path / "model.yaml") == 80
    bots = run_two(url, fake_slack, tmp_path / "model.yaml", tmp_path, lease=2.0)
    seen = reminders(fake_slack, channels)
    assert len(seen) == 80 and set(seen.values()) == {1}, [k for k, n in seen.items() if n > 1]
    assert "Traceback" not in "".join(bot.log.read_text() for bot in bots)


@pytest.mark.postgres
def test_a_slack_slower_than_the_sweep_posts_each_reminder_once(postgres, fake_slack, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Issue 14's reproduction: 21 reminders due in the same second, each post answered after 2 s, a 5 s lease.
    A process's sweep takes far longer than the lease; its claims must not look stale to the other."""
    url = postgres.create_database("slow_slack")
    channels = soon_model(tmp_path / "model.yaml", forums=21)
    assert plan_reminders(url, tmp_path / "model.yaml") == 21
    fake_slack.delays["chat.postMessage"] = 2.0
    run_two(url, fake_slack, tmp_path / "model.yaml", tmp_path, lease=5.0)
    seen = reminders(fake_slack, channels)
    assert len(seen) == 21 and set(seen.values()) == {1}, [k for k, n in seen.items() if n > 1]


@pytest.mark.parametrize("database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_a_bot_killed_while_posting_does_not_post_twice_after_restart(database_url: str, fake_slack,  # type: ignore[no-untyped-def]
                                                                      tmp_path: Path) -> None:
    channels = soon_model(tmp_path / "model.yaml", forums=5)
    assert plan_reminders(database_url, tmp_path / "model.yaml") == 5
    # Slack takes the first reminder, then keeps the bot waiting for its answer: that is when it is killed.
    fake_slack.fail("chat.postMessage", Fault(hang=60))
    first = BotProcess("first", database_url, fake_slack.base_url, tmp_path / "model.yaml", tmp_path)
    try:
        first.wait_ready()
        fake_slack.wait_for("chat.postMessage", 1, timeout=120)
        first.kill()
    finally:
        first.stop()
    assert sum(reminders(fake_slack, channels).values()) == 1
    second = BotProcess("second", database_url, fake_slack.base_url, tmp_path / "model.yaml", tmp_path)
    try:
        second.wait_ready()
        wait_until_finished(database_url, [second])
    finally:
        second.stop()
    seen = reminders(fake_slack, channels)
    assert len(seen) == 5 and set(seen.values()) == {1}
    assert "already posted" in second.log.read_text()  # it was recovered by reading the channel, not reposted


def test_the_log_says_one_line_per_command_and_nothing_every_second(fake_slack, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import httpx

    from tests.fakes.slack_http import command_body, signed_headers

    channels = soon_model(tmp_path / "model.yaml", forums=1)
    url = f"sqlite:///{tmp_path / 'quiet.db'}"
    assert plan_reminders(url, tmp_path / "model.yaml") == 1
    bot = BotProcess("quiet", url, fake_slack.base_url, tmp_path / "model.yaml", tmp_path)
    try:
        bot.wait_ready()
        body = command_body("/samverkan", "whoami", "U01EVALIND", response_url=fake_slack.response_url("q"))
        httpx.post(f"http://127.0.0.1:{bot.port}/slack/events", content=body,
                   headers=signed_headers(body, secret="secret"), timeout=10)
        fake_slack.wait_for("respond")
        wait_until_finished(url, [bot])  # the per-second sweep has run: it posted the reminder
        assert len(fake_slack.posted(channels[0])) == 1
    finally:
        bot.stop()
    log = bot.log.read_text()
    assert "apscheduler" not in log and "will be unused" not in log, log
    [line] = [line for line in log.splitlines() if "/samverkan whoami by U01EVALIND: done in" in line]
    assert line.endswith(" ms")
