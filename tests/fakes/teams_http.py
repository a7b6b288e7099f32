"""The bot as Teams sees it: the real WSGI application (with `POST /api/messages`) behind the real server on
loopback, its Teams side pointed at the fake Bot Connector and Graph, and activities signed as the Connector signs
them."""

from __future__ import annotations

import time
from typing import Any

import httpx

from bot.clock import Clock
from samverkan.settings import Settings
from tests.fakes.slack_http import AppServer
from tests.fakes.teams_api import APP_ID, TEAM, TENANT, FakeTeams

OWNER = "samverkan.krisrum@edu.stockholm.example"  # the City's service account that owns every war room


class TeamsAppServer(AppServer):
    def __init__(self, database_url: str, fake: FakeTeams, clock: Clock, **settings: object) -> None:
        self.fake = fake
        super().__init__(Settings(
            samverkan_platform="teams", teams_app_id=APP_ID, teams_app_password="test-password",
            teams_tenant_id=TENANT, teams_team_id=TEAM, teams_openid_metadata=f"{fake.base_url}/openid",
            teams_login_url=f"{fake.base_url}/login", teams_graph_url=f"{fake.base_url}/graph",
            teams_service_url=fake.service_url, teams_war_room_owner=fake.add_user(OWNER), database_url=database_url,
            samverkan_lang="sv", teams_service_url_hosts=(fake.base_url,), **settings,
        ), clock)

    def send(self, activity: dict[str, Any], token: str | None = None) -> httpx.Response:
        headers = {} if token == "" else {"Authorization": f"Bearer {token or self.fake.token()}"}
        return self.http.post("/api/messages", json=activity, headers=headers)

    def ask(self, user: str, text: str, channel: str | None = None, timeout: float = 10.0,
            mentions: dict[str, str] | None = None) -> str:
        """A message to the bot and its answer in the person's personal chat, as plain text."""
        sent = self.fake.activity(user, text, channel=channel, mentions=mentions)
        response = self.send(sent)
        assert response.status_code == 200, response.text
        answers = self.fake.wait(lambda: [s for s in self.fake.to(self.fake.personal_of(user))
                                          if s.activity.get("replyToId") == sent["id"]], timeout)
        assert answers, f"no answer to {text!r}"
        return answers[0].text

    def wait_until(self, condition, timeout: float = 10.0):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not (found := condition()) and time.monotonic() < deadline:
            time.sleep(0.02)
        return found
