"""Socket Mode end to end (issue 10): the real bolt app behind slack_sdk's own Socket Mode client, against a fake
Socket Mode server and the fake Web API on loopback. A command and a form arrive and are answered; a dropped
connection is reopened by the client itself; an envelope Slack delivers again is acknowledged and not done twice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text

from samverkan.settings import Settings
from samverkan.wiring import Runtime, build, socket_mode
from tests.fakes.slack_api import FakeSlack
from tests.fakes.socket_mode import FakeSocketMode

pytestmark = pytest.mark.slow
EVA = "U01EVALIND"


@pytest.fixture
def connected(fake_slack: FakeSlack, tmp_path, clock) -> Iterator[tuple[Runtime, FakeSocketMode]]:  # type: ignore[no-untyped-def]
    with FakeSocketMode() as server:
        fake_slack.socket_mode_url = server.url
        runtime = build(Settings(slack_bot_token="xoxb-test", slack_app_token="xapp-test", samverkan_lang="sv",
                                 slack_api_url=fake_slack.base_url, database_url=f"sqlite:///{tmp_path / 's.db'}"),
                        clock)
        handler = socket_mode(runtime)
        handler.connect()
        try:
            server.connected()
            yield runtime, server
        finally:
            handler.close()
            runtime.close()


def command(fake: FakeSlack, trigger: str, words: str, token: str) -> dict[str, str]:
    return {"token": "legacy", "team_id": "T1", "channel_id": "C0FORUM", "user_id": EVA, "command": "/forum",
            "text": words, "api_app_id": "A1", "response_url": fake.response_url(token), "trigger_id": trigger}


def entries(runtime: Runtime) -> int:
    with runtime.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM inbox")).scalar() or 0)


def test_commands_and_forms_arrive_over_socket_mode_and_a_redelivery_is_done_once(  # type: ignore[no-untyped-def]
        connected, fake_slack: FakeSlack) -> None:
    runtime, server = connected
    server.push("e1", "slash_commands", command(fake_slack, "t.1", "decision kontraktsforum Vite införs", "first"))
    [answer] = fake_slack.wait_for("respond")
    assert answer.params["_token"] == "first" and answer.params["text"].startswith("Beslutet är antecknat")

    form = {"type": "view_submission", "team": {"id": "T1"}, "user": {"id": EVA}, "trigger_id": "t.2",
            "view": {"id": "V1", "type": "modal", "callback_id": "disagreement.open",
                     "private_metadata": json.dumps({"channel": "C0FORUM"}), "state": {"values": {
                         "counterparty": {"value": {"type": "static_select", "selected_option": {"value": "supplier"}}},
                         "title": {"value": {"type": "plain_text_input", "value": "Vite för sena leveranser"}}}}}}
    server.push("e2", "interactive", form)
    [opened] = fake_slack.wait_for("chat.postEphemeral")
    assert "registrerad som *D-" in opened.params["text"]

    server.drop()  # Slack drops the connection; the client asks for a new one and comes back
    server.connected(2)
    assert len(fake_slack.calls_to("apps.connections.open")) >= 2
    # The first envelope again, as Slack redelivers one whose acknowledgement it never got.
    server.push("e1", "slash_commands", command(fake_slack, "t.1", "decision kontraktsforum Vite införs", "first"),
                retry_attempt=1)
    server.push("e3", "slash_commands", command(fake_slack, "t.3", "list", "third"))
    fake_slack.wait_for("respond", 2)
    assert entries(runtime) == 3  # the redelivery was acknowledged, and not written down again
    with runtime.core.unit_of_work() as uow:
        assert len(uow.forum.decisions("kontraktsforum", runtime.core.clock.now() - timedelta(days=1))) == 1
    assert [c.params["_token"] for c in fake_slack.calls_to("respond")].count("first") == 1
