"""War rooms on Teams: group chats created through Graph v1.0, owned by the City's service account, with
Samverkan installed in them, rather than channels (README, "War rooms on Teams"). A private channel takes only its
team's members, and joining the team would let a supplier's guest read every forum channel in it; a bot posts in a
private channel only where the app is enabled there, which v1.0 cannot do. Nobody joins a team for a war room, so
nobody gains more than their room.

When Graph refuses for lack of set-up (a permission not granted, the app not in the catalogue, no owner), a
RoomRefused says what, and the assembly tells the declarer in words and tries again later."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

from bot.chat import RoomRefused
from bot.ports import Conversation
from teams.graph import GRAPH_BATCH, OBJECT_ID, Graph
from teams.rest import Refused

log = logging.getLogger(__name__)

# Graph adds at most 200 people when it creates a chat; the rest are added afterwards, up to a group chat's 250
# (https://learn.microsoft.com/en-us/microsoftteams/limits-specifications-teams, "Chat").
SEATS_AT_CREATION = 200
# A chat's topic is its name in everyone's chat list. Graph documents no limit; it is kept short enough to read,
# and is cut after the war room's reference, which comes first.
MAX_TOPIC = 250
# Graph lets an app create 20 chats per 10 seconds in a tenant (https://learn.microsoft.com/en-us/graph/
# throttling-limits, "Microsoft Teams service limits": POST chats, 20 per 10 seconds per app per tenant).
CHAT_CREATIONS = 20
CHAT_CREATION_WINDOW = 10.0
# What Samverkan may do in a war room's chat once installed there, consented when it is installed: read the
# messages it posted (to find one whose answer a dead process never recorded) and set the chat's topic.
CHAT_RSC = ("ChatMessage.Read.Chat", "ChatSettings.ReadWrite.Chat")


def is_chat(conversation: str) -> bool:
    """A Graph chat (group chat: `19:…@thread.v2`, one-on-one: `…@unq.gbl.spaces`), not a channel of the team
    (`19:…@thread.tacv2` / `@thread.skype`) or a personal conversation with the bot (`a:…`)."""
    return conversation.endswith(("@thread.v2", "@unq.gbl.spaces"))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _code(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("code") or "") if isinstance(error, dict) else ""


class Pace:
    """At most `count` calls in any `window` seconds in this process: the creations of many war rooms opened at
    once stay under Graph's limit rather than each collecting a 429 (which rest.call would wait out too)."""

    def __init__(self, count: int, window: float, monotonic: Callable[[], float],
                 sleep: Callable[[float], None]) -> None:
        self._count, self._window = count, window
        self._monotonic, self._sleep = monotonic, sleep
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def wait(self) -> None:
        while True:
            with self._lock:
                now = self._monotonic()
                while self._times and now - self._times[0] >= self._window:
                    self._times.popleft()
                if len(self._times) < self._count:
                    self._times.append(now)
                    return
                pause = self._window - (now - self._times[0])
            self._sleep(max(pause, 0.01))


