"""Typed text is text on every path (issue 18, items 1 and 2): a person's words reach Slack with no link whose label
is not its address, no mention of anyone, no channel reference and none of mrkdwn's formatting, and reach a Teams
card with no Markdown. Each path is tried over signed HTTP against the fake Slack and Teams, and everything they
received after the words were sent is searched."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from bot.message import Text, line
from handlers.slack_render import mrkdwn, neutralise, safe_plain
from teams.render import form_card, markdown_escaped
from tests.fakes.slack_http import Interactions, SlackAppServer
from tests.test_neutralise import texts

EVA, JOHAN, LARS, SDJOUR = "U01EVALIND", "U02JOHANEK", "U01LARSHLM", "U02SDJOUR1"
# What a person types, and what Slack sends of a slash command when they type it (should_escape: the characters
# & < > escaped; a mention and a link they make in Slack's own editor arrive as markup).
LINK = "<https://evil.example/login|https://stockholm.se/avtal>"
TYPED = f"se {LINK} <@{LARS}> <!channel> *fet* _kursiv_ ~struken~ `kod`"
ESCAPED = TYPED.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
IN_COMMAND = f"{TYPED} {ESCAPED}"
# A link whose label is not its address, in Slack's markup.
DISGUISED = re.compile(r"<(https?://[^|<>]+)\|([^<>]*)>")
T = TypeVar("T")


def wait(found: Callable[[], T], what: str, timeout: float = 10.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = found()
        if value:
            return value
        assert time.monotonic() < deadline, f"waited in vain for {what}"
        time.sleep(0.02)


def said_since(slack: SlackAppServer, first: int) -> list[str]:
    return [t for call in slack.fake.calls[first:] for t in texts(call.params)]


def assert_only_text(said: list[str], path: str) -> None:
    assert any("evil.example" in t for t in said), f"the typed text never reached Slack on the {path} path"
    for shown in said:
        for address, label in DISGUISED.findall(shown):
            assert label in ("", address), f"a disguised link reached Slack on the {path} path: {shown!r}"
        assert f"<@{LARS}" not in shown, f"a typed mention reached Slack on the {path} path: {shown!r}"
        assert "<!" not in shown.replace("<!subteam^S02SDJOUR>", ""), f"a special on the {path} path: {shown!r}"
        assert "<#" not in shown, f"a channel reference reached Slack on the {path} path: {shown!r}"
        for formatted in ("*fet*", "_kursiv_", "~struken~", "`kod`"):
            assert formatted not in shown, f"typed {formatted} would be formatted on the {path} path: {shown!r}"


def war_room(slack: SlackAppServer):  # type: ignore[no-untyped-def]
    def assembled():  # type: ignore[no-untyped-def]
        with slack.runtime.core.unit_of_work() as uow:
            found = [i for i in uow.incidents.open_incidents() if i.assembled_at is not None]
        return found[-1] if found else None

    return wait(assembled, "the war room assembled")


def quiet(slack: SlackAppServer) -> None:
    """Until no duty is being performed or waiting (the sweep doing what the scheduler would)."""
    from sqlalchemy import text

    def idle() -> bool:
        slack.runtime.core.runner.sweep()
        with slack.runtime.engine.connect() as connection:
            return not connection.execute(text(
                "SELECT count(*) FROM duty WHERE state = 'claimed' OR (state = 'pending' AND kind LIKE 'home.%')"
            )).scalar()

    wait(idle, "the work after the acknowledgement to end")


# (commands before, as "<user> <command> <words>"; the one with the typed text as {x}; commands after)
COMMANDS: dict[str, tuple] = {  # type: ignore[type-arg]
    "proposal (the City's notices)": ((f"{JOHAN} /disagreement open city Gränsdragning",),
                                      f'{JOHAN} /disagreement propose D-1 "{{x}}"', ()),
    "disagreement description": ((), f'{JOHAN} /disagreement open city "beskrivning={{x}}" Rubrik',
                                 (f"{EVA} /disagreement show D-1",)),
    "comment": ((f"{JOHAN} /disagreement open city Gränsdragning",), f"{JOHAN} /disagreement comment D-1 {{x}}",
                (f"{EVA} /disagreement show D-1",)),
    "incident update (war room and #storingar)": ((f'{EVA} /incident declare "WLAN nere" wlan 1',),
                                                  f"{EVA} /incident update MI-1 {{x}}", ()),
    "agenda item": ((), f"{EVA} /forum agenda kontraktsforum add {{x}}",
                    (f"{EVA} /forum agenda kontraktsforum",)),
}


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(COMMANDS))
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_typed_text_in_a_command_is_text_in_slack(slack_app: SlackAppServer, path: str) -> None:
    slack_app.fake.usergroups["S02SDJOUR"] = [SDJOUR]
    before, tried, after = COMMANDS[path]

    def run(command_line: str) -> None:
        user, command, words = command_line.split(" ", 2)
        assert "gick fel" not in slack_app.ask(command, words, user)

    for command_line in before:
        run(command_line)
    if path.startswith("incident"):
        war_room(slack_app)
    first = len(slack_app.fake.calls)
    run(tried.format(x=IN_COMMAND))
    for command_line in after:
        run(command_line)
    if path == "agenda item":  # an agenda item reaches the forum's channel in its reminder
        core = slack_app.runtime.core
        core.plan()
        core.clock.set(core.clock.now().replace(day=12, hour=10))
        core.runner.sweep()
    quiet(slack_app)
    said = said_since(slack_app, first)
    if path.startswith("incident"):
        assert any("evil.example" in m["text"] for m in slack_app.fake.posted("#storingar"))
        room = war_room(slack_app).channel_id
        assert any("evil.example" in m["text"] for m in slack_app.fake.posted(room))
    if path.startswith("proposal"):  # the City's people are told in their direct messages
        assert any("evil.example" in t for call in slack_app.fake.calls[first:]
                   if str(call.params.get("channel", "")).startswith("D") for t in texts(call.params))
    assert_only_text(said, path)


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_typed_text_in_the_update_and_agenda_forms_is_text_in_slack(slack_app: SlackAppServer) -> None:
    fake, act = slack_app.fake, Interactions(slack_app)
    fake.usergroups["S02SDJOUR"] = [SDJOUR]
    slack_app.ask("/incident", 'declare "WLAN nere" wlan 1', EVA)
    incident = war_room(slack_app)
    quiet(slack_app)

    first = len(fake.calls)
    act.click(EVA, "incident.update", incident.ref, channel=incident.channel_id)
    form = fake.wait_for("views.open", 1) and fake.views[0]
    assert act.submit(EVA, form, {"text": TYPED}).text == ""
    wait(lambda: any("evil.example" in m["text"] for m in fake.posted("#storingar")), "the update posted")
    quiet(slack_app)
    assert_only_text(said_since(slack_app, first), "update form")

    first = len(fake.calls)
    act.click(EVA, "forum.agenda", "kontraktsforum add", channel="C0FORUM")
    form = fake.wait_for("views.open", 2) and fake.views[1]
    assert act.submit(EVA, form, {"text": TYPED}).text == ""
    wait(lambda: "evil.example" in slack_app.ask("/forum", "agenda kontraktsforum", EVA), "the item added")
    core = slack_app.runtime.core
    core.plan()
    core.clock.set(core.clock.now().replace(day=12, hour=10))
    core.runner.sweep()
    quiet(slack_app)
    assert_only_text(said_since(slack_app, first), "agenda form")


def test_slacks_markup_in_a_persons_text_is_shown_as_characters() -> None:
    assert neutralise(LINK) == "https://stockholm.se/avtal (https://evil.example/login)"
    assert neutralise("<https://a.example/x|https://a.example/x> <mailto:a@b.se|a@b.se>") == (
        "https://a.example/x a@b.se")  # a link labelled with its own address is that address, linked by Slack
    assert neutralise(f"<@{LARS}> <@{LARS}|lars> <#C1|drift>") == f"@{LARS} @lars #drift"
    assert neutralise("<!channel> <!subteam^S1|@jour> <@U1|here>") == "@\u2060channel @\u2060jour @\u2060here"
    assert neutralise("a & b <c>") == "a &amp; b &lt;c&gt;"
    assert neutralise("*fet* _kursiv_ ~struken~ `kod` snake_case 2*3 https://a.example/x_y_z") == (
        "\u2217fet\u2217 \uff3fkursiv\uff3f \u223cstruken\u223c \u02cbkod\u02cb snake_case 2*3 https://a.example/x_y_z")
    assert neutralise("> citat\n  >>> mer") == "\uff1e citat\n  \uff1e&gt;&gt; mer"
    assert mrkdwn(line(Text("> citat"))) == "\uff1e citat"
    # A plain_text field shows characters as they are: only the markup is taken apart.
    assert safe_plain(f"{LINK} *fet* a & b") == "https://stockholm.se/avtal (https://evil.example/login) *fet* a & b"


# -- Teams: Markdown in a card -------------------------------------------------------------------------------------
MARKDOWN = "Se [https://stockholm.se/beslut](https://evil2.example/login) **fet** _kursiv_ # rubrik\n- punkt\n1. ett"
MARKDOWN_LINK = re.compile(r"(?<!\\)\[[^\]]*(?<!\\)\]\(")


def card_texts(card: dict[str, Any]) -> list[str]:
    """What a card shows that Adaptive Cards read as Markdown: each TextBlock's text (a field's label is one)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("type") == "TextBlock":
                found.append(value["text"])
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(card)
    return found


def test_markdown_is_escaped_in_what_a_card_shows() -> None:
    from bot.forms import Choice, Form, FormField

    escaped = markdown_escaped(MARKDOWN)
    assert not MARKDOWN_LINK.search(escaped)
    assert "**" not in escaped and "\\*\\*fet\\*\\*" in escaped and "\\_kursiv\\_" in escaped
    assert "\\[https://stockholm\\.se/beslut\\]\\(https://evil2\\.example/login\\)" in escaped
    card = form_card(Form("disagreement.reject", f"Titel {MARKDOWN}", "Skicka", "Stäng",
                          (FormField("text", f"Förslaget: {MARKDOWN}", "multiline"),
                           FormField("d", "Vilken", "select", choices=(Choice("D-1", f"D-1 {MARKDOWN}"),)))))
    for shown in card_texts(card):
        assert not MARKDOWN_LINK.search(shown), shown
    [choice] = card["body"][-1]["choices"]
    assert "](" not in choice["title"]  # a choice's title shows no Markdown, but no link syntax reaches it either


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_proposal_and_a_title_show_no_markdown_in_the_teams_forms(database_url, clock) -> None:  # type: ignore[no-untyped-def]
    """The reject form's label shows the proposal; the proposal form's the disagreement's title."""
    from tests.fakes.teams_api import FakeTeams
    from tests.fakes.teams_http import TeamsAppServer
    from tests.test_platforms import TeamsSide, eventually

    title = "Se [https://stockholm.se/beslut](https://evil2.example/login) **nu**"
    with FakeTeams() as fake, TeamsAppServer(database_url, fake, clock) as server:
        teams = TeamsSide(server)

        def cards(key: str) -> list[dict[str, Any]]:
            return [a["content"] for s in fake.to(fake.personal_of(teams.user(key)))
                    for a in s.activity.get("attachments") or []]

        def press(key: str, action: str) -> dict[str, Any]:
            """Presses the button `action` on D-1 (what its Action.Submit sends) and returns the form that opens."""
            seen = len(cards(key))
            pressed = fake.activity(teams.user(key), "", value={"action": action, "value": "D-1"})
            assert server.send(pressed).status_code == 200
            return eventually(lambda: [c for c in cards(key)[seen:] if c["body"]][:1])[0]

        teams.ask("eva.lind", f'disagreement open supplier "{title}"')
        proposal_form = press("johan.ek", "disagreement.propose")
        assert any("evil2" in t for t in card_texts(proposal_form)), card_texts(proposal_form)
        teams.ask("johan.ek", f"disagreement propose D-1 {MARKDOWN}")
        rejection_form = press("karin.berg", "disagreement.reject")
        assert any("evil2" in t for t in card_texts(rejection_form)), card_texts(rejection_form)
        for shown in card_texts(proposal_form) + card_texts(rejection_form):
            assert not MARKDOWN_LINK.search(shown), shown
            assert "**" not in shown, shown


def test_a_teams_message_carries_no_markdown_link_syntax_of_a_persons_text() -> None:
    from teams.render import text_of

    shown, _ = text_of(line(Text(MARKDOWN)))
    assert "https://evil2.example/login" in shown and not MARKDOWN_LINK.search(shown)
