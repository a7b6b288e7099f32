"""The bot as Slack meets it: signed requests to the real bolt app over HTTP, answers through the fake Web API."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest

from tests.conftest import BACKENDS
from tests.fakes.slack_api import Fault
from tests.fakes.slack_http import command_body, signed_headers

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", BACKENDS, indirect=True)]

EVA, JOHAN = "U01EVALIND", "U02JOHANEK"


def directory_keys(slack_app) -> set[str]:  # type: ignore[no-untyped-def]
    with slack_app.runtime.core.unit_of_work() as uow:
        return uow.directory.keys()


def test_two_people_of_two_parties_use_the_directory(slack_app) -> None:  # type: ignore[no-untyped-def]
    assert slack_app.ask("/samverkan", "whoami", JOHAN).startswith("Du är *Johan Ek* · Leverantören")
    assert "Stadens kontakt vid större incident" in slack_app.ask("/samverkan", "whoami", EVA)
    listing = slack_app.ask("/samverkan", "directory supplier", EVA)
    assert "*Katalogen* (4 personer)" in listing and "Johan Ek" in listing
    added = slack_app.ask("/samverkan", "person add supplier <mailto:ny@supplier.example|ny@supplier.example> Ny "
                          "Person", EVA)
    assert "Tillagd i katalogen: *Ny Person*" in added
    assert "ny.person" in directory_keys(slack_app)
    assert slack_app.fake.calls_to("users.lookupByEmail")[0].params["email"] == "ny@supplier.example"


def test_the_ack_comes_before_the_work(slack_app) -> None:  # type: ignore[no-untyped-def]
    # Every Web API call is slow: the HTTP answer must still come back before the bot starts talking to Slack.
    slack_app.fake.delay = 0.5
    response = slack_app.command("/samverkan", "whoami", JOHAN, token="slow")
    acked = time.monotonic()
    assert response.status_code == 200 and response.text == ""
    answer = slack_app.fake.wait_for("respond")[0]
    assert answer.at > acked and answer.params["response_type"] == "ephemeral"


def test_someone_known_only_by_email_is_recognised_through_users_info(slack_app) -> None:  # type: ignore[no-untyped-def]
    slack_app.fake.users["U0SARANORD"] = "sara.nord@slk.stockholm.example"
    assert "*Sara Nord*" in slack_app.ask("/samverkan", "whoami", "U0SARANORD")
    assert "*Sara Nord*" in slack_app.ask("/samverkan", "whoami", "U0SARANORD")
    assert len(slack_app.fake.calls_to("users.info")) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"X-Slack-Signature": "v0=" + "0" * 64},
        {"stale": "6 minutes"},
        {"secret": "another app's secret"},
    ],
    ids=["missing", "wrong", "stale", "other-secret"],
)
def test_forged_requests_get_401_and_change_nothing(slack_app, headers) -> None:  # type: ignore[no-untyped-def]
    body = command_body("/samverkan", "person remove johan.ek", EVA, response_url=slack_app.fake.response_url())
    good = signed_headers(body)
    if "stale" in headers:
        sent = signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    elif "secret" in headers:
        sent = signed_headers(body, secret="not-ours")
    elif "X-Slack-Signature" in headers:
        sent = {**good, **headers}
    else:
        sent = headers
    response = slack_app.http.post("/slack/events", content=body, headers=sent)
    assert response.status_code == 401
    time.sleep(0.3)  # give a wrongly accepted command the time to run, so the assertions below could fail
    assert "johan.ek" in directory_keys(slack_app)
    assert slack_app.fake.calls == []


def test_a_wrong_sub_command_gets_short_help(slack_app) -> None:  # type: ignore[no-untyped-def]
    answer = slack_app.ask("/samverkan", "lista", JOHAN)
    assert answer.startswith("`/samverkan lista` känner jag inte till.")
    assert "Traceback" not in answer
    assert slack_app.ask("/incident", "lista-alla", JOHAN).startswith("`/incident lista-alla` känner jag inte till.")


def test_rate_limits_are_waited_out_and_connection_errors_retried(slack_app) -> None:  # type: ignore[no-untyped-def]
    slack_app.fake.fail("respond", Fault(429, {"Retry-After": "1"}))
    slack_app.fake.fail("users.info", Fault(drop_connection=True))
    slack_app.fake.users["U0SARANORD"] = "sara.nord@slk.stockholm.example"
    started = time.monotonic()
    assert "*Sara Nord*" in slack_app.ask("/samverkan", "whoami", "U0SARANORD")
    calls = slack_app.fake.calls_to("respond")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= 0.9  # Retry-After honoured
    assert [c.status for c in slack_app.fake.calls_to("users.info")] == [0, 200]
    assert time.monotonic() - started < 8


def test_health_check(slack_app) -> None:  # type: ignore[no-untyped-def]
    response = slack_app.http.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert slack_app.http.get("/nowhere").status_code == 404


def test_ssl_check_and_url_verification_are_answered(slack_app) -> None:  # type: ignore[no-untyped-def]
    body = urlencode({"ssl_check": "1", "token": "x"})
    assert slack_app.http.post("/slack/events", content=body, headers=signed_headers(body)).status_code == 200


def test_the_forum_calendar_over_slack(slack_app) -> None:  # type: ignore[no-untyped-def]
    added = slack_app.ask("/forum", "agenda kontraktsforum add Vite för sena leveranser", JOHAN)
    assert added == "Punkten är anmäld till Kontraktsforum tisdag 19 januari 2027 kl. 10:00: Vite för sena leveranser"
    moved = slack_app.ask("/forum", "move kontraktsforum 2027-01-19 2027-01-21", EVA)
    assert moved.endswith("är flyttat till torsdag 21 januari 2027 kl. 10:00 (av Eva Lind).")
    [announcement] = slack_app.fake.posted("#forum-kontraktsforum")
    assert announcement["text"] == moved
    assert "1. Vite för sena leveranser" in slack_app.ask("/forum", "agenda kontraktsforum", EVA)
