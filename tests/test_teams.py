"""The Teams side's pieces that need no server: what a person typed is never markup, and the app package lists the
commands."""

from __future__ import annotations

import json
import zipfile

from bot.message import Button, Line, Mention, Message, Text
from teams.manifest import write_package
from teams.render import activity

EVA = "0b8c3a9e-1111-4222-8333-944455556666"


def test_text_typed_by_a_person_is_escaped_and_only_the_cores_mentions_notify() -> None:
    typed = '<at>Alla</at> <a href="https://evil.example">x</a> @channel & co'
    shown = activity(Message((Line((Text(typed), Mention("Eva Lind", user=EVA), Mention("Utan konto"))),)))
    assert "&lt;at&gt;Alla&lt;/at&gt;" in shown["text"] and "<a href" not in shown["text"]
    assert shown["entities"] == [{"type": "mention", "text": "<at>Eva Lind</at>",
                                  "mentioned": {"id": EVA, "name": "Eva Lind"}}]


def test_buttons_become_an_adaptive_card_whose_data_names_the_action() -> None:
    shown = activity(Message((Line((Text("D-1"),)),), (Button("Godta", "disagreement.accept", "D-1", "primary"),)))
    [card] = shown["attachments"]
    [action] = card["content"]["actions"]
    assert action["type"] == "Action.Submit" and action["data"] == {"action": "disagreement.accept", "value": "D-1"}


def test_the_app_package_lists_the_commands(tmp_path, model) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "samverkan.zip"
    write_package(out, model, "6f1c2d3e-0000-4000-8000-00000000a99a", "https://samverkan.example.se")
    with zipfile.ZipFile(out) as package:
        assert set(package.namelist()) == {"manifest.json", "color.png", "outline.png"}
        manifest = json.loads(package.read("manifest.json"))
    [bot] = manifest["bots"]
    titles = [c["title"] for c in bot["commandLists"][0]["commands"]]
    assert titles == ["samverkan", "forum", "deploy", "incident", "disagreement"]
    assert manifest["validDomains"] == ["samverkan.example.se"]
    # What reading a channel or a chat back needs (exactly once), consented where the app is added.
    assert {p["name"] for p in manifest["authorization"]["permissions"]["resourceSpecific"]} >= {
        "ChannelMessage.Read.Group", "ChatMessage.Read.Chat"}


def test_a_home_card_too_big_for_teams_is_cut_item_by_item() -> None:
    from bot.message import Page, Section
    from teams.limits import MAX_ACTIVITY, fit_page, size
    from teams.render import home_activity

    items = tuple(Message((Line((Text(f"D-{n} " + "å" * 4000),)),), (Button("Godta", "disagreement.accept", f"D-{n}"),))
                  for n in range(30))
    page = Page((Section(Message((Line((Text("Oenigheter"),)),)), items),))
    assert size(home_activity(page)) > MAX_ACTIVITY
    shown = fit_page(lambda budget: home_activity(page, item_budget=budget))
    assert size(shown) <= MAX_ACTIVITY
    body = shown["attachments"][0]["content"]["body"]
    assert sum(1 for b in body if b["type"] == "ActionSet") == 30  # every item and its button still there
    texts = " ".join(str(b.get("text", "")) for b in body)
    assert all(f"D\\-{n} " in texts for n in range(30))
