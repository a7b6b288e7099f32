"""A fake Microsoft Teams over real HTTP on loopback: the Bot Connector, Microsoft Graph, the Entra ID token endpoint
and the Bot Framework's OpenID metadata with its signing keys.

The bot's base URLs (TEAMS_OPENID_METADATA, TEAMS_LOGIN_URL, TEAMS_GRAPH_URL and each activity's serviceUrl) point
here, so every call crosses the same HTTP boundary as in production. The fake signs the activities it sends the bot
with a test RSA key it publishes as a JWKS, as the Bot Connector does with its own; it records what the bot sent
and answers as the Connector and Graph do for the calls the bot makes.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.slack_api import _Server

APP_ID = "6f1c2d3e-0000-4000-8000-00000000a99a"
TENANT = "7a0b0c0d-0000-4000-8000-00000000c1e7"
TEAM = "team-samverkan"
ISSUER = "https://api.botframework.com"
KID = "test-key"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


SIGNING_KEY = _key()
OTHER_KEY = _key()  # a key nobody publishes: what a forger signs with
WEBCHAT_KEY = _key()  # published, but endorsed only for another channel than Teams
WEBCHAT_KID = "webchat-key"


@dataclass
class Sent:
    """An activity the bot sent to a conversation (or an update of one)."""

    conversation: str
    activity: dict[str, Any]
    id: str
    at: float

    @property
    def text(self) -> str:
        return str(self.activity.get("text") or "")


class FakeTeams:
    def __init__(self) -> None:
        self._lock = threading.RLock()  # inspection inside `wait`'s condition takes it again
        self._cond = threading.Condition(self._lock)
        self._ids = itertools.count(1)
        self.reset()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-teams", daemon=True)

    def reset(self) -> None:
        with self._lock:
            self.sent: list[Sent] = []
            self.updates: list[Sent] = []
            self.users: dict[str, dict[str, Any]] = {}  # object id -> {id, mail, userPrincipalName}
            self.channels: dict[str, dict[str, Any]] = {}  # id -> {id, displayName, membershipType, description}
            self.members: dict[str, set[str]] = {}  # channel id -> object ids
            self.team_members: set[str] = set()  # object ids of the team's members
            self.owners: dict[str, set[str]] = {}  # channel id -> its owners' object ids
            self.archived: set[str] = set()
            self.personal: dict[str, str] = {}  # object id -> personal conversation id
            self.requests: list[tuple[str, str]] = []  # (method, path) of every call the bot made
            self.refuse: dict[str, str] = {}  # object id -> the error code Graph gives when adding them
            self.delay = 0.0  # every Bot Connector call takes this long

    # -- life cycle ---------------------------------------------------------------------------------------------
    def __enter__(self) -> FakeTeams:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def service_url(self) -> str:
        return f"{self.base_url}/connector/"

    # -- people and tokens --------------------------------------------------------------------------------------
    def add_user(self, email: str, object_id: str | None = None) -> str:
        object_id = object_id or str(uuid.uuid5(uuid.NAMESPACE_DNS, email))
        with self._lock:
            self.users[object_id] = {"id": object_id, "mail": email, "userPrincipalName": email}
        return object_id

    def token(self, *, key: rsa.RSAPrivateKey = SIGNING_KEY, audience: str = APP_ID, issuer: str = ISSUER,
              expires_in: float = 3600, service_url: str | None | bool = None, kid: str = KID) -> str:
        """`service_url`: the `serviceurl` claim; None or True the fake's own, False none at all."""
        now = int(time.time())
        claims: dict[str, Any] = {"iss": issuer, "aud": audience, "iat": now - 10, "nbf": now - 10,
                                  "exp": int(now + expires_in)}
        if service_url is not False:
            claims["serviceurl"] = service_url if isinstance(service_url, str) else self.service_url
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})

    def activity(self, user: str, text: str, *, channel: str | None = None, value: dict[str, Any] | None = None,
                 name: str = "Någon", mentions: dict[str, str] | None = None) -> dict[str, Any]:
        """A message to the bot as the Bot Connector posts it: in the person's personal chat, or (with `channel`)
        in a channel, naming the bot. `mentions`: the person mentioned by each `<at>Name</at>` in the text, by
        object id; Teams names them by their Bot Framework id, as it does."""
        conversation: dict[str, Any] = {"id": f"a:personal-{user}", "conversationType": "personal",
                                        "tenantId": TENANT}
        entities: list[dict[str, Any]] = []
        channel_data: dict[str, Any] = {"tenant": {"id": TENANT}}
        if channel:
            conversation = {"id": f"{channel};messageid={next(self._ids)}", "conversationType": "channel",
                            "tenantId": TENANT}
            text = f"<at>Samverkan</at> {text}"
            entities.append({"type": "mention", "text": "<at>Samverkan</at>",
                             "mentioned": {"id": f"28:{APP_ID}", "name": "Samverkan"}})
            channel_data.update(channel={"id": channel}, team={"id": TEAM})
        for shown, mentioned in (mentions or {}).items():
            entities.append({"type": "mention", "text": shown,
                             "mentioned": {"id": f"29:{mentioned}", "name": shown[4:-5]}})
        found: dict[str, Any] = {
            "type": "message", "id": f"act-{next(self._ids)}-{time.monotonic_ns()}", "serviceUrl": self.service_url,
            "channelId": "msteams", "from": {"id": f"29:{user}", "name": name, "aadObjectId": user},
            "recipient": {"id": f"28:{APP_ID}", "name": "Samverkan"}, "conversation": conversation,
            "text": text, "textFormat": "plain", "entities": entities, "channelData": channel_data,
            "locale": "sv-SE"}
        if value is not None:
            found["value"] = value
            found["text"] = ""
        return found

    # -- inspection ---------------------------------------------------------------------------------------------
    def to(self, conversation: str) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if s.conversation == conversation]

    def personal_of(self, user: str) -> str:
        return f"a:personal-{user}"

    def channel_named(self, name: str) -> str | None:
        with self._lock:
            return next((c["id"] for c in self.channels.values() if c["displayName"].casefold() == name.casefold()),
                        None)

    def add_channel(self, name: str) -> str:
        with self._lock:
            channel = f"19:{name}@thread.tacv2"
            self.channels[channel] = {"id": channel, "displayName": name, "membershipType": "standard",
                                      "description": ""}
            return channel

    def wait(self, condition, timeout: float = 10.0):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        with self._cond:
            while not (found := condition()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return found
                self._cond.wait(remaining)
            return found

    # -- the services -------------------------------------------------------------------------------------------
    def _answer(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        self.requests.append((method, path))
        if path == "/openid":
            return 200, {"issuer": ISSUER, "jwks_uri": f"{self.base_url}/keys"}
        if path == "/keys":
            keys = []
            published = ((KID, SIGNING_KEY, ["msteams", "skype"]), (WEBCHAT_KID, WEBCHAT_KEY, ["webchat"]))
            for kid, key, endorsed in published:
                public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
                keys.append({**public, "kid": kid, "use": "sig", "alg": "RS256", "endorsements": endorsed})
            return 200, {"keys": keys}
        if re.fullmatch(r"/login/[^/]+/oauth2/v2.0/token", path):
            return 200, {"access_token": f"app-token-{uuid.uuid4().hex}", "expires_in": 3600, "token_type": "Bearer"}
        if path.startswith("/connector/"):
            return self._connector(method, path.removeprefix("/connector"), body)
        if path.startswith("/graph/"):
            return self._graph(method, path.removeprefix("/graph"), query, body)
        return 404, {"error": {"code": "NotFound"}}

    def _connector(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if method == "POST" and path == "/v3/conversations":
            user = body["members"][0]["id"]
            if user not in self.users:
                return 404, {"error": {"code": "NotFound", "message": "user not found"}}
            conversation = self.personal.setdefault(user, self.personal_of(user))
            return 201, {"id": conversation}
        if m := re.fullmatch(r"/v3/conversations/([^/]+)/activities", path):
            sent = Sent(unquote(m.group(1)), body, f"msg-{next(self._ids)}", time.monotonic())
            self.sent.append(sent)
            return 201, {"id": sent.id}
        if method == "PUT" and (m := re.fullmatch(r"/v3/conversations/([^/]+)/activities/([^/]+)", path)):
            conversation, ref = unquote(m.group(1)), unquote(m.group(2))
            for n, sent in enumerate(self.sent):
                if sent.conversation == conversation and sent.id == ref:
                    self.sent[n] = Sent(conversation, body, ref, sent.at)
                    self.updates.append(self.sent[n])
                    return 200, {"id": ref}
            return 404, {"error": {"code": "ActivityNotFound"}}
        return 404, {"error": {"code": "NotFound"}}

    def _graph(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        if method == "POST" and path == "/$batch":
            responses = []
            for request in body["requests"]:
                status, answer = self._graph(request["method"], urlparse(request["url"]).path, {}, request["body"])
                responses.append({"id": request["id"], "status": status, "body": answer})
            return 200, {"responses": responses}
        if m := re.fullmatch(r"/users/([^/]+)", path):
            wanted = unquote(m.group(1)).lower()
            found = self.users.get(wanted) or next(
                (u for u in self.users.values() if u["mail"] == wanted or u["userPrincipalName"] == wanted), None)
            return (200, found) if found else (404, {"error": {"code": "Request_ResourceNotFound"}})
        channels = f"/teams/{TEAM}/channels"
        if path == channels and method == "GET":
            wanted = re.search(r"displayName eq '(.*)'", unquote(query.get("$filter", [""])[0]))
            name = wanted.group(1).replace("''", "'") if wanted else None
            return 200, {"value": [c for c in self.channels.values()
                                   if name is None or c["displayName"].casefold() == name.casefold()]}
        if path == f"/teams/{TEAM}/members/add" and method == "POST":
            results = []
            for member in body["values"]:
                user = re.search(r"users\('([^']+)'\)", member["user@odata.bind"]).group(1)  # type: ignore[union-attr]
                error = None if user in self.users else {"code": "Request_ResourceNotFound"}
                if error is None:
                    self.team_members.add(user)
                results.append({"@odata.type": "#microsoft.graph.aadUserConversationMemberResult", "userId": user,
                                "error": error})
            return 200, {"value": results}
        if path == channels and method == "POST":
            if any(c["displayName"] == body["displayName"] for c in self.channels.values()):
                return 409, {"error": {"code": "NameAlreadyExists"}}
            owners = [m for m in body.get("members", []) if "owner" in m.get("roles", [])]
            if body.get("membershipType") == "private" and not owners:
                # As Graph: an app creates a private channel only with an owner in the request.
                return 400, {"error": {"code": "BadRequest", "message": "a private channel needs an owner"}}
            channel = f"19:{uuid.uuid4().hex}@thread.tacv2"
            self.channels[channel] = {"id": channel, "displayName": body["displayName"],
                                      "membershipType": body.get("membershipType", "standard"),
                                      "description": body.get("description", "")}
            self.owners[channel] = {re.search(r"users\('([^']+)'\)", m["user@odata.bind"]).group(1)  # type: ignore[union-attr]
                                    for m in owners}
            return 201, self.channels[channel]
        if m := re.fullmatch(rf"{channels}/([^/]+)(/members|/archive)?", path):
            channel = unquote(m.group(1))
            if channel not in self.channels:
                return 404, {"error": {"code": "NotFound"}}
            if m.group(2) == "/members":
                user = re.search(r"users\('([^']+)'\)", body["user@odata.bind"]).group(1)  # type: ignore[union-attr]
                if user not in self.users:
                    return 404, {"error": {"code": "Request_ResourceNotFound"}}
                if user in self.refuse:
                    return 403, {"error": {"code": self.refuse[user]}}
                if self.channels[channel]["membershipType"] == "private" and user not in self.team_members:
                    return 400, {"error": {"code": "BadRequest", "message": "not a member of the team"}}
                if user in self.members.setdefault(channel, set()):
                    return 409, {"error": {"code": "Conflict"}}
                self.members[channel].add(user)
                return 201, {"id": f"member-{user}"}
            if m.group(2) == "/archive":
                self.archived.add(channel)
                return 202, {}
            if method == "PATCH":
                self.channels[channel].update(body)
                return 204, None
        return 404, {"error": {"code": "NotFound"}}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                parsed = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if "json" in (self.headers.get("Content-Type") or ""):
                    body = json.loads(raw or b"null")
                else:
                    body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                if fake.delay and parsed.path.startswith("/connector/"):
                    time.sleep(fake.delay)
                with fake._cond:
                    status, answer = fake._answer(self.command, parsed.path, parse_qs(parsed.query), body)
                    fake._cond.notify_all()
                data = b"" if answer is None else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = _serve  # noqa: N815 - http.server's naming

        return Handler
