"""The bot as Slack sees it: the real bolt app behind the real WSGI server on loopback, and a client that signs
requests the way Slack does."""

from __future__ import annotations

import itertools
import json
import threading
import time
from typing import Any, Self
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.clock import Clock
from samverkan.settings import Settings
from samverkan.wiring import Runtime, build, http_app
from tests.fakes.slack_api import FakeSlack

SIGNING_SECRET = "test-signing-secret"
_TRIGGERS = itertools.count(1)


def signed_headers(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature or "",
    }


def command_body(command: str, text: str, user_id: str, channel_id: str = "C0FORUM", response_url: str = "",
                 trigger_id: str | None = None) -> str:
    """A slash command as Slack posts it. Each gets a trigger of its own, as in Slack, unless one is given."""
    return urlencode({
        "token": "legacy", "team_id": "T1", "team_domain": "stockholm", "channel_id": channel_id,
        "channel_name": "samverkan", "user_id": user_id, "user_name": user_id.lower(), "command": command,
        "text": text, "api_app_id": "A1", "response_url": response_url,
        "trigger_id": trigger_id or f"{next(_TRIGGERS)}.{user_id}.{time.monotonic_ns()}",
    })


class InThread:
    """A waitress server run on a thread of its own, and stopped from another without a spurious error."""

    def __init__(self, server) -> None:  # type: ignore[no-untyped-def]
        self.server = server
        self.thread = threading.Thread(target=self._serve, name="waitress", daemon=True)
        self._closing = False

    def start(self) -> None:
        self.thread.start()

    def _serve(self) -> None:
        try:
            self.server.run()
        except OSError:
            # waitress's loop sees its sockets closed under it when stopped from another thread.
            if not self._closing:
                raise

    def stop(self) -> None:
        self._closing = True
        self.server.task_dispatcher.shutdown()  # its workers first: closing under them logs EBADF
        self.server.close()
        self.thread.join(timeout=5)