class WarRooms:
    def __init__(self, graph: Graph, app_id: str, owner: str | None, service_url: str,
                 remember: Callable[[str, Conversation], None], remembered: Callable[[str], Conversation | None],
                 catalogue_app_id: str | None = None, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.graph = graph
        self.app_id = app_id
        self.owner = owner
        self.service_url = service_url
        self._remember = remember
        self._remembered = remembered
        self._catalogue = catalogue_app_id  # Samverkan's id in the tenant's app catalogue, once known
        self._lock = threading.Lock()
        self._seated: dict[str, set[str]] = {}  # chat -> who was put in it when it was created
        self._creations = Pace(CHAT_CREATIONS, CHAT_CREATION_WINDOW, monotonic, sleep)

    def _member(self, user: str, *roles: str) -> dict[str, Any]:
        return {"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": list(roles),
                "user@odata.bind": f"{self.graph.base}/users('{user}')"}

    def _chat_member(self, person: dict[str, Any]) -> dict[str, Any]:
        """A chat's member: a guest of the City's tenant with the role `guest`, anyone else `owner`, as Graph
        requires (https://learn.microsoft.com/en-us/graph/api/chat-post, request body: "In-tenant guest users
        must be assigned the guest role"); they see the chat's history from its start, the brief included."""
        role = "guest" if str(person.get("userType", "")).lower() == "guest" else "owner"
        return {**self._member(str(person["id"]), role), "visibleHistoryStartDateTime": "0001-01-01T00:00:00Z"}

    def _refused(self, refused: Refused, permission: str) -> Exception:
        if refused.status in (401, 403):
            return RoomRefused("permission", permission)
        return refused

    def create(self, name: str, members: Sequence[str] = ()) -> str:
        """A war room's group chat, its topic `name`, with the owner and up to SEATS_AT_CREATION of `members`
        in it (Graph adds at most 200 people at a chat's creation, and blocks adding people later to a group chat
        created with only two); Samverkan is then installed in it, so that the bot can post there. Whoever is not
        a user of the tenant is left out here: the invitations that follow name them with Graph's reason."""
        owner = self.owner
        if not owner:
            # Never a room the bot cannot keep: without an owner Graph creates no chat for an app.
            raise RoomRefused("no_owner")
        people = self.graph.people([owner, *members])
        if owner not in people:
            raise RoomRefused("no_owner", owner)
        seated = [people[u] for u in dict.fromkeys(members) if u in people and u != owner][:SEATS_AT_CREATION - 1]
        self.catalogue_id()  # before the chat is made: a room the bot cannot be installed in is not opened
        self._creations.wait()
        try:
            created = self.graph.call("POST", "/chats", {
                "chatType": "group", "topic": _cut(name, MAX_TOPIC),
                "members": [self._chat_member(people[owner]), *map(self._chat_member, seated)]})
        except Refused as refused:
            raise self._refused(refused, "Chat.Create") from refused
        chat = str(created["id"])
        with self._lock:
            self._seated[chat] = {str(p["id"]).lower() for p in seated}
        # Written down before the installation, so that a retry finds this chat (find_channel) instead of making
        # a second one.
        self._remember(f"#{name}", Conversation(chat, self.service_url))
        self.install(chat)
        return chat

    def install(self, chat: str) -> None:
        """Samverkan installed in the chat with the resource-specific permissions it uses there consented
        (https://learn.microsoft.com/en-us/graph/api/chat-post-installedapps): without it the Bot Connector
        refuses the bot's posts in the chat. Already installed is no failure."""
        try:
            self.graph.call("POST", f"/chats/{quote(chat)}/installedApps", {
                "teamsApp@odata.bind": f"{self.graph.base}/appCatalogs/teamsApps/"
                                       f"{quote(self.catalogue_id())}",
                "consentedPermissionSet": {"resourceSpecificPermissions": [
                    {"permissionValue": p, "permissionType": "application"} for p in CHAT_RSC]}})
        except Refused as refused:
            if refused.status == 409:
                return
            raise self._refused(refused, "TeamsAppInstallation.ReadWriteAndConsentSelfForChat.All") from refused

    def catalogue_id(self) -> str:
        """Samverkan's id in the tenant's app catalogue, found by the app id its manifest gives
        (https://learn.microsoft.com/en-us/graph/api/appcatalogs-list-teamsapps, `externalId`)."""
        if self._catalogue:
            return self._catalogue
        quoted = self.app_id.replace("'", "''")
        try:
            found = self.graph.call("GET", f"/appCatalogs/teamsApps?$filter={quote(f'externalId eq {quoted!r}')}")
        except Refused as refused:
            raise self._refused(refused, "AppCatalog.Read.All") from refused
        apps = found.get("value") or []
        if not apps:
            raise RoomRefused("app_not_in_catalogue", self.app_id)
        self._catalogue = str(apps[0]["id"])
        return self._catalogue

    def find(self, name: str) -> str | None:
        """A war room's chat this bot created (and wrote down, by its name) before it stopped, with Samverkan
        installed in it if the first try did not get that far. A chat is not found by its topic through Graph
        (that would need Chat.ReadBasic.All, every chat's name in the tenant): one whose creation's answer was lost
        is created again."""
        kept = self._remembered(f"#{name}")
        if kept is None or not is_chat(kept.id):
            return None
        self.install(kept.id)
        return kept.id

    def set_topic(self, chat: str, topic: str) -> None:
        """The chat's name in everyone's chat list: the war room's reference first, so a cut keeps it."""
        try:
            self.graph.call("PATCH", f"/chats/{quote(chat)}", {"topic": _cut(topic, MAX_TOPIC)})
        except Refused as refused:
            raise self._refused(refused, "ChatSettings.ReadWrite.Chat") from refused

    def invite(self, channel: str, user_ids: list[str]) -> dict[str, str]:
        """Adds the members to the war room's chat through Graph's JSON batching, GRAPH_BATCH at a time
        (https://learn.microsoft.com/en-us/graph/api/chat-post-members); those seated when it was created are
        already in it. Whoever could not be added comes back with the reason: not a user of the City's tenant
        (someone of another organisation must first be a guest of it), or Graph's own code."""
        failed: dict[str, str] = {u: "user_not_found" for u in user_ids if not OBJECT_ID.match(u)}
        with self._lock:
            seated = self._seated.get(channel, set())
        users = [u for u in user_ids if u not in failed and u.lower() not in seated]
        if not users:
            return failed
        people = self.graph.people(users)
        failed.update({u: "not_in_tenant" for u in users if u not in people})
        users = [u for u in users if u in people]
        for start in range(0, len(users), GRAPH_BATCH):
            chunk = users[start:start + GRAPH_BATCH]
            answers = self.graph.batch([{"method": "POST", "url": f"/chats/{quote(channel)}/members",
                                    "body": self._chat_member(people[u])} for u in chunk])
            for user, (status, body) in zip(chunk, answers, strict=True):
                if status in (200, 201, 204, 409):  # 409: already in it
                    continue
                if status >= 500:
                    raise RuntimeError(f"Graph could not add members now ({status})")  # transient: retried
                if status in (401, 403) and _code(body) in ("Forbidden", "Authorization_RequestDenied"):
                    raise RoomRefused("permission", "ChatMember.ReadWrite.All")
                failed[user] = {404: "user_not_found"}.get(status) or _code(body) or f"http_{status}"
        return failed

    def invite_shared(self, channel: str, email: str) -> str | None:
        """Someone of another organisation: added when the City's tenant knows them (a guest, found by e-mail);
        otherwise the reason."""
        user = self.graph.find_user_by_email(email)
        if user is None:
            return "not_in_tenant"
        return self.invite(channel, [user]).get(user)

    def pin(self, channel: str, ref: str) -> None:
        """The brief pinned at the top of the war room's chat
        (https://learn.microsoft.com/en-us/graph/api/chat-post-pinnedmessages). Its only application permission
        is Chat.ReadWrite.All, which the City may choose not to grant: then the brief stays the chat's first
        message, and the room is no less ready."""
        try:
            self.graph.call("POST", f"/chats/{quote(channel)}/pinnedMessages", {
                "message@odata.bind": f"{self.graph.base}/chats/{quote(channel)}/messages/"
                                      f"{quote(ref)}"})
        except Refused as refused:
            if refused.status in (401, 403):
                log.warning("the brief in %s is not pinned: Samverkan has no Chat.ReadWrite.All", channel)
                return
            if refused.status != 409:  # already pinned
                raise

