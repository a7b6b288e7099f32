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
TENANT_DOMAIN = "edu.stockholm.example"
# Graph creates at most this many chats per app per tenant in any 10 seconds (https://learn.microsoft.com/en-us/
# graph/throttling-limits, "Microsoft Teams service limits": POST chats, 20 per 10 seconds per app per tenant).
CHAT_CREATIONS = 20

# -- permissions ----------------------------------------------------------------------------------------------------
# The Graph application permissions Samverkan asks for (README, "Running against Microsoft Teams"). The fake
# refuses a call whose permission the app was not granted with 403, as Graph does
# (https://learn.microsoft.com/en-us/graph/resolve-auth-errors). Written out rather than imported from
# teams.permissions: the fake is Microsoft's side, and a name misspelt there
# must not be agreed with here.
GRAPH_APPLICATION_PERMISSIONS = frozenset({
    "User.Read.All", "Channel.ReadBasic.All", "Chat.Create", "ChatMember.ReadWrite.All",
    "TeamsAppInstallation.ReadWriteAndConsentSelfForChat.All", "AppCatalog.Read.All", "Chat.ReadWrite.All",
    "GroupMember.Read.All"})
RSC_PERMISSIONS = frozenset({"ChannelMessage.Read.Group", "ChatMessage.Read.Chat", "ChatSettings.ReadWrite.Chat"})
CATALOG_ID = "c0ffee00-5a3e-4b6e-9c1d-00000000ca7a"  # the id Teams gives the uploaded package (not TEAMS_APP_ID)
GRAPH_TOKEN_SECRET = "throwaway-secret-of-the-fake-entra-id-0123456789"  # HS256: nobody verifies the fake's tokens


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
            # object id -> {id, mail, userPrincipalName, userType, otherMails}
            self.users: dict[str, dict[str, Any]] = {}
            self.channels: dict[str, dict[str, Any]] = {}  # the team's channels: id -> {id, displayName, ...}
            self.team_members: set[str] = set()  # object ids of TEAM's members: who can read its channels
            self.team_app = True  # Samverkan installed in TEAM (so it may post in its channels)
            self.chats: dict[str, dict[str, Any]] = {}  # id -> {id, topic, chatType, members, apps, rsc, ...}
            self.members: dict[str, set[str]] = {}  # chat id -> its members' object ids
            self.pinned: dict[str, list[str]] = {}  # chat id -> the ids of its pinned messages
            self.personal: dict[str, str] = {}  # object id -> personal conversation id
            self.without_app: set[str] = set()  # people who have not got Samverkan installed (no personal chat)
            self.requests: list[tuple[str, str]] = []  # (method, path) of every call the bot made
            self.refuse: dict[str, str] = {}  # object id -> the error code Graph gives when adding them to a chat
            self.delay = 0.0  # every Bot Connector call takes this long
            self.creations: list[float] = []  # when each chat was created, for Graph's throttle
            self.throttle_batch = 0  # the next this many requests inside a $batch are answered 429
            self.archived: set[str] = set()
            # Entra ID groups: group id -> its direct members' ids (users, or other groups: nesting)
            self.groups: dict[str, list[str]] = {}
            self.said: list[Sent] = []  # what people wrote in chats (say_in_chat), as Graph's chatMessages
            # -- permissions (doctor): what the tenant granted the app; see _graph_token, _catalogue, _rsc_messages
            self.granted: set[str] = set(GRAPH_APPLICATION_PERMISSIONS)  # in the Graph token's `roles` claim
            self.catalog: dict[str, str] = {APP_ID: CATALOG_ID}  # the tenant's app catalogue: externalId -> id
            self.rsc: set[str] = set(RSC_PERMISSIONS)  # consented where the app is installed (team and chats)

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
    def add_user(self, email: str, object_id: str | None = None, *, guest: bool = False,
                 other_mails: tuple[str, ...] = ()) -> str:
        """A person of the City's tenant, or (`guest`) someone of another organisation invited into it as a guest,
        whose user principal name is then `name_domain#EXT#@tenant` and whose address is only in `mail`."""
        object_id = object_id or str(uuid.uuid5(uuid.NAMESPACE_DNS, email))
        upn = f"{email.replace('@', '_')}#EXT#@{TENANT_DOMAIN}" if guest else email
        with self._lock:
            self.users[object_id] = {"id": object_id, "mail": email, "userPrincipalName": upn,
                                     "userType": "Guest" if guest else "Member", "otherMails": list(other_mails)}
        return object_id

    def can_read(self, user: str, conversation: str) -> bool:
        """Whether a person can read a conversation: a channel of TEAM by being a member of the team, a chat by
        being a member of it."""
        with self._lock:
            if conversation in self.chats:
                return user in self.members.get(conversation, set())
            return conversation in self.channels and user in self.team_members

    def chat_named(self, topic: str) -> str | None:
        with self._lock:
            return next((c for c, chat in self.chats.items() if chat["topic"] == topic), None)

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
        if not channel:
            with self._lock:  # someone writing to the bot in their personal chat has it installed
                self.personal.setdefault(user, conversation["id"])
        if value is not None:
            found["value"] = value
            found["text"] = ""
        return found

    # -- invokes --------------------------------------------------------------------------------------------------
    def invoke(self, user: str, name: str, value: dict[str, Any], *, chat: str | None = None) -> dict[str, Any]:
        """An invoke as Teams sends it: `adaptiveCard/action` when a card's Action.Execute is pressed (its data with
        the card's inputs merged in, under value.action.data), `composeExtension/fetchTask` and `.../submitAction`
        for a message action (https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/
        cards/universal-actions-for-adaptive-cards/work-with-universal-actions-for-adaptive-cards;
        https://learn.microsoft.com/en-us/microsoftteams/platform/messaging-extensions/how-to/action-commands/
        respond-to-task-module-submit). The answer is the HTTP response's body."""
        found = self.activity(user, "", value=value)
        found.update(type="invoke", name=name, text="")
        if chat is not None:
            found["conversation"] = {"id": chat, "conversationType": "groupChat", "tenantId": TENANT}
        return found

    def execute(self, user: str, card: dict[str, Any], inputs: dict[str, str]) -> dict[str, Any]:
        """A card's Action.Execute pressed with these inputs filled in."""
        [action] = [a for a in card.get("actions", []) if a.get("type") == "Action.Execute"]
        return self.invoke(user, "adaptiveCard/action", {
            "action": {"type": "Action.Execute", "verb": action["verb"], "data": {**action["data"], **inputs}},
            "trigger": "manual"})

    def message_action(self, user: str, command: str, message: Sent | str, *, chat: str | None = None,
                       data: dict[str, Any] | None = None) -> dict[str, Any]:
        """A message action chosen on a message (a Sent of the bot's, or a person's text): its dialog fetched, or
        (with `data`, the dialog's inputs and its Submit's data) submitted."""
        text = message.text if isinstance(message, Sent) else message
        value: dict[str, Any] = {"commandId": command, "commandContext": "message", "messagePayload": {
            "id": message.id if isinstance(message, Sent) else f"m-{next(self._ids)}", "messageType": "message",
            "body": {"contentType": "html", "content": text},
            "linkToMessage": f"https://teams.microsoft.com/l/message/{chat or 'personal'}/1"}}
        if data is None:
            return self.invoke(user, "composeExtension/fetchTask", value, chat=chat)
        return self.invoke(user, "composeExtension/submitAction", {**value, "data": data}, chat=chat)

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
    def _answer(self, method: str, path: str, query: dict[str, list[str]], body: Any,
                headers: dict[str, str] | None = None) -> tuple[int, Any]:
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
            if str((body or {}).get("scope", "")).startswith("https://graph.microsoft.com/"):
                return 200, self._graph_token()
            return 200, {"access_token": f"app-token-{uuid.uuid4().hex}", "expires_in": 3600, "token_type": "Bearer"}
        if path.startswith("/connector/"):
            return self._connector(method, path.removeprefix("/connector"), body)
        if path.startswith("/graph/"):
            return self._graph(method, path.removeprefix("/graph"), query, body, headers)
        return 404, {"error": {"code": "NotFound"}}

    def _connector(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        # The Bot Connector refuses a message over Teams' size limit with 413 and MessageSizeTooBig; the size is
        # the whole payload encoded as UTF-16 ("Format your bot messages",
        # https://learn.microsoft.com/microsoftteams/platform/bots/how-to/format-your-bot-messages). The limit
        # has been given as 28 KB, 40 KB and 100 KB over time: the fake holds the bot to the strictest, 28 KB.
        if "/activities" in path and len(json.dumps(body, ensure_ascii=False).encode("utf-16-le")) > 28 * 1024:
            return 413, {"error": {"code": "MessageSizeTooBig", "message": "Activity is too big"}}
        if method == "POST" and path == "/v3/conversations":
            user = body["members"][0]["id"]
            if user not in self.users:
                return 404, {"error": {"code": "NotFound", "message": "user not found"}}
            if user in self.without_app:
                # A bot starts a personal chat only with someone who has it installed
                # (https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/conversations/
                # send-proactive-messages, "Get the conversation ID": "the app must be installed").
                return 403, {"error": {"code": "Forbidden", "message": "the app is not installed for the user"}}
            conversation = self.personal.setdefault(user, self.personal_of(user))
            return 201, {"id": conversation}
        if m := re.fullmatch(r"/v3/conversations/([^/]+)/activities", path):
            conversation = unquote(m.group(1))
            if refused := self._may_post(conversation):
                return refused
            sent = Sent(conversation, body, f"msg-{next(self._ids)}", time.monotonic())
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

    def _may_post(self, conversation: str) -> tuple[int, Any] | None:
        """A bot posts only where its app is installed: in a personal chat it opened, in a channel of a team it is
        installed in, in a chat it is installed in
        (https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/conversations/conversation-basics;
        the Connector answers 403 "BotNotInConversationRoster" elsewhere)."""
        not_there = 403, {"error": {"code": "BotNotInConversationRoster",
                                    "message": "The bot is not part of the conversation roster."}}
        if conversation.startswith("a:"):
            return None if conversation in self.personal.values() else (404, {"error": {"code": "NotFound"}})
        if conversation in self.chats:
            return None if APP_ID in self.chats[conversation]["apps"] else not_there
        channel = conversation.split(";messageid=")[0]
        if channel in self.channels:
            return None if self.team_app else not_there
        return 404, {"error": {"code": "ConversationNotFound"}}

    def _denied(self, *permissions: str) -> tuple[int, Any] | None:
        if any(p in self.granted for p in permissions):
            return None
        return 403, {"error": {"code": "Authorization_RequestDenied",
                               "message": "Insufficient privileges to complete the operation."}}

    def _user_bound(self, member: dict[str, Any]) -> str | None:
        found = re.search(r"users\('([^']+)'\)", str(member.get("user@odata.bind", "")))
        return self._find_user(found.group(1)) if found else None

    def _find_user(self, key: str) -> str | None:
        """`GET /users/{id | userPrincipalName}`: an object id or a user principal name, nothing else: a guest's
        e-mail address is not their UPN (https://learn.microsoft.com/en-us/graph/api/user-get)."""
        key = key.lower()
        if key in self.users:
            return key
        return next((u for u, p in self.users.items() if p["userPrincipalName"].lower() == key), None)

    def _role_refused(self, user: str, member: dict[str, Any]) -> tuple[int, Any] | None:
        # Every member of a chat is `owner` or `guest`; an in-tenant guest must be `guest`
        # (https://learn.microsoft.com/en-us/graph/api/chat-post, request body).
        roles = member.get("roles") or []
        wanted = ["guest"] if self.users[user]["userType"] == "Guest" else ["owner"]
        if roles != wanted:
            return 400, {"error": {"code": "BadRequest", "message": f"member {user} must have the roles {wanted}"}}
        return None

    def _graph(self, method: str, path: str, query: dict[str, list[str]], body: Any,
               headers: dict[str, str] | None = None) -> tuple[int, Any]:
        if (read := self._graph_messages(method, path, query)) is not None:
            return read
        if (members := self._group_members(method, path, query)) is not None:
            return members
        if (message := self._chat_message(method, path)) is not None:
            return message
        if method == "POST" and path == "/$batch":
            return self._batch(body)
        if m := re.fullmatch(r"/users/([^/]+)", path):
            if refused := self._denied("User.Read.All"):
                return refused
            found = self._find_user(unquote(m.group(1)))
            return (200, self.users[found]) if found else (404, {"error": {"code": "Request_ResourceNotFound"}})
        if path == "/users" and method == "GET":
            if refused := self._denied("User.Read.All"):
                return refused
            wanted = unquote(query.get("$filter", [""])[0])
            if m := re.fullmatch(r"mail eq '(.*)'", wanted):
                mail = m.group(1).replace("''", "'").lower()
                return 200, {"value": [u for u in self.users.values() if u["mail"].lower() == mail]}
            if m := re.fullmatch(r"otherMails/any\(x:x eq '(.*)'\)", wanted):
                # An advanced query: Graph wants ConsistencyLevel: eventual and $count=true for it
                # (https://learn.microsoft.com/en-us/graph/aad-advanced-queries).
                if (headers or {}).get("consistencylevel") != "eventual" or query.get("$count") != ["true"]:
                    return 400, {"error": {"code": "Request_UnsupportedQuery"}}
                mail = m.group(1).replace("''", "'").lower()
                return 200, {"value": [u for u in self.users.values()
                                       if mail in (o.lower() for o in u["otherMails"])]}
            return 400, {"error": {"code": "Request_UnsupportedQuery"}}
        if path == "/appCatalogs/teamsApps" and method == "GET":
            return self._catalogue(query)
        channels = f"/teams/{TEAM}/channels"
        if path == channels and method == "GET":
            if refused := self._denied("Channel.ReadBasic.All"):
                return refused
            wanted = re.search(r"displayName eq '(.*)'", unquote(query.get("$filter", [""])[0]))
            name = wanted.group(1).replace("''", "'") if wanted else None
            return 200, {"value": [c for c in self.channels.values()
                                   if name is None or c["displayName"].casefold() == name.casefold()]}
        if path == "/chats" and method == "POST":
            return self._create_chat(body)
        if m := re.fullmatch(r"/chats/([^/]+)(/members|/installedApps|/pinnedMessages)?", path):
            chat = unquote(m.group(1))
            if chat not in self.chats:
                return 404, {"error": {"code": "NotFound"}}
            part = m.group(2)
            if part == "/members" and method == "POST":
                return self._add_to_chat(chat, body)
            if part == "/installedApps" and method == "POST":
                return self._install(chat, body)
            if part == "/pinnedMessages" and method == "POST":
                # Pinning takes Chat.ReadWrite.All, its only application permission
                # (https://learn.microsoft.com/en-us/graph/api/chat-post-pinnedmessages).
                if refused := self._denied("Chat.ReadWrite.All"):
                    return refused
                ref = str(body.get("message@odata.bind", "")).rsplit("/", 1)[-1]
                if not any(s.conversation == chat and s.id == unquote(ref) for s in self.sent):
                    return 404, {"error": {"code": "NotFound", "message": "no such message in the chat"}}
                self.pinned.setdefault(chat, []).append(unquote(ref))
                return 201, {"id": unquote(ref)}
            if part is None and method == "PATCH":
                # The topic: with the chat's own consent (RSC ChatSettings.ReadWrite.Chat) or Chat.ReadWrite.All
                # (https://learn.microsoft.com/en-us/graph/api/chat-patch).
                rsc = APP_ID in self.chats[chat]["apps"] and "ChatSettings.ReadWrite.Chat" in self.chats[chat]["rsc"]
                if not rsc and (refused := self._denied("Chat.ReadWrite.All")):
                    return refused
                self.chats[chat]["topic"] = body.get("topic", self.chats[chat]["topic"])
                return 200, {k: self.chats[chat][k] for k in ("id", "topic", "chatType")}
        return 404, {"error": {"code": "NotFound"}}

    def _create_chat(self, body: dict[str, Any]) -> tuple[int, Any]:
        """`POST /chats` (https://learn.microsoft.com/en-us/graph/api/chat-post): Chat.Create; a group chat names
        every member, each an existing user with the role their kind requires; at most 200 at creation."""
        if refused := self._denied("Chat.Create"):
            return refused
        now = time.monotonic()
        self.creations = [t for t in self.creations if now - t < 10.0]
        if len(self.creations) >= CHAT_CREATIONS:
            return 429, {"error": {"code": "TooManyRequests"}, "_retry_after": "1"}
        members = body.get("members") or []
        if body.get("chatType") != "group" or len(members) < 2 or len(members) > 200:
            return 400, {"error": {"code": "BadRequest", "message": "a group chat of 2 to 200 members"}}
        users = []
        for member in members:
            user = self._user_bound(member)
            if user is None:
                return 404, {"error": {"code": "Request_ResourceNotFound", "message": "a member does not exist"}}
            if refused := self._role_refused(user, member):
                return refused
            users.append(user)
        self.creations.append(now)
        chat = f"19:{uuid.uuid4().hex}@thread.v2"
        self.chats[chat] = {"id": chat, "topic": body.get("topic"), "chatType": "group", "apps": set(),
                            "rsc": set(), "created_with": len(users)}
        self.members[chat] = set(users)
        return 201, {k: v for k, v in self.chats[chat].items() if k in ("id", "topic", "chatType")}

    def _add_to_chat(self, chat: str, body: dict[str, Any]) -> tuple[int, Any]:
        """`POST /chats/{id}/members` (https://learn.microsoft.com/en-us/graph/api/chat-post-members)."""
        if refused := self._denied("ChatMember.ReadWrite.All"):
            return refused
        user = self._user_bound(body)
        if user is None:
            return 404, {"error": {"code": "Request_ResourceNotFound"}}
        if user in self.refuse:
            return 403, {"error": {"code": self.refuse[user]}}
        if refused := self._role_refused(user, body):
            return refused
        if self.chats[chat]["created_with"] < 3:
            # Graph blocks adding people to a group chat created with two
            # (microsoftgraph/microsoft-graph-docs-contrib#1622: "RosterAddMemberBlocked").
            return 403, {"error": {"code": "RosterAddMemberBlocked"}}
        if user in self.members[chat]:
            return 409, {"error": {"code": "Conflict"}}
        if len(self.members[chat]) >= 250:  # a group chat's limit (limits-specifications-teams, "Chat")
            return 403, {"error": {"code": "MemberLimitReached"}}
        self.members[chat].add(user)
        return 201, {"id": f"member-{user}"}

    def _install(self, chat: str, body: dict[str, Any]) -> tuple[int, Any]:
        """`POST /chats/{id}/installedApps` (https://learn.microsoft.com/en-us/graph/api/chat-post-installedapps):
        an app of the tenant's catalogue; consenting to its resource-specific permissions takes the AndConsent
        permission."""
        wanted = body.get("consentedPermissionSet", {}).get("resourceSpecificPermissions") or []
        needed = ("TeamsAppInstallation.ReadWriteAndConsentSelfForChat.All",) if wanted else (
            "TeamsAppInstallation.ReadWriteSelfForChat.All", "TeamsAppInstallation.ReadWriteAndConsentSelfForChat.All")
        if refused := self._denied(*needed):
            return refused
        app = str(body.get("teamsApp@odata.bind", "")).rsplit("/", 1)[-1]
        external = next((e for e, i in self.catalog.items() if i == unquote(app)), None)
        if external is None:
            return 404, {"error": {"code": "NotFound", "message": "no such app in the catalogue"}}
        if external in self.chats[chat]["apps"]:
            return 409, {"error": {"code": "Conflict"}}
        self.chats[chat]["apps"].add(external)
        self.chats[chat]["rsc"] |= {p["permissionValue"] for p in wanted}
        return 201, {"id": f"installation-{external}"}

    def _batch(self, body: dict[str, Any]) -> tuple[int, Any]:
        """JSON batching (https://learn.microsoft.com/en-us/graph/json-batching): at most 20 requests, each
        answered on its own, a throttled one with its own 429 and Retry-After."""
        requests = body.get("requests") or []
        if len(requests) > 20:
            return 400, {"error": {"code": "BadRequest", "message": "at most 20 requests in a batch"}}
        responses = []
        for request in requests:
            if self.throttle_batch > 0:
                self.throttle_batch -= 1
                responses.append({"id": request["id"], "status": 429, "headers": {"Retry-After": "0.2"},
                                  "body": {"error": {"code": "TooManyRequests"}}})
                continue
            url = urlparse(request["url"])
            status, answer = self._graph(request["method"], url.path, parse_qs(url.query), request.get("body"),
                                         {k.lower(): v for k, v in (request.get("headers") or {}).items()})
            responses.append({"id": request["id"], "status": status, "body": answer})
        return 200, {"responses": responses}

    # -- permissions (doctor) ---------------------------------------------------------------------------------------
    def _graph_token(self) -> dict[str, Any]:
        """Entra ID's answer to the client-credentials request for Graph: a JWT whose `roles` claim lists the
        application permissions granted to the app with admin consent.
        https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference (`roles`, `tid`, `appid`)
        https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow (the answer's fields)"""
        now = int(time.time())
        claims = {"aud": "https://graph.microsoft.com", "iss": f"https://sts.windows.net/{TENANT}/", "tid": TENANT,
                  "appid": APP_ID, "idtyp": "app", "iat": now - 10, "nbf": now - 10, "exp": now + 3600,
                  "roles": sorted(self.granted)}
        return {"access_token": jwt.encode(claims, GRAPH_TOKEN_SECRET, algorithm="HS256"), "expires_in": 3600,
                "token_type": "Bearer"}

    def _catalogue(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        """GET /appCatalogs/teamsApps?$filter=externalId eq '...': the tenant's catalogue, where an uploaded
        package's manifest id is the app's externalId and Teams gives it an id of its own; application access needs
        AppCatalog.Read.All. https://learn.microsoft.com/graph/api/appcatalogs-list-teamsapps
        Without the permission Graph answers 403 Authorization_RequestDenied:
        https://learn.microsoft.com/graph/errors"""
        if "AppCatalog.Read.All" not in self.granted:
            return 403, {"error": {"code": "Authorization_RequestDenied",
                                   "message": "Insufficient privileges to complete the operation."}}
        wanted = re.search(r"externalId eq '(.*)'", unquote(query.get("$filter", [""])[0]))
        apps = [{"id": catalog_id, "externalId": external, "displayName": "Samverkan",
                 "distributionMethod": "organization"}
                for external, catalog_id in self.catalog.items()
                if wanted is None or external == wanted.group(1).replace("''", "'")]
        return 200, {"value": apps}

    def _graph_messages(self, method: str, path: str, query: dict[str, list[str]]) -> tuple[int, Any] | None:
        """Graph's lists of a conversation's messages, made of what the bot posted through the Connector (`sent`),
        newest first, as chatMessage objects: id (the Connector's activity id), createdDateTime (UTC), from.application
        (the bot's app id) and body (html, the activity's text).
        https://learn.microsoft.com/en-us/graph/api/resources/chatmessage
        - GET /teams/{team-id}/channels/{channel-id}/messages: the channel's top-level messages, without replies;
          `$top` at most 50; application permission ChannelMessage.Read.Group (RSC).
          https://learn.microsoft.com/en-us/graph/api/channel-list-messages
        - GET /chats/{chat-id}/messages: `$top` at most 50, `$orderby` lastModifiedDateTime (default) or
          createdDateTime, descending only; application permission ChatMessage.Read.Chat (RSC).
          https://learn.microsoft.com/en-us/graph/api/chat-list-messages
        Without the RSC permission, 403 Forbidden. None for any other call."""
        channel = re.fullmatch(rf"/teams/{TEAM}/channels/([^/]+)/messages", path)
        chat = re.fullmatch(r"/chats/([^/]+)/messages", path)
        if method != "GET" or not (channel or chat):
            return None
        permission = "ChannelMessage.Read.Group" if channel else "ChatMessage.Read.Chat"
        if permission not in self.rsc:
            return 403, {"error": {"code": "Forbidden", "message": f"Missing role permissions on the request. "
                                                                  f"API requires one of '{permission}'."}}
        top = int(query.get("$top", ["20"])[0])
        if top > 50:
            return 400, {"error": {"code": "BadRequest", "message": "$top may be at most 50"}}
        order = query.get("$orderby", [""])[0]
        if order and order not in ("createdDateTime desc", "lastModifiedDateTime desc"):
            return 400, {"error": {"code": "BadRequest", "message": f"$orderby {order} is not supported"}}
        conversation = unquote((channel or chat).group(1))  # type: ignore[union-attr]
        if channel and conversation not in self.channels:
            return 404, {"error": {"code": "NotFound"}}
        if chat and conversation in self.chats and permission not in self.chats[conversation]["rsc"]:
            # A chat's RSC is consented in that chat, when the app is installed there.
            return 403, {"error": {"code": "Forbidden", "message": f"API requires '{permission}' in this chat."}}
        wall = time.time() - time.monotonic()  # Sent.at is monotonic
        messages = [s for s in self.sent if s.conversation == conversation]  # a `;messageid=` post is a reply
        messages.sort(key=lambda s: s.at, reverse=True)
        return 200, {"value": [{
            "id": s.id, "messageType": "message",
            "createdDateTime": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(wall + s.at))
                               + f".{int((wall + s.at) % 1 * 1000):03d}Z",
            "from": {"application": {"@odata.type": "#microsoft.graph.teamworkApplicationIdentity", "id": APP_ID,
                                     "displayName": "Samverkan", "applicationIdentityType": "bot"},
                     "device": None, "user": None},
            "body": {"contentType": "html", "content": s.text}} for s in messages[:top]]}

    # -- reactions: a message in a war room's chat, and a reaction to it ----------------------------------------------
    def say_in_chat(self, chat: str, user: str, content: str) -> str:
        """A person writes a message (HTML, as Teams keeps it) in a chat; its id, as Graph and the Connector name
        it."""
        with self._cond:
            said = Sent(chat, {"text": content, "from": user}, f"{int(time.time() * 1000)}{next(self._ids)}",
                        time.monotonic())
            self.said.append(said)
            self._cond.notify_all()
            return said.id

    def reaction(self, user: str, chat: str, message: str, kind: str = "like") -> dict[str, Any]:
        """The activity the Bot Connector posts to a bot installed in the chat when someone reacts to a message
        there: `type: messageReaction`, `reactionsAdded` with the reaction's type (like, heart, laugh, surprised,
        sad, angry), `replyToId` the message reacted to, the conversation the chat
        (https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/conversations/
        subscribe-to-conversation-events, "Message reaction events"). Each call is a new activity id; the
        Connector's redelivery of one is the same dict sent again."""
        return {"type": "messageReaction", "id": f"react-{next(self._ids)}-{time.monotonic_ns()}",
                "serviceUrl": self.service_url, "channelId": "msteams",
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                "from": {"id": f"29:{user}", "aadObjectId": user},
                "recipient": {"id": f"28:{APP_ID}", "name": "Samverkan"},
                "conversation": {"id": chat, "conversationType": "groupChat", "isGroup": True, "tenantId": TENANT},
                "channelData": {"tenant": {"id": TENANT}, "legacy": {"replyToId": message}},
                "reactionsAdded": [{"type": kind}], "replyToId": message}

    def _chat_message(self, method: str, path: str) -> tuple[int, Any] | None:
        """`GET /chats/{chat-id}/messages/{message-id}` (Get chatMessage in a chat,
        https://learn.microsoft.com/en-us/graph/api/chatmessage-get): here only with the chat's resource-specific
        consent ChatMessage.Read.Chat, consented when the app was installed in it (as the list of a chat's
        messages, _graph_messages), else 403; 404 for a chat or a message there is not. The chatMessage as in
        https://learn.microsoft.com/en-us/graph/api/resources/chatmessage: id, chatId, from (a user or the
        bot's application), body (html)."""
        m = re.fullmatch(r"/chats/([^/]+)/messages/([^/]+)", path)
        if method != "GET" or m is None:
            return None
        chat, ref = unquote(m.group(1)), unquote(m.group(2))
        if chat not in self.chats:
            return 404, {"error": {"code": "NotFound"}}
        if "ChatMessage.Read.Chat" not in self.rsc or "ChatMessage.Read.Chat" not in self.chats[chat]["rsc"]:
            return 403, {"error": {"code": "Forbidden", "message": "Missing role permissions on the request. API "
                                                                  "requires one of 'ChatMessage.Read.Chat'."}}
        found = next((s for s in [*self.sent, *self.said] if s.conversation == chat and s.id == ref), None)
        if found is None:
            return 404, {"error": {"code": "NotFound", "message": "no such message in the chat"}}
        user = found.activity.get("from")
        sender = ({"user": {"id": user, "userIdentityType": "aadUser"}, "application": None} if isinstance(user, str)
                  else {"application": {"id": APP_ID, "displayName": "Samverkan"}, "user": None})
        return 200, {"id": found.id, "chatId": chat, "messageType": "message", "from": sender,
                     "body": {"contentType": "html", "content": found.text}}

    # -- rotas: Entra ID groups -------------------------------------------------------------------------------------
    GROUP_PAGE_DEFAULT = 100  # a directory object list's page without $top
    GROUP_PAGE_MAX = 999  # the largest $top a directory object list takes

    def _group_members(self, method: str, path: str, query: dict[str, list[str]]) -> tuple[int, Any] | None:
        """`GET /groups/{id}/transitiveMembers/microsoft.graph.user` (List group transitive members,
        https://learn.microsoft.com/en-us/graph/api/group-list-transitivemembers): a flat list of all nested
        members, here cast to users (the OData cast, https://learn.microsoft.com/en-us/graph/query-parameters,
        "OData cast"), each with the `$select`ed properties. Application permission GroupMember.Read.All (or a
        higher one: Directory.Read.All, Group.Read.All, Group.ReadWrite.All, GroupMember.ReadWrite.All), else 403
        Authorization_RequestDenied; an unknown group 404 Request_ResourceNotFound. Paged
        (https://learn.microsoft.com/en-us/graph/paging): at most `$top` a page (default 100, at most 999), the
        rest behind `@odata.nextLink`, a URL to call as it is. None for any other call."""
        m = re.fullmatch(r"/groups/([^/]+)/transitiveMembers(/microsoft\.graph\.user)?", path)
        if method != "GET" or m is None:
            return None
        if refused := self._denied("GroupMember.Read.All", "Directory.Read.All", "Group.Read.All",
                                   "Group.ReadWrite.All", "GroupMember.ReadWrite.All"):
            return refused
        group = unquote(m.group(1)).lower()
        if group not in self.groups:
            return 404, {"error": {"code": "Request_ResourceNotFound",
                                   "message": f"Resource '{group}' does not exist or one of its queried reference-"
                                              f"property objects are not present."}}
        try:
            top = int(query.get("$top", [str(self.GROUP_PAGE_DEFAULT)])[0])
            skip = int(query.get("$skiptoken", ["0"])[0])
        except ValueError:
            return 400, {"error": {"code": "Request_BadRequest"}}
        if not 1 <= top <= self.GROUP_PAGE_MAX:
            return 400, {"error": {"code": "Request_BadRequest", "message": "Invalid page size specified"}}
        found: list[dict[str, Any]] = []
        seen: set[str] = {group}
        stack = [group]
        while stack:  # transitive: nested groups' members, each object once, the groups themselves too
            for member in self.groups.get(stack.pop(), []):
                member = member.lower()
                if member in seen:
                    continue
                seen.add(member)
                if member in self.groups:
                    stack.append(member)
                    if not m.group(2):
                        found.append({"@odata.type": "#microsoft.graph.group", "id": member})
                else:
                    found.append({"@odata.type": "#microsoft.graph.user", "id": member})
        selected = [f.strip() for f in query.get("$select", [""])[0].split(",") if f.strip()]
        page = [{k: v for k, v in item.items() if not selected or k in selected or k == "@odata.type"}
                for item in found[skip:skip + top]]
        answer: dict[str, Any] = {"value": page}
        if skip + top < len(found):
            rest = f"$top={top}&$skiptoken={skip + top}" + (f"&$select={','.join(selected)}" if selected else "")
            answer["@odata.nextLink"] = f"{self.base_url}/graph{path}?{rest}"
        return 200, answer

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
                    try:
                        status, answer = fake._answer(self.command, parsed.path, parse_qs(parsed.query), body,
                                                      {k.lower(): v for k, v in self.headers.items()})
                    except Exception as error:  # a fake's own bug: said plainly, not a dropped connection
                        import traceback
                        traceback.print_exc()
                        status, answer = 500, {"error": {"code": "FakeFailed", "message": repr(error)}}
                    fake._cond.notify_all()
                retry_after = answer.pop("_retry_after", None) if isinstance(answer, dict) else None
                data = b"" if answer is None else json.dumps(answer).encode()
                self.send_response(status)
                if retry_after:
                    self.send_header("Retry-After", retry_after)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815 - http.server's naming

        return Handler
