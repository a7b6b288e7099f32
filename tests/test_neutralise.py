"""No text typed by a person can notify a channel, the workspace or a user group, whichever way it travels: each
path where user text is posted is tried with Slack's broadcast markup in it, over signed HTTP, and everything the
fake Slack received is searched. The bot's own mentions (the Service Desk's group in a brief) still notify. (That
no mention, labelled link or formatting typed by a person survives either is tried in test_typed_text.py.)"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.message import Mention, Text, line
from handlers.slack_render import mrkdwn, neutralise
from tests.fakes.slack_http import SlackAppServer

EVA, JOHAN, SDJOUR, NOC = "U01EVALIND", "U02JOHANEK", "U02SDJOUR1", "U0NOC"
INJECTED = "<!channel> <!here|here> <!everyone> <!subteam^S0EVIL|@evil> @channel"
FORBIDDEN = ("<!channel", "<!here", "<!everyone", "<!subteam^S0EVIL", "@channel", "@here", "@everyone")
INCIDENT = '/incident declare "WLAN nere" wlan 1'
DISAGREEMENT = "/disagreement open school-platform Gränsdragning"



def texts(value: Any) -> list[str]:
    """Every string inside a call's parameters (text, blocks, topics, views), however nested."""
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return [value]
        return texts(decoded) if isinstance(decoded, dict | list) else [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in texts(v)]
    return []


