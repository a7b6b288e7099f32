"""What the operators see: /metrics, /readyz and the log, over HTTP, from the bot serving Slack.

The slow in-process tests use the real bolt app behind the real server with the fake Slack Web API; the slow ones run
`samverkan run` itself, web process and worker, so that the metrics of both processes are added up and the request
id is followed from one process to the other.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from bot.chat import Command
from bot.duties import Duty, DutyRunner
from bot.message import text as message_text
from handlers.slack_client import web_client
from samverkan.metrics import PrometheusTelemetry
from storage.db import HEADS
from tests.fakes.processes import BotProcess, soon_model
from tests.fakes.slack_api import FakeSlack, Fault
from tests.fakes.slack_http import SlackAppServer, command_body, signed_headers

EVA = "U01EVALIND"  # in the shipped model's directory
PER = "U0PERSTRAND"  # of the school-platform supplier, whose party is in no war room of the wlan service
METRICS_TOKEN = "scrape-me-please"
SCRAPER = {"Authorization": f"Bearer {METRICS_TOKEN}"}


@pytest.fixture
def slack_app(database_url: str, fake_slack, clock):  # type: ignore[no-untyped-def]
    """The bot serving Slack, with the token its /metrics is read with (without one it is served to nobody)."""
    with SlackAppServer(database_url, fake_slack, clock, samverkan_metrics_token=METRICS_TOKEN) as server:
        yield server


def scrape(server) -> str:  # type: ignore[no-untyped-def]
    response = server.http.get("/metrics", headers=SCRAPER)
    assert response.status_code == 200, response.text
    return response.text


def samples(body: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(body) for s in family.samples}


def value(body: str, name: str, **labels: str) -> float:
    return samples(body).get((name, frozenset(labels.items())), 0.0)


def eventually(read: Callable[[], str], holds: Callable[[str], bool], timeout: float = 20.0) -> str:
    """Reads until `holds` (what is measured after the answer is sent lands a moment later), or fails with the
    last reading."""
    deadline = time.monotonic() + timeout
    while True:
        seen = read()
        if holds(seen):
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(f"never held; last reading:\n{seen}")
        time.sleep(0.05)


@pytest.mark.slow
def test_metrics_count_commands_acknowledgements_and_slack_calls_without_names_or_texts(slack_app) -> None:  # type: ignore[no-untyped-def]
    assert "Eva" in slack_app.ask("/samverkan", "whoami", EVA)
    slack_app.ask("/forum", "frobnicate-secretword", EVA)  # an unknown sub-command: its words are no label
    slack_app.ask("/incident", "list", "U0OUTSIDER")

    def metrics() -> str:
        response = slack_app.http.get("/metrics", headers=SCRAPER)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        return response.text

    expected = {
        ("samverkan_commands_total", (("command", "incident"), ("subcommand", "list"), ("outcome", "refused"))): 1,
        ("samverkan_commands_total", (("command", "samverkan"), ("subcommand", "whoami"), ("outcome", "done"))): 1,
        ("samverkan_commands_total", (("command", "forum"), ("subcommand", "unknown"), ("outcome", "done"))): 1,
        ("samverkan_ack_duration_seconds_count", (("kind", "command"),)): 3,
        ("samverkan_command_duration_seconds_count", (("command", "samverkan"),)): 1,
        ("samverkan_slack_calls_total", (("method", "response_url"), ("outcome", "ok"))): 3,
        ("samverkan_inbox_backlog", ()): 0,
        ("samverkan_commands_waiting", ()): 0,
    }

    def counted(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        return {key: value(body, key[0], **dict(key[1])) for key in expected}

    # each figure is recorded after its answer is sent, so all of them are waited for, not only the last command's
    body = eventually(metrics, lambda b: counted(b) == expected)
    assert counted(body) == expected
    for private in (EVA, "U0OUTSIDER", "secretword", "frobnicate", "Eva"):
        assert private not in body


@pytest.mark.slow
def test_the_backlog_and_the_duties_due_are_read_from_the_database(slack_app, clock) -> None:  # type: ignore[no-untyped-def]
    core = slack_app.runtime.core
    with core.unit_of_work() as uow:
        uow.inbox.add(Command(name="samverkan", text="whoami", user_id=EVA, channel_id="C1",
                              received_at=clock.now()))
        for n in range(3):
            uow.duties.plan(Duty(f"test.metrics:{n}", "test.kind", clock.now() - timedelta(minutes=n)))
        uow.duties.plan(Duty("test.metrics:later", "test.kind", clock.now() + timedelta(hours=1)))
        uow.commit()
    body = scrape(slack_app)
    assert value(body, "samverkan_inbox_backlog") == 1
    assert value(body, "samverkan_duties_due", kind="test.kind") == 3


@pytest.mark.slow
def test_slack_calls_are_counted_by_method_and_outcome_with_the_retries(fake_slack: FakeSlack) -> None:
    telemetry = PrometheusTelemetry()
    client = web_client("xoxb-test", fake_slack.base_url, telemetry=telemetry)
    fake_slack.fail("chat.postMessage", Fault(status=429, headers={"Retry-After": "0"}))
    client.chat_postMessage(channel="C1", text="once")
    fake_slack.fail("chat.postMessage", *[Fault(status=503, headers={})] * 3)
    with pytest.raises(Exception):  # noqa: B017 - slack_sdk's error for a 503 after its own retries
        client.chat_postMessage(channel="C1", text="never")
    with pytest.raises(Exception):  # noqa: B017 - an error answer: {"ok": false}
        client.api_call("no.suchMethod")
    from prometheus_client import generate_latest

    body = generate_latest(telemetry.registry).decode()
    assert value(body, "samverkan_slack_calls_total", method="chat.postMessage", outcome="ratelimited") == 1
    assert value(body, "samverkan_slack_calls_total", method="chat.postMessage", outcome="retry") == 2
    assert value(body, "samverkan_slack_calls_total", method="chat.postMessage", outcome="ok") == 1
    assert value(body, "samverkan_slack_calls_total", method="chat.postMessage", outcome="error") == 1
    assert value(body, "samverkan_slack_calls_total", method="no.suchMethod", outcome="error") == 1


def test_duties_late_failed_and_taken_over_are_counted(core, chat, clock) -> None:  # type: ignore[no-untyped-def]
    telemetry = PrometheusTelemetry()
    said: list[str] = []

    def say(duty: Duty, now, once) -> str:  # type: ignore[no-untyped-def]
        if duty.payload.get("fail") and not said:
            said.append("failed once")
            raise ConnectionError("Slack is away")
        once.post("C1", message_text(duty.key))
        return "done"

    with core.unit_of_work() as uow:
        uow.duties.plan(Duty("late", "test.say", clock.now() - timedelta(minutes=5)))
        uow.duties.plan(Duty("flaky", "test.say", clock.now(), payload={"fail": True}))
        uow.duties.plan(Duty("orphan", "test.say", clock.now()))
        uow.commit()
    dead = DutyRunner(core.unit_of_work, chat, {}, clock, lease=timedelta(seconds=10), worker="dead")
    assert dead._claim(lambda uow: uow.duties.claim("orphan", "dead", clock.now()))  # and then it died
    runner = DutyRunner(core.unit_of_work, chat, {"test.say": say}, clock, lease=timedelta(seconds=10),
                        worker="alive", telemetry=telemetry)
    runner.sweep()
    clock.advance(timedelta(seconds=30))
    runner.sweep()
    from prometheus_client import generate_latest

    body = generate_latest(telemetry.registry).decode()
    assert value(body, "samverkan_duties_total", kind="test.say", outcome="done") == 3
    assert value(body, "samverkan_duties_total", kind="test.say", outcome="retry") == 1
    assert value(body, "samverkan_duties_late_total", kind="test.say") == 1  # the one five minutes late
    assert value(body, "samverkan_claim_takeovers_total", kind="test.say") == 1


@pytest.mark.slow
def test_metrics_are_served_to_nobody_without_a_token_and_can_be_turned_off(database_url: str, fake_slack,  # type: ignore[no-untyped-def]
                                                                           clock) -> None:
    with SlackAppServer(database_url, fake_slack, clock) as server:  # by default: kept, but shown to nobody
        assert server.http.get("/metrics").status_code == 401
        assert server.http.get("/metrics", headers=SCRAPER).status_code == 401
        assert "samverkan_" not in server.http.get("/metrics").text
        assert server.http.get("/readyz").status_code == 200
    with SlackAppServer(database_url, fake_slack, clock, samverkan_metrics=False) as server:
        assert server.http.get("/metrics").status_code == 404
        assert server.http.get("/readyz").status_code == 200
    with SlackAppServer(database_url, fake_slack, clock, samverkan_metrics_token="scrape-me-please") as server:
        assert server.http.get("/metrics").status_code == 401
        assert server.http.get("/metrics", headers={"Authorization": "Bearer wrong-token"}).status_code == 401
        scraped = server.http.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"})
        assert scraped.status_code == 200 and "samverkan_inbox_backlog" in scraped.text


@pytest.mark.slow
def test_readiness_needs_the_database_at_the_head_migration(slack_app) -> None:  # type: ignore[no-untyped-def]
    ready = slack_app.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok", "schema": "current", "revisions": sorted(HEADS),
                            "expected": sorted(HEADS)}
    engine = slack_app.runtime.engine
    with engine.begin() as connection:  # as if this replica's migration had not run yet
        connection.execute(text("UPDATE alembic_version SET version_num = '0005'"))
    try:
        behind = slack_app.http.get("/readyz")
        assert behind.status_code == 503
        assert behind.json()["schema"] == "behind" and behind.json()["revisions"] == ["0005"]
        assert slack_app.http.get("/healthz").status_code == 200  # alive, only not ready
        with engine.begin() as connection:  # a newer version's migration ran: this replica serves on meanwhile
            connection.execute(text("UPDATE alembic_version SET version_num = '9001'"))
        newer = slack_app.http.get("/readyz")
        assert newer.status_code == 200 and newer.json()["schema"] == "newer"
    finally:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": min(HEADS)})


@pytest.mark.slow
def test_readiness_says_so_when_the_database_is_gone(tmp_path: Path, fake_slack, clock) -> None:  # type: ignore[no-untyped-def]
    with SlackAppServer(f"sqlite:///{tmp_path / 'gone.db'}", fake_slack, clock) as server:
        server.runtime.engine.dispose()
        (tmp_path / "gone.db").unlink()
        (tmp_path / "gone.db").mkdir()  # nothing SQLite can open any more
        gone = server.http.get("/readyz")
        assert gone.status_code == 503
        assert gone.json() == {"status": "unavailable", "database": "unreachable"}


# -- samverkan run: two processes, one set of metrics, one request id ------------------------------------------------
TOKEN = "xoxb-1234567890-abcdefSECRET"
SIGNING = "3f1c0a9e8b7d6c5b4a39281706f5e4d3"


@pytest.mark.slow
def test_run_adds_up_both_processes_metrics_and_logs_json_that_follows_the_request(fake_slack, tmp_path) -> None:  # type: ignore[no-untyped-def]
    soon_model(tmp_path / "model.yaml", forums=1)
    bot = BotProcess("ops", f"sqlite:///{tmp_path / 'ops.db'}", fake_slack.base_url, tmp_path / "model.yaml",
                     tmp_path, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SIGNING, SAMVERKAN_LOG_FORMAT="json",
                     LOG_LEVEL="DEBUG", SAMVERKAN_METRICS_TOKEN=METRICS_TOKEN)
    base = f"http://127.0.0.1:{bot.port}"
    try:
        bot.wait_ready()
        assert httpx.get(f"{base}/readyz", timeout=5).json()["status"] == "ready"
        body = command_body("/samverkan", "whoami", EVA, response_url=fake_slack.response_url("ops"))
        assert httpx.post(f"{base}/slack/events", content=body, headers=signed_headers(body, secret=SIGNING),
                          timeout=10).status_code == 200
        fake_slack.wait_for("respond")
        # Acknowledged by the web process, done by the worker: both in one scrape.
        assert httpx.get(f"{base}/metrics", timeout=5).status_code == 401
        scraped = eventually(lambda: httpx.get(f"{base}/metrics", headers=SCRAPER, timeout=5).text,
                             lambda b: value(b, "samverkan_commands_total", command="samverkan",
                                             subcommand="whoami", outcome="done") == 1)
        assert value(scraped, "samverkan_ack_duration_seconds_count", kind="command") == 1
        assert value(scraped, "samverkan_slack_calls_total", method="response_url", outcome="ok") == 1
    finally:
        bot.stop()
    log = bot.log.read_text()
    assert TOKEN not in log and SIGNING not in log and "abcdefSECRET" not in log
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]  # every line is one JSON object
    received = [line for line in lines if line.get("outcome") == "received"]
    done = [line for line in lines if line.get("outcome") == "done" and line.get("command") == "samverkan"]
    assert len(received) == 1 and len(done) == 1
    assert received[0]["request_id"] and received[0]["request_id"] == done[0]["request_id"]
    assert done[0]["user"] == EVA and done[0]["subcommand"] == "whoami" and done[0]["duration_ms"] > 0
    assert {"time", "level", "logger", "message"} <= done[0].keys()


def test_json_logs_carry_the_request_and_never_a_token_or_secret(capsys) -> None:  # type: ignore[no-untyped-def]
    import logging

    from bot.telemetry import following
    from samverkan.logs import configure_logging, settings_secrets
    from samverkan.settings import Settings

    settings = Settings(slack_bot_token=TOKEN, slack_signing_secret=SIGNING, slack_app_token="xapp-1-A1-9-beef",
                        database_url="postgresql+psycopg://samverkan:pg-Pa55word@db.example/samverkan")
    configure_logging("DEBUG", "json", settings_secrets(settings))
    with following("abc123"):
        logging.getLogger("slack_sdk.web.base_client").debug(
            "Sending a request - body_params: {'token': '%s'}, headers: {'Authorization': 'Bearer %s'}", TOKEN,
            "xoxp-7-user-token")
        logging.getLogger("samverkan").info("command done", extra={"command": "forum", "user": EVA,
                                                                   "outcome": "done", "duration_ms": 12.5})
    try:
        raise ConnectionError(f"could not connect to {settings.database_url} with {SIGNING}")
    except ConnectionError:
        logging.getLogger("samverkan").exception("the database is gone")
    logging.getLogger("socket").warning("opened %s", "wss://example/?ticket=xapp-1-A1-9-beef")
    out = capsys.readouterr().err
    for secret in (TOKEN, SIGNING, "pg-Pa55word", "xoxp-7-user-token", "xapp-1-A1-9-beef"):
        assert secret not in out
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 4, out
    assert lines[0]["request_id"] == "abc123" and "[redacted]" in lines[0]["message"]
    assert lines[1] | {"time": None} == {"level": "INFO", "logger": "samverkan", "message": "command done",
                                         "request_id": "abc123", "command": "forum", "user": EVA,
                                         "outcome": "done", "duration_ms": 12.5, "time": None}
    assert lines[2]["request_id"] is None and "ConnectionError" in lines[2]["exc_info"]


# -- what the figures must not tell (issue 18, items 3 and 4) ------------------------------------------------------
def commands_counted(body: str) -> dict[frozenset[tuple[str, str]], float]:
    return {labels: count for (name, labels), count in samples(body).items() if name == "samverkan_commands_total"}


@pytest.mark.slow
def test_a_record_one_may_not_see_and_a_missing_one_move_the_same_figures(slack_app) -> None:  # type: ignore[no-untyped-def]
    slack_app.fake.users[PER] = "per.strand@skolplattform.example"
    slack_app.ask("/samverkan", "whoami", PER)
    slack_app.ask("/incident", 'declare "WLAN nere" wlan 1', EVA)  # MI-1: the school-platform supplier is not in it
    slack_app.ask("/disagreement", "open supplier Laddare", EVA)  # D-1: between the City and the lead supplier
    done = 3

    def counted_when(total: int) -> dict[frozenset[tuple[str, str]], float]:
        """The commands counted, once `total` of them are (each is counted just after its answer is sent)."""
        return commands_counted(eventually(lambda: scrape(slack_app),
                                           lambda b: sum(commands_counted(b).values()) == total))

    for hidden, missing in (("/incident update MI-1 x", "/incident update MI-977 x"),
                            ("/disagreement comment D-1 x", "/disagreement comment D-977 x")):
        moved = []
        for tried in (hidden, missing):
            before = counted_when(done)
            command, words = tried.split(" ", 1)
            answer = slack_app.ask(command, words, PER)
            done += 1
            after = counted_when(done)
            moved.append(({k for k in after if after[k] != before.get(k, 0.0)}, answer.replace("977", "1")))
        assert moved[0] == moved[1], f"{hidden!r} and {missing!r} are told apart: {moved}"
        [labels] = moved[0][0]
        assert ("outcome", "explained") in labels


@pytest.mark.slow
def test_the_timeline_form_says_the_same_of_a_war_room_one_may_not_see_as_of_a_missing_one(slack_app) -> None:  # type: ignore[no-untyped-def]
    from tests.fakes.slack_http import Interactions

    act, fake = Interactions(slack_app), slack_app.fake
    fake.users[PER] = "per.strand@skolplattform.example"
    slack_app.ask("/samverkan", "whoami", PER)
    slack_app.ask("/incident", 'declare "WLAN nere" wlan 1', EVA)
    act.shortcut(EVA, "incident.timeline", "C0FORUM", "Switchen startas om", "1.000100")
    [opened] = fake.wait_for("views.open")
    form = fake.views[0]
    assert opened
    answers = [act.submit(PER, form, {"incident": ref, "text": "Switchen startas om"}).json()
               for ref in ("MI-1", "MI-977")]
    assert answers[0] == answers[1] and answers[0]["response_action"] == "errors"
    assert set(answers[0]["errors"]) == {"incident"}
    # The war room's own people are not refused.
    assert act.submit(EVA, form, {"incident": "MI-1", "text": "Switchen startas om"}).text == ""


def label_values(body: str, label: str) -> set[str]:
    return {dict(labels)[label] for (name, labels), _ in samples(body).items()
            if name.startswith("samverkan_command") and label in dict(labels)}


def closed_sets(core) -> tuple[set[str], set[str]]:  # type: ignore[no-untyped-def]
    commands = set(core.sets) | {"unknown"}
    subcommands = {s.name for c in core.sets.values() for s in c.subcommands} | {"help", "unknown"}
    return commands, subcommands


@pytest.mark.slow
def test_invented_commands_add_no_label_values_on_slack(slack_app) -> None:  # type: ignore[no-untyped-def]
    commands, subcommands = closed_sets(slack_app.runtime.core)
    real = sorted(slack_app.runtime.core.sets)
    for n in range(200):
        if n % 2:  # a command that does not exist, signed as Slack would (Slack sends only the app's own)
            body = command_body(f"/konkurrent{n}", f"sub{n} hej", EVA)
        else:  # a sub-command that does not exist, of one that does
            body = command_body(f"/{real[n % len(real)]}", f"konkurrentenharfelat{n} hej", EVA)
        assert slack_app.http.post("/slack/events", content=body, headers=signed_headers(body)).status_code in (
            200, 404)
    scraped = eventually(lambda: scrape(slack_app),
                         lambda b: sum(commands_counted(b).values()) >= 100)
    assert label_values(scraped, "command") <= commands
    assert label_values(scraped, "subcommand") <= subcommands
    assert "konkurrent" not in scraped


@pytest.mark.slow
def test_invented_commands_add_no_label_values_on_teams(database_url: str, clock) -> None:  # type: ignore[no-untyped-def]
    from tests.fakes.teams_api import FakeTeams
    from tests.fakes.teams_http import TeamsAppServer
    from tests.test_platforms import TeamsSide

    with FakeTeams() as fake, TeamsAppServer(database_url, fake, clock,
                                             samverkan_metrics_token=METRICS_TOKEN) as server:
        eva = TeamsSide(server).user("eva.lind")
        commands, subcommands = closed_sets(server.runtime.core)
        assert server.http.get("/metrics").status_code == 401
        real = sorted(server.runtime.core.sets)
        for n in range(200):
            words = f"konkurrentenharfelat{n} hej" if n % 2 else f"{real[n % len(real)]} konkurrent{n} hej"
            assert server.send(fake.activity(eva, words)).status_code == 200
        scraped = eventually(lambda: scrape(server), lambda b: sum(commands_counted(b).values()) == 200)
        assert label_values(scraped, "command") <= commands
        assert label_values(scraped, "subcommand") <= subcommands
        assert len(label_values(scraped, "command")) <= len(commands)
        assert "konkurrent" not in scraped