class AppServer:
    """The real WSGI application, built from `settings`, behind the real server on a free loopback port, with an
    HTTP client for it: what the Slack and the Teams test servers share."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.runtime: Runtime = build(settings, clock)
        from handlers.server import serve

        self.server = serve(http_app(self.runtime), "127.0.0.1", 0, threads=8, asyncore_loop_timeout=0.1)
        self.background = InThread(self.server)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.server.effective_port}", timeout=10)

    def __enter__(self) -> Self:
        self.background.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()
        self.background.stop()
        self.runtime.close()


class SlackAppServer(AppServer):
    def __init__(self, database_url: str, fake: FakeSlack, clock: Clock, **settings: object) -> None:
        self.fake = fake
        super().__init__(Settings(
            slack_bot_token="xoxb-test", slack_signing_secret=SIGNING_SECRET, slack_api_url=fake.base_url,
            database_url=database_url, samverkan_lang="sv", **settings,
        ), clock)

    def command(self, command: str, text: str, user_id: str, token: str | None = None,
                trigger_id: str | None = None) -> httpx.Response:
        """Sends a signed slash command; the bot's answer to the user arrives on the fake's response URL."""
        body = command_body(command, text, user_id, response_url=self.fake.response_url(token or user_id),
                            trigger_id=trigger_id)
        return self.http.post("/slack/events", content=body, headers=signed_headers(body))

    def answer(self, token: str, count: int = 1, timeout: float = 10.0) -> str:
        """The `count`-th ephemeral answer sent to the response URL `token`."""
        deadline = time.monotonic() + timeout
        while True:
            answers = [c.params["text"] for c in self.fake.calls_to("respond")
                       if c.params.get("_token") == token and c.delivered]
            if len(answers) >= count:
                return answers[count - 1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no answer #{count} on response URL {token}; got {answers}")
            time.sleep(0.02)

    def ask(self, command: str, text: str, user_id: str) -> str:
        """A command and the answer to it, as a person in Slack experiences it."""
        token = f"{user_id}-{time.monotonic_ns()}"
        response = self.command(command, text, user_id, token=token)
        assert response.status_code == 200, response.text
        return self.answer(token)


# -- interactivity and events, as Slack posts them ----------------------------------------------------------------
def trigger(user: str) -> str:
    return f"{next(_TRIGGERS)}.{user}.{time.monotonic_ns()}"


class Interactions:
    """Clicks, forms, shortcuts and events, signed, against a SlackAppServer: what a person does in Slack's
    interface, as the payloads Slack sends for it."""

    def __init__(self, app: SlackAppServer) -> None:
        self.app = app

    def _payload(self, payload: dict[str, Any]) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)})
        return self.app.http.post("/slack/events", content=body, headers=signed_headers(body))

    def event(self, event: dict[str, Any], event_id: str | None = None) -> httpx.Response:
        body = json.dumps({"token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
                           "event_id": event_id or f"Ev{time.monotonic_ns()}", "event_time": int(time.time()),
                           "event": event})
        return self.app.http.post("/slack/events", content=body,
                                  headers={**signed_headers(body), "Content-Type": "application/json"})

    def click(self, user: str, action_id: str, value: str, channel: str | None = None) -> str:
        """A click on a button in a message in `channel`, or (without one) on the person's Home. Returns the
        response URL's token (a message's click) or "" (a Home's, which has none)."""
        token = f"click-{user}-{time.monotonic_ns()}" if channel else ""
        payload: dict[str, Any] = {
            "type": "block_actions", "team": {"id": "T1", "domain": "stockholm"}, "user": {"id": user},
            "api_app_id": "A1", "trigger_id": trigger(user),
            "actions": [{"type": "button", "action_id": action_id, "block_id": "b1", "value": value,
                         "action_ts": f"{time.time():.6f}"}]}
        if channel:
            payload.update(channel={"id": channel}, response_url=self.app.fake.response_url(token),
                           container={"type": "message", "channel_id": channel, "message_ts": "1.000001"})
        else:
            payload.update(container={"type": "view", "view_id": "VH1"}, view={"type": "home", "id": "VH1"})
        response = self._payload(payload)
        assert response.status_code == 200, response.text
        return token

    def submit(self, user: str, view: dict[str, Any], answers: dict[str, str | list[str]]) -> httpx.Response:
        """The form `view` (as it was opened) sent back filled in, each answer shaped as its element sends it."""
        values: dict[str, Any] = {}
        for block in view["blocks"]:
            name, element = block["block_id"], block["element"]
            if name not in answers:
                continue
            answer = answers[name]
            match element["type"]:
                case "plain_text_input":
                    values[name] = {"value": {"type": "plain_text_input", "value": answer}}
                case "static_select":
                    values[name] = {"value": {"type": "static_select", "selected_option": {"value": answer}}}
                case "multi_static_select":
                    values[name] = {"value": {"type": "multi_static_select",
                                              "selected_options": [{"value": v} for v in answer]}}
                case "users_select":
                    values[name] = {"value": {"type": "users_select", "selected_user": answer}}
        return self._payload({
            "type": "view_submission", "team": {"id": "T1"}, "user": {"id": user}, "api_app_id": "A1",
            "trigger_id": trigger(user),
            "view": {"id": "V1", "type": "modal", "callback_id": view["callback_id"],
                     "private_metadata": view.get("private_metadata", ""), "blocks": view["blocks"],
                     "state": {"values": values}}})

    def shortcut(self, user: str, callback_id: str, channel: str, text: str, ts: str) -> str:
        """A message shortcut on a message; returns the response URL's token."""
        token = f"shortcut-{user}-{time.monotonic_ns()}"
        response = self._payload({
            "type": "message_action", "callback_id": callback_id, "trigger_id": trigger(user),
            "response_url": self.app.fake.response_url(token), "team": {"id": "T1", "domain": "stockholm"},
            "user": {"id": user}, "channel": {"id": channel, "name": "samverkan"}, "message_ts": ts,
            "message": {"type": "message", "text": text, "ts": ts, "user": "U0SOMEONE"}})
        assert response.status_code == 200, response.text
        return token

    def home_opened(self, user: str, shown: bool = True) -> httpx.Response:
        event: dict[str, Any] = {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home",
                                 "event_ts": f"{time.time():.6f}"}
        if shown:
            event["view"] = {"id": "VH1", "type": "home"}
        return self.event(event)
