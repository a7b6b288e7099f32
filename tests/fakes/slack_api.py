"""A fake Slack Web API served over real HTTP on loopback.

The bot's WebClient is pointed at it through SLACK_API_URL, so every call crosses the same HTTP boundary as in
production: serialisation, status codes, Retry-After and connection errors included. It records what it was asked,
answers like Slack does for the methods the bot uses, and can be told to misbehave.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import yaml

# What the app asks for: a token installed from the manifest is granted these, and the fake grants them unless told
# otherwise (`FakeSlack.scopes`).
MANIFEST_SCOPES = frozenset(yaml.safe_load((Path(__file__).parents[2] / "manifest.yml").read_text(encoding="utf-8"))
                            ["oauth_config"]["scopes"]["bot"])


# Slack refuses a message over its limits rather than cut it, and the fake is as strict:
# https://api.slack.com/reference/block-kit/blocks : at most 50 blocks in a message; a section's text at most
# 3,000 characters (invalid_blocks).
# https://api.slack.com/methods/chat.postMessage : `text` over 40,000 characters is msg_too_long.
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_TEXT = 40_000
_MESSAGE_METHODS = {"chat.postMessage", "chat.update", "chat.postEphemeral", "respond"}


def over_limits(params: dict[str, Any]) -> str | None:
    """Slack's error for a message over its limits, or None."""
    if len(str(params.get("text") or "")) > MAX_TEXT:
        return "msg_too_long"
    blocks = params.get("blocks")
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            return "invalid_blocks"
    if not blocks:
        return None
    if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
        return "invalid_blocks"
    for block in blocks:
        if not isinstance(block, dict):
            return "invalid_blocks"
        text = block.get("text")
        if block.get("type") == "section" and isinstance(text, dict) and len(str(text.get("text", ""))) > 3000:
            return "invalid_blocks"  # MAX_SECTION_TEXT
    return None


class _Server(ThreadingHTTPServer):
    # Slack takes many calls at once; the default backlog of 5 would make parallel callers wait a second for a SYN
    # retransmission, a delay of the fake's own making.
    request_queue_size = 128

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        # A caller that went away mid-answer (a bot killed on purpose) is part of the tests, not a fault to print.
        pass


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    status: int = 200  # what the fake answered: 0 for a dropped connection
    received: float = 0.0  # when the request arrived, before the scripted delay (`at` is when it was answered)
    wall: float = field(default_factory=time.time)  # when it arrived, as wall-clock time (for lateness)

    @property
    def delivered(self) -> bool:
        return self.status == 200


@dataclass
class Fault:
    """One scripted misbehaviour for a method: a status with headers, or a dropped connection."""

    status: int = 429
    headers: dict[str, str] = field(default_factory=lambda: {"Retry-After": "1"})
    drop_connection: bool = False
    hang: float = 0.0  # act on the request, then keep the caller waiting this long before answering 200


