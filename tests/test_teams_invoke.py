"""Teams' invokes over signed HTTP against the fake Bot Connector: a form whose field is wrong is answered by the
same card redrawn with the error beside the field and nothing written down; the three message actions open their
forms as dialogs through the permission matrix, and what their dialogs send is checked the same way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.test_platforms import TeamsSide, eventually, sweep
from tests.test_teams_http import ROOM, cards

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture
def teams(database_url, clock) -> Iterator[TeamsSide]:  # type: ignore[no-untyped-def]
    from tests.fakes.teams_api import FakeTeams
    from tests.fakes.teams_http import TeamsAppServer

    with FakeTeams() as fake, TeamsAppServer(database_url, fake, clock) as server:
        yield TeamsSide(server)


def texts(card: dict[str, Any]) -> list[str]:
    return [str(b.get("text")) for b in card["body"] if b.get("type") == "TextBlock"]


def errors(card: dict[str, Any]) -> list[str]:
    return [str(b["text"]) for b in card["body"] if b.get("type") == "TextBlock" and b.get("color") == "Attention"]


def declare_form(teams: TeamsSide) -> dict[str, Any]:
    fake = teams.fake
    assert teams.app.send(fake.activity(teams.user("eva.lind"), "incident declare")).status_code == 200
    [card] = fake.wait(lambda: cards(teams, "eva.lind"))
    return card


def test_a_bad_field_is_answered_in_place_and_nothing_is_written(teams) -> None:  # type: ignore[no-untyped-def]
    fake = teams.fake
    card = declare_form(teams)
    answer = teams.app.send(fake.execute(teams.user("eva.lind"), card, {
        "title": "Ingen e-post", "services": "e-post", "severity": "9", "description": "Outlook"})).json()
    assert answer["statusCode"] == 200 and answer["type"] == "application/vnd.microsoft.card.adaptive"
    redrawn = answer["value"]
    [error] = errors(redrawn)
    assert "9" in error  # the severity's error, in the person's language
    body = redrawn["body"]
    at = next(n for n, b in enumerate(body) if b.get("id") == "severity")
    assert body[at + 1].get("color") == "Attention"  # beside its field
    assert next(b for b in body if b.get("id") == "title")["value"] == "Ingen e-post"  # what was typed is kept
    with teams.core.unit_of_work() as uow:
        assert not uow.incidents.open_incidents()
    # Put right in the same card: taken, and the war room declared.
    taken = teams.app.send(fake.execute(teams.user("eva.lind"), redrawn, {
        "title": "Ingen e-post", "services": "e-post", "severity": "2", "description": "Outlook"})).json()
    assert not errors(taken["value"]) and not taken["value"].get("actions")
    assert eventually(lambda: [s for s in fake.to(fake.personal_of(teams.user("eva.lind"))) if "MI-1" in s.text])


def test_a_forged_card_changes_nothing(teams) -> None:  # type: ignore[no-untyped-def]
    fake = teams.fake
    card = declare_form(teams)
    card["actions"][0]["data"]["samverkan_shape"] = "not a form"
    answer = teams.app.send(fake.execute(teams.user("eva.lind"), card, {
        "title": "X", "services": "e-post", "severity": "2", "description": ""})).json()
    assert answer["type"] == "application/vnd.microsoft.activity.message"
    with teams.core.unit_of_work() as uow:
        assert not uow.incidents.open_incidents()


def test_raise_as_disagreement_opens_its_form_and_its_dialog_checks_the_fields(teams) -> None:  # type: ignore[no-untyped-def]
    fake = teams.fake
    user = teams.user("karin.berg")
    fetched = teams.app.send(fake.message_action(user, "disagreement.raise", "Vem betalar laddarna?")).json()
    task = fetched["task"]
    assert task["type"] == "continue"
    card = task["value"]["card"]["content"]
    [submit] = card["actions"]
    assert submit["type"] == "Action.Submit"  # a dialog's button
    inputs = {b["id"]: b for b in card["body"] if "id" in b}
    assert inputs["title"]["value"] == "Vem betalar laddarna?"
    # Sent without a counterparty: the dialog stays open with the error beside the field.
    bad = teams.app.send(fake.message_action(user, "disagreement.raise", "Vem betalar laddarna?", data={
        **submit["data"], "title": "Vem betalar laddarna?", "description": "Vem betalar laddarna?"})).json()
    assert bad["task"]["type"] == "continue" and errors(bad["task"]["value"]["card"]["content"])
    with teams.core.unit_of_work() as uow:
        assert not uow.disagreements.every()  # nothing written down
    counterparty = next(b for b in card["body"] if b.get("id") == "counterparty")
    party = next(c["value"] for c in counterparty["choices"] if c["value"] == "supplier")
    good = teams.app.send(fake.message_action(user, "disagreement.raise", "Vem betalar laddarna?", data={
        **submit["data"], "title": "Vem betalar laddarna?", "counterparty": party,
        "description": "Vem betalar laddarna?"})).json()
    assert good["task"]["type"] == "message"
    assert eventually(lambda: [s for s in fake.to(fake.personal_of(user)) if "D-1" in s.text])


def test_add_to_the_timeline_from_a_war_rooms_chat(teams) -> None:  # type: ignore[no-untyped-def]
    fake = teams.fake
    teams.ask("eva.lind", 'incident declare "WLAN nere på Södermalm" wlan 1')
    chat = eventually(lambda: teams.room_id(ROOM))
    assert chat
    user = teams.user("eva.lind")
    fetched = teams.app.send(fake.message_action(user, "incident.timeline", "Switchen i hus B startad om",
                                                 chat=chat)).json()
    card = fetched["task"]["value"]["card"]["content"]
    [submit] = card["actions"]
    chosen = next(b for b in card["body"] if b.get("id") == "incident")
    assert chosen.get("value") == "MI-1"  # the war room it was written in
    sent = teams.app.send(fake.message_action(user, "incident.timeline", "Switchen i hus B startad om", chat=chat,
                                              data={**submit["data"], "incident": "MI-1",
                                                    "text": "Switchen i hus B startad om"})).json()
    assert sent["task"]["type"] == "message"
    sweep(teams)
    with teams.core.unit_of_work() as uow:
        [incident] = uow.incidents.open_incidents()
        entries = [e.text for e in uow.incidents.timeline(incident.id)]
    assert any("Switchen i hus B startad om" in e for e in entries), entries


def test_a_message_action_refuses_as_the_matrix_says(teams) -> None:  # type: ignore[no-untyped-def]
    fake = teams.fake
    # Someone of a party in no open war room has no timeline to add to.
    answer = teams.app.send(fake.message_action(teams.user("per.strand"), "incident.timeline", "hej")).json()
    assert answer["task"]["type"] == "message" and "krisrum" in answer["task"]["value"]
    # Someone not in the directory is told so.
    stranger = fake.add_user("okand@edu.stockholm.example")
    answer = teams.app.send(fake.message_action(stranger, "disagreement.raise", "hej")).json()
    assert answer["task"]["type"] == "message"
