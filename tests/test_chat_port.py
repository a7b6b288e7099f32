"""One chat port, implemented by every platform: Slack, Teams, the console and the tests' recorder each have every
method of bot.chat.ChatPort with its parameters, so the core never asks which platform it runs on."""

from __future__ import annotations

import inspect

import pytest

from bot.chat import ChatPort
from handlers.slack_chat import SlackChat
from samverkan.console import ConsoleChat
from teams.chat import TeamsChat
from tests.fakes.recording_chat import RecordingChat

METHODS = [name for name, member in inspect.getmembers(ChatPort, inspect.isfunction) if not name.startswith("_")]


@pytest.mark.parametrize("platform", [SlackChat, TeamsChat, ConsoleChat, RecordingChat])
def test_every_platform_implements_the_whole_port(platform: type) -> None:
    assert len(METHODS) >= 20
    for name in METHODS:
        wanted = list(inspect.signature(getattr(ChatPort, name)).parameters)
        found = getattr(platform, name, None)
        assert found is not None, f"{platform.__name__} has no {name}"
        assert list(inspect.signature(found).parameters) == wanted, f"{platform.__name__}.{name}"
