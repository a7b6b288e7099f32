"""Issue 18, item 5: the platforms' limits on a message. The fakes refuse what Slack and Teams refuse; the
adapters cut a message to the limits rather than be refused; a refusal as too long is permanent, not retried."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.app import Samverkan
from bot.chat import Undeliverable
from bot.clock import STOCKHOLM, ManualClock
from bot.message import Button, Line, Message, Text
from tests.fakes.recording_chat import RecordingChat


def huge(lines: int = 61, length: int = 2000) -> Message:
    return Message(tuple(Line((Text(f"Rad {n:02d} " + "x" * length),)) for n in range(lines)),
                   (Button("Lägg till punkt", "forum.agenda", "kontraktsforum add"),))


def _section(text: str) -> dict:  # type: ignore[type-arg]
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


@pytest.mark.parametrize(("text", "blocks", "error"), [
    ("x" * 40_001, None, "msg_too_long"),
    ("x", [_section("x")] * 51, "invalid_blocks"),
    ("x", [_section("x" * 3001)], "invalid_blocks"),
])
def test_the_fake_slack_refuses_what_slack_refuses(text: str, blocks: list | None, error: str) -> None:  # type: ignore[type-arg]
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    from tests.fakes.slack_api import FakeSlack

    with FakeSlack() as fake:
        client = WebClient(base_url=fake.base_url, token="xoxb-t")
        with pytest.raises(SlackApiError) as refused:
            client.chat_postMessage(channel="#forum-kontraktsforum", text=text, blocks=blocks)
        assert refused.value.response["error"] == error
        client.chat_postMessage(channel="#forum-kontraktsforum", text="x" * 40_000, blocks=[_section("x" * 3000)] * 50)


def test_the_slack_adapter_cuts_a_message_to_the_limits() -> None:
    from slack_sdk import WebClient

    from handlers.slack_chat import SlackChat
    from tests.fakes.slack_api import FakeSlack

    with FakeSlack() as fake:
        chat = SlackChat(WebClient(base_url=fake.base_url, token="xoxb-t"))
        ref = chat.post("#forum-kontraktsforum", huge())
        [posted] = fake.posted("#forum-kontraktsforum")
        assert posted["ts"] == ref and "avkortat" in posted["text"] and "Rad 60" not in posted["text"]
        assert posted["blocks"][-1]["type"] == "actions"  # the buttons stay
        assert chat.update("#forum-kontraktsforum", ref, huge(lines=80))
        chat.direct("U01EVALIND", huge(lines=30, length=3500))
        assert "avkortat" in fake.posted("DU01EVALIND")[0]["text"]


def test_the_fake_teams_refuses_an_activity_over_28_kb() -> None:
    from tests.fakes.teams_api import FakeTeams

    fake = FakeTeams.__new__(FakeTeams)
    status, answer = FakeTeams._connector(fake, "POST", "/v3/conversations/19:x/activities",
                                          {"type": "message", "text": "å" * 15_000})
    assert status == 413 and answer["error"]["code"] == "MessageSizeTooBig"


def test_the_teams_adapter_fits_an_activity_under_28_kb() -> None:
    from teams.limits import MAX_ACTIVITY, fit, size
    from teams.render import activity

    shown = fit(huge(), activity)
    assert size(shown) <= MAX_ACTIVITY and "avkortat" in shown["text"] and shown["attachments"]


def test_a_message_the_platform_refuses_as_too_long_is_not_retried(core: Samverkan, clock: ManualClock) -> None:
    class Refusing(RecordingChat):
        def post(self, channel: str, message: Message, key: str | None = None) -> str:
            raise Undeliverable("msg_too_long")

    core.plan()
    clock.set(datetime(2027, 1, 12, 10, 0, tzinfo=STOCKHOLM))
    runner = core.duty_runner(Refusing(), lease=timedelta(seconds=1), worker="w")
    runner.sweep()
    with core.unit_of_work() as uow:
        outcomes = [e for e in uow.events.history(kind_prefix="duty.") if "kontraktsforum" in e.subject]
    assert [e.kind for e in outcomes] == ["duty.dropped"]  # at once, not after eight tries
    assert "refused by the platform" in outcomes[0].data["note"]


def test_the_slack_adapter_says_a_refusal_as_too_long_is_permanent() -> None:
    from unittest.mock import MagicMock

    from slack_sdk.errors import SlackApiError

    from handlers.slack_chat import SlackChat

    client = MagicMock()
    client.chat_postMessage.side_effect = SlackApiError("refused", {"ok": False, "error": "msg_blocks_too_long"})
    with pytest.raises(Undeliverable):
        SlackChat(client).post("C1", huge(lines=2))
    assert client.chat_postMessage.call_count == 2  # the message as fitted, then a screenful of it