# (what is tried, commands first as "<user> <command line>", then the one carrying the injected text as {x})
PATHS: dict[str, tuple] = {  # type: ignore[type-arg]
    "incident title": ((), f'{EVA} /incident declare "Lurig {{x}}" wlan 1'),
    "incident description": ((), f'{EVA} /incident declare "WLAN nere" wlan 1 -- Lurig {{x}}'),
    "incident update": ((f"{EVA} {INCIDENT}",), f"{EVA} /incident update MI-1 Lurig {{x}}"),
    "incident resolution": ((f"{EVA} {INCIDENT}",), f"{EVA} /incident resolve MI-1 Lurig {{x}}"),
    "deployment": ((), f"{JOHAN} /deploy announce service-desk 2027-02-03 18:00 Lurig {{x}}"),
    "decision": ((), f"{EVA} /forum decision kontraktsforum Lurig {{x}}"),
    "action": ((), f"{EVA} /forum action kontraktsforum johan.ek 2027-02-01 Lurig {{x}}"),
    "agenda item": ((), f"{EVA} /forum agenda kontraktsforum add Lurig {{x}}"),
    "disagreement title": ((), f"{JOHAN} /disagreement open city Lurig {{x}}"),
    "disagreement description": ((), f'{JOHAN} /disagreement open city "beskrivning=Lurig {{x}}" Rubrik',
                                 f"{EVA} /disagreement show D-1"),
    "comment": ((f"{JOHAN} {DISAGREEMENT}",), f"{JOHAN} /disagreement comment D-1 Lurig {{x}}",
                f"{EVA} /disagreement show D-1"),
    "proposal": ((f"{JOHAN} {DISAGREEMENT}",), f"{JOHAN} /disagreement propose D-1 Lurig {{x}}"),
    # A question between suppliers does not climb: escalation is tried on one between the City and the supplier.
    "escalation reason": ((f"{JOHAN} /disagreement open city Gränsdragning",),
                          f"{JOHAN} /disagreement escalate D-1 Lurig {{x}}"),
    "clarification": ((f"{JOHAN} {DISAGREEMENT}",), f"{EVA} /disagreement clarify D-1 Lurig {{x}}"),
    "report": ((), f"{JOHAN} /forum report problemmote Lurig {{x}}"),
    "rejection reason": ((f"{JOHAN} {DISAGREEMENT}", f"{JOHAN} /disagreement propose D-1 X"),
                         f"{JOHAN} /disagreement reject D-1 Lurig {{x}}"),
    "person's name": ((), f'{EVA} /samverkan person add network-ops <@U0OLLE> "Lurig {{x}}"'),
}


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_user_text_never_notifies_a_channel(slack_app: SlackAppServer, path: str) -> None:
    fake = slack_app.fake
    fake.usergroups["S02SDJOUR"] = [SDJOUR]
    fake.users["U0PERSTRAND"] = "per.strand@skolplattform.example"
    setup, tried, *then = PATHS[path]
    for line_ in [*setup, tried.format(x=INJECTED), *then]:
        user, command, words = line_.split(" ", 2)
        answer = slack_app.ask(command, words, user)
        assert "gick fel" not in answer
    if path == "agenda item":
        # Agenda items reach a channel in the forum's reminders.
        slack_app.runtime.core.plan()
        slack_app.runtime.core.clock.set(slack_app.runtime.core.clock.now().replace(day=12, hour=10))
        slack_app.runtime.core.runner.sweep()
    if path == "person's name":
        slack_app.ask("/samverkan", "directory network-ops", EVA)
    said = [t for call in fake.calls for t in texts(call.params)]
    assert any("Lurig" in t for t in said), "the text never reached Slack: the path was not tried"
    for text_ in said:
        for forbidden in FORBIDDEN:
            assert forbidden not in text_, f"{forbidden!r} reached Slack on the {path} path: {text_!r}"


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_user_text_never_notifies_from_a_home_or_a_message_kept_current(slack_app: SlackAppServer) -> None:
    """The same text on the paths that redraw it: a notice updated in place (chat.update), a Home
    (views.publish), a form's label (views.open) and the action kept current in its channel."""
    from tests.fakes.slack_http import Interactions

    fake, act = slack_app.fake, Interactions(slack_app)
    slack_app.ask("/disagreement", f"open city nivå=kontraktsforum Lurig {INJECTED}", JOHAN)
    slack_app.ask("/disagreement", f"propose D-1 Lurig {INJECTED}", "U01KARINBG")
    act.click(JOHAN, "disagreement.reject", "D-1", channel=f"D{JOHAN}")
    fake.wait_for("views.open")
    slack_app.ask("/forum", f"action kontraktsforum johan.ek 2027-02-01 Lurig {INJECTED}", "U01KARINBG")
    slack_app.ask("/forum", "done A-1", JOHAN)
    for user in (JOHAN, "U01KARINBG"):
        act.home_opened(user)
    fake.wait_for("views.publish", 2)
    fake.wait_for("chat.update", 2)
    said = [t for method in ("chat.update", "views.publish", "views.open") for call in fake.calls_to(method)
            for t in texts(call.params)]
    assert sum("Lurig" in t for t in said) >= 3, "the text never reached Slack on these paths"
    for text_ in said:
        for forbidden in FORBIDDEN:
            assert forbidden not in text_, f"{forbidden!r} reached Slack: {text_!r}"


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_bots_own_mentions_still_notify(slack_app: SlackAppServer) -> None:
    slack_app.fake.usergroups["S02SDJOUR"] = [SDJOUR]
    slack_app.ask("/incident", 'declare "WLAN nere" wlan 1', EVA)
    slack_app.fake.wait_for("pins.add")
    [brief] = [c.params["text"] for c in slack_app.fake.calls_to("chat.postMessage")
               if "Större incident MI-1:" in c.params.get("text", "")]
    assert "<!subteam^S02SDJOUR>" in brief  # the on-duty rota, mentioned by the bot itself


def test_the_neutraliser_keeps_no_markup_and_defangs_broadcasts() -> None:
    # A person's mention, channel and labelled link are shown as the characters they hold (issue 18): see
    # test_typed_text.py for each path.
    assert neutralise("<@U123|eva> <#C1|x> <https://a.example|l>") == "@eva #x l (https://a.example)"
    assert neutralise("<!channel> <!subteam^S1|@jour>") == "@\u2060channel @\u2060jour"
    assert neutralise("a & b <c>") == "a &amp; b &lt;c&gt;"
    assert mrkdwn(line(Mention("Jour", group="S1"), Text(" <!here>"))) == "<!subteam^S1> @\u2060here"
