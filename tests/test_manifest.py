"""manifest.yml is what Slack is told the app does: it must match what the app registers and calls."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
import yaml

from bot.app import CAPABILITIES
from handlers.slack_chat import SlackChat

MANIFEST = yaml.safe_load((Path(__file__).parents[1] / "manifest.yml").read_text(encoding="utf-8"))

# Slack's documented scope for each Web API method the bot calls.
SCOPES = {
    "chat_postMessage": "chat:write",
    "chat_postEphemeral": "chat:write",
    "conversations_open": "im:write",
    "users_lookupByEmail": "users:read.email",
    "users_info": "users:read",
    "conversations_history": "channels:history",
    "conversations_list": "channels:read",
    # War rooms are private channels by default (groups:*); public ones would need channels:manage, also granted.
    "conversations_create": "groups:write",
    "conversations_setTopic": "groups:write",
    "conversations_setPurpose": "groups:write",
    "conversations_invite": "groups:write",
    "conversations_archive": "groups:write",
    "conversations_inviteShared": "conversations.connect:write",
    "usergroups_users_list": "usergroups:read",
    "pins_add": "pins:write",
    # views.open needs no scope of its own: the trigger of a slash command (hence `commands`) is what allows it.
    "views_open": "commands",
    "chat_update": "chat:write",
    # views.publish needs no scope: the Home tab must be enabled (features.app_home, checked below).
    "views_publish": None,
}

# The events the bot listens to, and the scope Slack requires to deliver each (None: no scope, a feature).
EVENTS = {"reaction_added": "reactions:read", "member_joined_channel": "groups:read", "app_home_opened": None}


def manifest_commands() -> set[str]:
    return {c["command"].lstrip("/") for c in MANIFEST["features"]["slash_commands"]}


def test_manifest_declares_exactly_the_commands_the_app_has() -> None:
    assert manifest_commands() == {capability.name for capability in CAPABILITIES}


def test_every_command_url_is_the_events_endpoint_and_escapes_mentions() -> None:
    for command in MANIFEST["features"]["slash_commands"]:
        assert command["url"].endswith("/slack/events")
        # The Slack side reads <@U…> and <mailto:…> forms into the core's mentions; unescaped names would not resolve.
        assert command["should_escape"] is True


def test_the_manifest_subscribes_to_exactly_the_events_the_app_listens_to() -> None:
    import handlers

    folder = Path(inspect.getfile(handlers)).parent
    source = "".join(path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.py")))
    listened = set(re.findall(r'@app\.event\("(\w+)"\)', source))
    assert listened == set(EVENTS)
    assert set(MANIFEST["settings"]["event_subscriptions"]["bot_events"]) == listened
    assert {EVENTS[e] for e in listened} - {None} <= set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert MANIFEST["settings"]["event_subscriptions"]["request_url"].endswith("/slack/events")
    # app_home_opened comes only with the Home tab enabled, and the Home is published there.
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True


def test_the_manifest_lists_exactly_the_message_shortcuts_the_app_answers() -> None:
    from bot.native.shortcuts import SHORTCUTS

    listed = MANIFEST["features"]["shortcuts"]
    assert {s["callback_id"] for s in listed} == set(SHORTCUTS)
    for shortcut in listed:
        assert shortcut["type"] == "message" and len(shortcut["name"]) <= 24 and shortcut["description"]


def test_interactivity_reaches_the_events_endpoint() -> None:
    # Buttons, forms, their errors and the shortcuts all come as interactivity payloads.
    interactivity = MANIFEST["settings"]["interactivity"]
    assert interactivity["is_enabled"] is True and interactivity["request_url"].endswith("/slack/events")


def test_the_scopes_cover_every_web_api_method_the_bot_calls() -> None:
    source = Path(inspect.getfile(SlackChat)).read_text(encoding="utf-8")
    called = {method for method in SCOPES if f".{method}(" in source}
    assert called == set(SCOPES), "a Web API method is called that this test has no scope for"
    assert set(re.findall(r"\.client\.(\w+)\(", source)) <= set(SCOPES), "a Web API method this test does not know"
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert {SCOPES[m] for m in called} - {None} | {"commands"} <= scopes


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_running_app_answers_every_manifest_command_and_no_other(slack_app) -> None:  # type: ignore[no-untyped-def]
    for name in manifest_commands():
        assert slack_app.command(f"/{name}", "help", "U01EVALIND").status_code == 200, name
    # An unregistered command is not silently acknowledged.
    assert slack_app.command("/okand", "help", "U01EVALIND").status_code == 404


# -- the Teams app package (teams/manifest.py) ----------------------------------------------------------------------
def test_the_teams_package_asks_for_exactly_the_three_rsc_permissions(model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Manifest v1.12 and later declare resource-specific consent under authorization.permissions.resourceSpecific,
    each {name, type}, and need webApplicationInfo with the app registration's id:
    https://learn.microsoft.com/microsoftteams/platform/graph-api/rsc/grant-resource-specific-consent"""
    import json
    import zipfile

    from teams.manifest import write_package

    app = "6f1c2d3e-0000-4000-8000-00000000a99a"
    write_package(tmp_path / "app.zip", model, app, "https://samverkan.example.se")
    with zipfile.ZipFile(tmp_path / "app.zip") as package:
        teams = json.loads(package.read("manifest.json"))
    major, minor = (int(part) for part in teams["manifestVersion"].split("."))
    assert (major, minor) >= (1, 12)
    assert f"/v{teams['manifestVersion']}/" in teams["$schema"]
    assert teams["authorization"]["permissions"]["resourceSpecific"] == [
        {"name": "ChannelMessage.Read.Group", "type": "Application"},  # team: reading back the forum channels
        {"name": "ChatMessage.Read.Chat", "type": "Application"},  # chat: the same in a war room
        {"name": "ChatSettings.ReadWrite.Chat", "type": "Application"},  # chat: the war room's topic
    ]
    assert teams["webApplicationInfo"]["id"] == app and teams["webApplicationInfo"]["resource"]
    # The bot is installed into the war rooms' group chats, so the package must allow that scope.
    assert "groupChat" in teams["bots"][0]["scopes"]


def test_the_readme_lists_exactly_the_teams_permissions() -> None:
    """The README's table of step 1 ("Running against Microsoft Teams") is what administrators grant: every Graph
    application permission and RSC permission of teams/permissions.py, the optional one marked, and no other."""
    from teams.permissions import GRAPH_PERMISSIONS, RSC_PERMISSIONS

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Running against Microsoft Teams")[1].split("\n## ")[0]
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `([\w.]+)` \| ([^|]+) \|.*$", section, re.MULTILINE)}
    graph = {name for name, kind in rows.items() if kind.strip() == "Graph application"}
    rsc = {name for name, kind in rows.items() if kind.startswith("RSC")}
    assert graph == {p.name for p in GRAPH_PERMISSIONS}
    assert rsc == {p.name for p in RSC_PERMISSIONS}
    optional = {m.group(1) for m in re.finditer(r"^\| `([\w.]+)` \|.*\| optional[^|]*\|$", section, re.MULTILINE)}
    assert optional == {p.name for p in GRAPH_PERMISSIONS if p.optional} == {"Chat.ReadWrite.All"}
