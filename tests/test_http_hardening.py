"""Whatever arrives at the HTTP endpoint, the bot answers with a status and not a traceback; the signature is
checked before anything is parsed; and idle connections cannot starve the server (issue 10, items 6 and 7)."""

from __future__ import annotations

import json
import logging
import socket
import time
from urllib.parse import urlencode

import httpx
import pytest

from tests.fakes.slack_http import SlackAppServer, command_body, signed_headers

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

EVA = "U01EVALIND"


def post(app: SlackAppServer, body: str, headers: dict[str, str]) -> httpx.Response:
    return app.http.post("/slack/events", content=body, headers=headers)


@pytest.mark.parametrize(("body", "content_type"), [
    ("payload=%7Bbad", "application/x-www-form-urlencoded"),
    ("{bad", "application/json"),
    ("\xff\xfe", "application/x-www-form-urlencoded"),
])
def test_unsigned_junk_is_refused_before_it_is_read(slack_app: SlackAppServer, caplog, body: str,  # type: ignore[no-untyped-def]
                                                     content_type: str) -> None:
    caplog.set_level(logging.WARNING)
    response = post(slack_app, body, {"Content-Type": content_type})
    assert response.status_code == 401
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize("timestamp", ["garbage", "", "1e9", "-5", "99999999999999999999999"])
def test_a_garbage_timestamp_is_an_unsigned_request(slack_app: SlackAppServer, caplog, timestamp: str) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.WARNING)
    body = command_body("/samverkan", "whoami", EVA)
    headers = {**signed_headers(body), "X-Slack-Request-Timestamp": timestamp}
    assert post(slack_app, body, headers).status_code == 401
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize("body", ["payload=%7Bbad", "payload=%5B1%2C2%5D", "payload=null"])
def test_a_signed_but_malformed_request_is_a_bad_request(slack_app: SlackAppServer, caplog, body: str) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.WARNING)
    assert post(slack_app, body, signed_headers(body)).status_code == 400
    assert not [r for r in caplog.records if r.exc_info]


def test_malformed_forms_are_answered_not_crashed_on(slack_app: SlackAppServer, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.WARNING)
    # A declaration form that is not shaped as Slack shapes one: refused as such, nothing declared.
    for view in ({"callback_id": "incident.declare"}, 7):
        broken = {"type": "view_submission", "user": {"id": EVA}, "view": view}
        body = urlencode({"payload": json.dumps(broken)})
        assert post(slack_app, body, signed_headers(body)).status_code == 400
    # One whose state holds nonsense: the form stays open, with what is missing beside its fields.
    odd = {"type": "view_submission", "user": {"id": EVA},
           "view": {"type": "modal", "callback_id": "incident.declare", "private_metadata": "not json",
                    "state": {"values": 7}}}
    body = urlencode({"payload": json.dumps(odd)})
    answer = post(slack_app, body, signed_headers(body))
    assert answer.status_code == 200 and answer.json()["response_action"] == "errors"
    assert set(answer.json()["errors"]) == {"title", "severity"}
    # A disagreement form without a counterparty is answered with what is missing, beside it.
    empty = {"type": "view_submission", "user": {"id": EVA},
             "view": {"type": "modal", "callback_id": "disagreement.open", "private_metadata": "{}",
                      "state": {"values": {"title": {"value": {"type": "plain_text_input", "value": "X"}}}}}}
    body = urlencode({"payload": json.dumps(empty)})
    answer = post(slack_app, body, signed_headers(body))
    assert answer.status_code == 200 and answer.json() == {"response_action": "errors",
                                                           "errors": {"counterparty": "Fyll i det här."}}
    assert not slack_app.fake.calls_to("chat.postEphemeral")  # nothing went on to be done
    assert not [r for r in caplog.records if r.exc_info]
    with slack_app.runtime.core.unit_of_work() as uow:
        assert not uow.incidents.open_incidents()


DEEP = ["[" * 10_000, '{"a":' * 10_000, '{"type": "block_actions", "actions": ' + "[" * 5_000]


@pytest.mark.parametrize("deep", DEEP)
@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_a_signed_request_nested_too_deeply_is_a_bad_request_without_a_traceback(  # type: ignore[no-untyped-def]
        slack_app: SlackAppServer, caplog, capfd, deep: str, content_type: str) -> None:
    # An event's JSON body, or an interaction's `payload=` form field (issue 18 item 7): json's RecursionError
    # must not escape as a traceback.
    caplog.set_level(logging.INFO)
    body = deep if content_type == "application/json" else urlencode({"payload": deep})
    answer = post(slack_app, body, {**signed_headers(body), "Content-Type": content_type})
    assert answer.status_code == 400
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.exc_info]
    assert "Traceback" not in capfd.readouterr().err
    assert slack_app.ask("/samverkan", "whoami", EVA).startswith("Du är *Eva Lind*")  # and the bot still serves


def test_a_signed_request_nested_as_deep_as_slack_nests_is_read(slack_app: SlackAppServer) -> None:
    # A block action nested a dozen levels, with brackets inside its strings: not mistaken for deep nesting.
    payload = {"type": "block_actions", "user": {"id": EVA}, "actions": [{"value": "[[[[{{{{" * 100}],
               "x": [[[[[[[[[[{"y": "]]]\\\"[[["}]]]]]]]]]]}
    body = urlencode({"payload": json.dumps(payload)})
    assert post(slack_app, body, signed_headers(body)).status_code != 400


def test_a_body_too_large_or_without_length_is_refused(slack_app: SlackAppServer) -> None:
    big = "x" * 1_000_001
    assert post(slack_app, big, signed_headers(big)).status_code == 413
    assert slack_app.http.get("/slack/events").status_code == 405


def test_idle_connections_do_not_starve_the_server(slack_app: SlackAppServer) -> None:
    port = slack_app.server.effective_port
    idle = []
    try:
        for _ in range(150):  # half-open: connected, never a byte sent
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        started = time.monotonic()
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
        assert slack_app.ask("/samverkan", "whoami", EVA).startswith("Du är *Eva Lind*")
        assert time.monotonic() - started < 10
    finally:
        for sock in idle:
            sock.close()