class FakeSlack:
    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay  # every call takes this long
        self.delays: dict[str, float] = {}  # and these methods this long
        self.socket_mode_url = ""  # where apps.connections.open sends a Socket Mode client
        self.calls: list[Call] = []
        self.users: dict[str, str] = {}  # user id -> e-mail
        self.locales: dict[str, str] = {}  # user id -> locale (sv-SE, en-GB), for users.info with include_locale
        self.faults: dict[str, deque[Fault]] = {}
        self.channels: dict[str, str] = {}  # name -> id
        # Granted to every token: sent, as Slack does, in the x-oauth-scopes header of every Web API answer.
        self.scopes: set[str] = set(MANIFEST_SCOPES)
        self.refused_tokens: dict[str, str] = {}  # token -> the error Slack answers every call made with it
        self.page_size = 1000  # conversations.list gives at most this many per page, whatever the limit asked
        self.messages: dict[str, list[dict[str, Any]]] = {}  # channel id -> messages, oldest first
        self._war_room_state()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-slack", daemon=True)

    def _war_room_state(self) -> None:
        self.private: dict[str, bool] = {}  # channel id -> private
        self.topics: dict[str, str] = {}
        self.purposes: dict[str, str] = {}
        self.members: dict[str, set[str]] = {}  # channel id -> user ids
        self.shared: dict[str, set[str]] = {}  # channel id -> e-mail addresses invited through Slack Connect
        self.pins: dict[str, list[str]] = {}  # channel id -> pinned message ts
        self.archived: set[str] = set()
        self.usergroups: dict[str, list[str]] = {}  # user group id -> user ids
        self.refuse: dict[str, str] = {}  # user id or e-mail -> the error Slack gives when inviting them
        self.views: list[dict[str, Any]] = []
        self.homes: dict[str, dict[str, Any]] = {}  # user id -> the Home view last published
        self._ts = 0

    # -- life cycle ---------------------------------------------------------------------------------------------
    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/"

    def response_url(self, token: str = "r") -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/respond/{token}"

    # -- scripting and inspection -------------------------------------------------------------------------------
    def fail(self, method: str, *faults: Fault) -> None:
        with self._lock:
            self.faults.setdefault(method, deque()).extend(faults)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Blocks until `method` has been called `count` times; the bot works after the ack, so tests wait."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self.calls if c.method == method]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = sorted({c.method for c in self.calls})
                    raise AssertionError(f"{method} called {len(found)} times, wanted {count}; saw {seen}")
                self._cond.wait(remaining)

    def reset(self) -> None:
        with self._lock:
            self.delays.clear()
            self.socket_mode_url = ""
            self.calls.clear()
            self.faults.clear()
            self.channels.clear()
            self.scopes = set(MANIFEST_SCOPES)
            self.refused_tokens.clear()
            self.page_size = 1000
            self.messages.clear()
            self._war_room_state()

    def channel_id(self, name_or_id: str) -> str:
        """Slack accepts #names in chat.postMessage; history and members need the id it stands for."""
        if not name_or_id.startswith("#"):
            return name_or_id
        return self.channels.setdefault(name_or_id[1:], f"C{len(self.channels) + 1:08d}")

    def posted(self, channel: str) -> list[dict[str, Any]]:
        """The messages in a channel (a #name or an id), oldest first."""
        with self._lock:
            return list(self.messages.get(self.channel_id(channel), []))

    def say(self, channel: str, user: str, text: str) -> str:
        """A person posts in a channel (not through the API the bot uses): returns the message's ts."""
        with self._lock:
            ts = self._next_ts()
            self.messages.setdefault(self.channel_id(channel), []).append(
                {"type": "message", "text": text, "ts": ts, "user": user})
            return ts

    def add_channel(self, name: str, *, bot_member: bool = True, private: bool = False) -> str:
        """A channel someone created in the workspace, with the bot invited to it or not: returns its id."""
        with self._lock:
            cid = self.channel_id(f"#{name}")
            self.private[cid] = private
            if bot_member:
                self.members.setdefault(cid, set()).add("UBOT")
            return cid

    def channel_named(self, name: str) -> str | None:
        with self._lock:
            return self.channels.get(name)

    def _next_ts(self) -> str:
        # Unique and increasing, as Slack's are within a channel, even for posts in the same microsecond.
        self._ts += 1
        return f"{int(time.time())}.{self._ts:06d}"

    def _war_room(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        channel = str(params.get("channel", ""))
        match method:
            case "conversations.create":
                name = str(params.get("name", ""))
                if name in self.channels:
                    return {"ok": False, "error": "name_taken"}
                if not name or len(name) > 80 or name != name.lower() or " " in name:
                    return {"ok": False, "error": "invalid_name_specials"}
                cid = f"C{len(self.channels) + 1:08d}"
                self.channels[name] = cid
                self.private[cid] = str(params.get("is_private", "")).lower() in ("true", "1")
                self.members[cid] = {"UBOT"}
                return {"ok": True, "channel": {"id": cid, "name": name, "is_private": self.private[cid]}}
            case "conversations.setTopic":
                self.topics[channel] = str(params.get("topic", ""))
                return {"ok": True}
            case "conversations.setPurpose":
                self.purposes[channel] = str(params.get("purpose", ""))
                return {"ok": True}
            case "conversations.invite":
                users = [u for u in str(params.get("users", "")).split(",") if u]
                if len(users) > 1000:
                    return {"ok": False, "error": "too_many_users"}
                members = self.members.setdefault(channel, set())
                errors = []
                for user in users:
                    if user in self.refuse:
                        errors.append({"user": user, "ok": False, "error": self.refuse[user]})
                    elif user in members:
                        errors.append({"user": user, "ok": False, "error": "already_in_channel"})
                    else:
                        members.add(user)
                force = str(params.get("force", "")).lower() in ("true", "1")
                if errors and (not force or len(errors) == len(users)):
                    return {"ok": False, "error": errors[0]["error"], "errors": errors}
                return {"ok": True, "channel": {"id": channel}, **({"errors": errors} if errors else {})}
            case "conversations.inviteShared":
                email = str(params.get("emails", ""))
                if email in self.refuse:
                    return {"ok": False, "error": self.refuse[email]}
                self.shared.setdefault(channel, set()).add(email)
                return {"ok": True, "invite_id": f"I{len(self.shared[channel])}", "is_legacy_shared_channel": False}
            case "usergroups.users.list":
                group = str(params.get("usergroup", ""))
                if group not in self.usergroups:
                    return {"ok": False, "error": "no_such_subteam"}
                return {"ok": True, "users": list(self.usergroups[group])}
            case "pins.add":
                ts = str(params.get("timestamp", ""))
                if not any(m["ts"] == ts for m in self.messages.get(channel, [])):
                    return {"ok": False, "error": "message_not_found"}
                if ts in self.pins.get(channel, []):
                    return {"ok": False, "error": "already_pinned"}
                self.pins.setdefault(channel, []).append(ts)
                return {"ok": True}
            case "conversations.archive":
                if channel in self.archived:
                    return {"ok": False, "error": "already_archived"}
                self.archived.add(channel)
                return {"ok": True}
            case "views.open":
                view = params.get("view")
                self.views.append(json.loads(view) if isinstance(view, str) else dict(view or {}))
                return {"ok": True, "view": {"id": f"V{len(self.views)}"}}
            case "views.publish":
                view = params.get("view")
                view = json.loads(view) if isinstance(view, str) else dict(view or {})
                if view.get("type") != "home" or len(view.get("blocks") or []) > 100:
                    return {"ok": False, "error": "invalid_arguments"}
                self.homes[str(params.get("user_id", ""))] = view
                return {"ok": True, "view": {"id": f"VH{len(self.homes)}", "type": "home"}}
            case "chat.update":
                ts = str(params.get("ts", ""))
                found = next((m for m in self.messages.get(channel, []) if m["ts"] == ts), None)
                if found is None:
                    return {"ok": False, "error": "message_not_found"}
                found["text"] = params.get("text")
                blocks = params.get("blocks")
                found["blocks"] = json.loads(blocks) if isinstance(blocks, str) else blocks
                found["edited"] = found.get("edited", 0) + 1
                return {"ok": True, "channel": channel, "ts": ts, "text": found["text"]}
        return None

    # -- the API ------------------------------------------------------------------------------------------------
    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method in _MESSAGE_METHODS and (error := over_limits(params)):
            return {"ok": False, "error": error}
        if (answer := self._war_room(method, params)) is not None:
            return answer
        match method:
            case "apps.connections.open":
                return {"ok": True, "url": self.socket_mode_url} if self.socket_mode_url else {
                    "ok": False, "error": "socket_mode_disabled"}
            case "auth.test":
                return {"ok": True, "user_id": "UBOT", "user": "samverkan", "bot_id": "BBOT", "team_id": "T1",
                        "team": "Stockholm", "url": "https://stockholm.slack.com/"}
            case "chat.postMessage":
                channel = self.channel_id(str(params.get("channel", "")))
                message = {"type": "message", "text": params.get("text"), "ts": self._next_ts(), "user": "UBOT"}
                if params.get("blocks"):
                    blocks = params["blocks"]
                    message["blocks"] = json.loads(blocks) if isinstance(blocks, str) else blocks
                if params.get("metadata"):
                    metadata = params["metadata"]
                    message["metadata"] = json.loads(metadata) if isinstance(metadata, str) else metadata
                self.messages.setdefault(channel, []).append(message)
                return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}
            case "conversations.history":
                channel = str(params.get("channel", ""))
                wanted_metadata = str(params.get("include_all_metadata", "")).lower() in ("true", "1")
                latest = params.get("latest")
                inclusive = str(params.get("inclusive", "")).lower() in ("true", "1")
                found = [m if wanted_metadata else {k: v for k, v in m.items() if k != "metadata"}
                         for m in reversed(self.messages.get(channel, []))
                         if latest is None or float(m["ts"]) < float(latest)
                         or (inclusive and m["ts"] == latest)]
                return {"ok": True, "messages": found[: int(params.get("limit") or 100)], "has_more": False}
            case "conversations.list":
                return self._conversations_list(params)
            case "chat.postEphemeral":
                return {"ok": True, "message_ts": f"{time.time():.6f}"}
            case "conversations.open":
                return {"ok": True, "channel": {"id": "D" + str(params.get("users", "")).split(",")[0]}}
            case "users.lookupByEmail":
                email = str(params.get("email", "")).lower()
                user = next((uid for uid, mail in self.users.items() if mail == email), None)
                if user is None:
                    return {"ok": False, "error": "users_not_found"}
                return {"ok": True, "user": {"id": user, "profile": {"email": email}}}
            case "users.info":
                user = str(params.get("user", ""))
                if user not in self.users:
                    return {"ok": False, "error": "user_not_found"}
                found = {"id": user, "profile": {"email": self.users[user]}}
                if str(params.get("include_locale", "")).lower() in ("true", "1") and user in self.locales:
                    found["locale"] = self.locales[user]
                return {"ok": True, "user": found}
            case "respond":
                return {"ok": True}
            case "views.open":
                return {"ok": True, "view": {"id": "V1"}}
        return {"ok": False, "error": "unknown_method"}

    def _conversations_list(self, params: dict[str, Any]) -> dict[str, Any]:
        """Pages of channels as Slack gives them: `limit` (capped by `page_size`) a page, `cursor` where to go on.
        A private channel the bot is not in is not listed, as Slack does not show it to the bot."""
        visible = [(name, cid) for name, cid in self.channels.items()
                   if not self.private.get(cid) or "UBOT" in self.members.get(cid, set())]
        if str(params.get("exclude_archived", "")).lower() in ("true", "1"):
            visible = [(name, cid) for name, cid in visible if cid not in self.archived]
        start = int(params.get("cursor") or 0)
        end = start + min(int(params.get("limit") or 100), self.page_size)
        page = [{"id": cid, "name": name, "is_private": self.private.get(cid, False),
                 "is_archived": cid in self.archived, "is_member": "UBOT" in self.members.get(cid, set())}
                for name, cid in visible[start:end]]
        return {"ok": True, "channels": page, "response_metadata": {"next_cursor": str(end) if end < len(visible)
                                                                    else ""}}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet: the calls list is the record
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(raw or "{}")
                else:
                    params = dict(parse_qsl(raw))
                if self.path.startswith("/respond/"):
                    method = "respond"
                    params["_token"] = self.path.rsplit("/", 1)[-1]
                else:
                    method = self.path.removeprefix("/api/")
                received = time.monotonic()
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ") or params.get("token")
                if wait := fake.delays.get(method, fake.delay):
                    time.sleep(wait)
                with fake._cond:
                    queue = fake.faults.get(method)
                    fault = queue.popleft() if queue else None
                    status = 0 if fault and fault.drop_connection else fault.status if fault and not fault.hang else 200
                    fake.calls.append(Call(method, params, time.monotonic(), status, received))
                    # Slack acts on a request it received even when the answer never reaches the caller.
                    acts = not fault or fault.drop_connection or fault.hang
                    refused = fake.refused_tokens.get(str(token)) if method != "respond" else None
                    answer = {"ok": False, "error": refused} if refused else (
                        fake._answer(method, params) if acts else None)
                    fake._cond.notify_all()
                if fault and fault.drop_connection:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if fault and fault.hang:
                    time.sleep(fault.hang)
                    fault = None
                if fault:
                    body = json.dumps({"ok": False, "error": "ratelimited"}).encode()
                    self.send_response(fault.status)
                    for name, value in fault.headers.items():
                        self.send_header(name, value)
                else:
                    body = json.dumps(answer).encode()
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                if method != "respond" and not refused:
                    self.send_header("x-oauth-scopes", ",".join(sorted(fake.scopes)))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler
