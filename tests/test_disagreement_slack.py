"""Disagreements as Slack meets them: signed slash commands to the real bolt app, the sweep posting through the
fake Web API, each escalation once."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from bot.clock import STOCKHOLM
from handlers.slack_chat import SlackChat, web_client
from tests.conftest import BACKENDS

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", BACKENDS, indirect=True)]

EVA, KARIN, JOHAN, ALI, PER = "U01EVALIND", "U01KARINBG", "U02JOHANEK", "U02ALIHASN", "U0PERSTRAND"


def sweep(slack_app, worker: str = "w1", lease: timedelta = timedelta(minutes=2)) -> int:  # type: ignore[no-untyped-def]
    """A sweep by one process of several: its own runner, its own Slack client, the shared database."""
    core = slack_app.runtime.core
    core.plan()
    return core.duty_runner(SlackChat(web_client("xoxb-test", slack_app.fake.base_url)), worker, lease).sweep()


def told(slack_app, user: str, ref: str) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    """What Slack shows a person about a disagreement, in their direct messages; a channel never shows any."""
    assert not any(ref in (m.get("text") or "") for channel, messages in slack_app.fake.messages.items()
                   if not channel.startswith("D") for m in messages)
    return [m for m in slack_app.fake.posted(f"D{user}") if ref in (m.get("text") or "")]


def test_a_disagreement_over_signed_http_climbs_once_and_is_settled(slack_app, clock) -> None:  # type: ignore[no-untyped-def]
    slack_app.fake.users[PER] = "per.strand@skolplattform.example"
    opened = slack_app.ask("/disagreement", "open supplier Vem betalar för utbytta laddare", EVA)
    assert opened.startswith("Oenigheten är registrerad som *D-1*")
    [notice] = told(slack_app, KARIN, "D-1")
    assert "*D-1 Vem betalar för utbytta laddare*" in notice["text"] and "<@U01KARINBG>" in notice["text"]
    hidden = slack_app.ask("/disagreement", "show D-1", PER)
    assert hidden == slack_app.ask("/disagreement", "show D-1", PER)
    assert hidden.replace("D-1", "X") == slack_app.ask("/disagreement", "show D-404", PER).replace("D-404", "X")

    clock.set(datetime(2027, 1, 14, 10, 1, tzinfo=STOCKHOLM))
    assert sweep(slack_app, "process-a") >= 1
    sweep(slack_app, "process-b")  # a second process finds nothing left to do
    [moved] = told(slack_app, ALI, "D-1")
    assert "nivå 3 av 5: *Övergripande tjänsteforum*" in moved["text"] and "<@U02ALIHASN>" in moved["text"]
    assert moved["metadata"]["event_payload"]["key"] == "disagreement.escalate:1:1#ali.hassan"
    # Johan was told when it was opened (the supplier's Kundansvarig answers for it where nobody holds the
    # forum's role) and once, not twice, that it climbed.
    keys = [((m.get("metadata") or {}).get("event_payload") or {}).get("key", "")
            for m in told(slack_app, JOHAN, "D-1")]
    assert len(keys) == 2 and sum(k.startswith("disagreement.escalate:1:1#") for k in keys) == 1, keys

    assert "registrerat" in slack_app.ask("/disagreement", "propose D-1 Staden betalar i år", JOHAN)
    assert "Väntar på" in slack_app.ask("/disagreement", "accept D-1", JOHAN)
    assert slack_app.ask("/disagreement", "accept D-1", KARIN) == "D-1 är avgjord: Staden betalar i år"
    assert "är avgjord" in told(slack_app, ALI, "D-1")[-1]["text"]
    clock.set(datetime(2027, 12, 31, 12, 0, tzinfo=STOCKHOLM))
    sweep(slack_app)
    assert not slack_app.fake.posted("#forum-kontraktsforum") or all(
        "D-1" not in m["text"] for m in slack_app.fake.posted("#forum-kontraktsforum"))
    assert "Avgjord vid Övergripande tjänsteforum" in slack_app.ask("/disagreement", "show D-1", EVA)


def submission(user: str, channel: str, **fields: str) -> str:
    import json
    from urllib.parse import urlencode

    values = {}
    for name, value in fields.items():
        if name in ("counterparty", "service", "level"):
            values[name] = {"value": {"type": "static_select", "selected_option": {"value": value}}}
        else:
            values[name] = {"value": {"type": "plain_text_input", "value": value}}
    payload = {"type": "view_submission", "team": {"id": "T1"}, "user": {"id": user}, "api_app_id": "A1",
               "trigger_id": f"4.5.{uuid.uuid4().hex}",
               "view": {"id": "V1", "type": "modal", "callback_id": "disagreement.open",
                                               "private_metadata": json.dumps({"channel": channel}),
                                               "state": {"values": values}}}
    return urlencode({"payload": json.dumps(payload)})


def test_the_form_opens_and_its_submission_goes_through_the_same_rules(slack_app) -> None:  # type: ignore[no-untyped-def]
    import json

    from tests.fakes.slack_http import signed_headers

    response = slack_app.command("/disagreement", "open", EVA, trigger_id="1.2.3")
    assert response.status_code == 200 and response.text == ""
    [opened] = slack_app.fake.wait_for("views.open")
    view = json.loads(opened.params["view"]) if isinstance(opened.params["view"], str) else opened.params["view"]
    assert opened.params["trigger_id"] == "1.2.3" and view["callback_id"] == "disagreement.open"
    assert [b["block_id"] for b in view["blocks"]] == ["counterparty", "title", "description", "service", "level"]

    body = submission(EVA, "C0FORUM", counterparty="supplier", title="Vite för sena leveranser",
                      description="Tre leveranser i december kom för sent.\nSe bilaga.", service="digitala-enheter",
                      level="kontraktsforum")
    response = slack_app.http.post("/slack/events", content=body, headers=signed_headers(body))
    assert response.status_code == 200
    [answer] = slack_app.fake.wait_for("chat.postEphemeral")
    assert answer.params["user"] == EVA and "registrerad som *D-1*" in answer.params["text"]
    assert "*D-1 Vite för sena leveranser*" in told(slack_app, JOHAN, "D-1")[0]["text"]
    shown = slack_app.ask("/disagreement", "show D-1", JOHAN)
    assert "Beskrivning: Tre leveranser i december kom för sent.\nSe bilaga." in shown
    assert "Tjänst: Digitala enheter" in shown

    # A bad field keeps the form open with the error beside it, and nothing is written down.
    body = submission(EVA, "C0FORUM", counterparty="city", title="Mot oss själva")
    answer = slack_app.http.post("/slack/events", content=body, headers=signed_headers(body)).json()
    assert answer["response_action"] == "errors" and set(answer["errors"]) == {"counterparty"}
    assert answer["errors"]["counterparty"].startswith("Du tillhör själv")
    assert len(slack_app.fake.calls_to("chat.postEphemeral")) == 1
    assert "D-2" not in slack_app.ask("/disagreement", "list all", EVA)


def test_the_counterparty_is_told_whoever_opens_it(slack_app) -> None:  # type: ignore[no-untyped-def]
    """Issue 18, item 9: the lead supplier opens a question against the school platform supplier; the City leads
    it and is told, and so is the school platform supplier, of another organisation, reached by e-mail."""
    slack_app.fake.users[PER] = "per.strand@skolplattform.example"
    opened = slack_app.ask("/disagreement", "open school-platform Gränsdragning för inloggning", JOHAN)
    assert opened.startswith("Oenigheten är registrerad som *D-1*"), opened
    assert told(slack_app, PER, "D-1") and told(slack_app, KARIN, "D-1")
    assert not told(slack_app, JOHAN, "D-1")  # the opener has the answer
