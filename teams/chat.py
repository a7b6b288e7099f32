"""bot.chat.ChatPort served by Microsoft Teams: messages through the Bot Connector's REST API, channels, members
and people through Microsoft Graph.

Teams reaches a channel or a person through a conversation reference (the conversation's id and the service URL
that carries it), which the bot learns when Teams speaks to it or when it opens a conversation itself; the
references are kept in the database (bot.ports.ConversationStore), so any process of any replica can post. A bot
may read no history in Teams, so a keyed message is written down once posted, for `find_posted`.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from bot.chat import Command, NameTaken, Undeliverable
from bot.forms import Form
from bot.message import ChannelLink, Inline, Message, Page, Strong
from bot.ports import Conversation, UnitOfWorkFactory
from teams.auth import ClientCredentials
from teams.limits import LAST_RESORT, TOO_BIG, fit
from teams.render import activity, form_card
from teams.rest import Refused, call

log = logging.getLogger(__name__)


def _parts(parts: Iterable[Inline]) -> Iterator[Inline]:
    for part in parts:
        yield part
        if isinstance(part, Strong):
            yield from _parts(part.parts)

_OBJECT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
# Graph's JSON batching takes at most this many requests at once.
GRAPH_BATCH = 20
SERVICE = "service"  # the key under which the last service URL Teams gave is remembered


@dataclass(frozen=True)
class TeamsConfig:
    app_id: str
    tenant_id: str
    team_id: str
    graph_url: str
    service_url: str
    # Graph creates a private channel for an app only with an owner named in the request: a person (or a service
    # account) of the City who owns every war room.
    war_room_owner: str | None = None


class TeamsChat:
    def __init__(self, config: TeamsConfig, unit_of_work: UnitOfWorkFactory, http: httpx.Client,
                 connector: ClientCredentials, graph: ClientCredentials,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC), cache_seconds: float = 300.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.unit_of_work = unit_of_work
        self.http = http
        self.connector = connector
        self.graph_token = graph
        self._now = now
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._users: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    # -- conversations ------------------------------------------------------------------------------------------
    def _remembered(self, key: str) -> Conversation | None:
        with self.unit_of_work(read_only=True) as uow:
            return uow.conversations.get(key)

    def _remember(self, key: str, conversation: Conversation) -> None:
        with self.unit_of_work() as uow:
            uow.conversations.remember(key, conversation, self._now())
            uow.commit()

    def _service_url(self) -> str:
        found = self._remembered(SERVICE)
        return found.service_url if found else self.config.service_url

    def _conversation(self, channel_or_user: str) -> Conversation:
        """Where to send: a person's personal chat with the bot (opened when there is none), a channel by #name
        (found through Graph once, then remembered), or a conversation by its id."""
        if _OBJECT_ID.match(channel_or_user):
            key = f"user:{channel_or_user.lower()}"
            if found := self._remembered(key):
                return found
            service = self._service_url()
            opened = self._connector("POST", service, "/v3/conversations", {
                "bot": {"id": f"28:{self.config.app_id}"}, "members": [{"id": channel_or_user}], "isGroup": False,
                "tenantId": self.config.tenant_id, "channelData": {"tenant": {"id": self.config.tenant_id}}})
            conversation = Conversation(str(opened["id"]), service)
            self._remember(key, conversation)
            return conversation
        if channel_or_user.startswith("#"):
            if found := self._remembered(channel_or_user):
                return found
            channel = self.find_channel(channel_or_user[1:])
            if channel is None:
                raise Refused(404, "channel_not_found", channel_or_user)
            conversation = Conversation(channel, self._service_url())
            self._remember(channel_or_user, conversation)
            return conversation
        return self._remembered(channel_or_user) or Conversation(channel_or_user, self._service_url())

    def _connector(self, method: str, service: str, path: str, body: Any = None) -> Any:
        return call(self.http, method, f"{service.rstrip('/')}{path}", self.connector.header, body)

    def _graph(self, method: str, path: str, body: Any = None) -> Any:
        return call(self.http, method, f"{self.config.graph_url.rstrip('/')}{path}", self.graph_token.header, body)

    # -- saying things ------------------------------------------------------------------------------------------
    def reply(self, to: Command, message: Message) -> None:
        # Teams has no message only one person sees in a channel: the answer goes to the person's own chat with
        # the bot, where a disagreement's details are as private as Slack's ephemeral answer keeps them. It names
        # the activity it answers, so that the answer and the bot's other messages there are told apart.
        if not _OBJECT_ID.match(to.user_id):
            raise Refused(404, "user_not_found", "not an Entra ID object id")
        self._send(self._conversation(to.user_id), message, None, {"replyToId": to.trigger_id} if to.trigger_id else {})

    def post(self, channel: str, message: Message, key: str | None = None) -> str:
        return self._send(self._conversation(channel), message, key)

    def _fitted(self, message: Message, send: Callable[[dict[str, Any]], Any]) -> Any:
        """Sends the message's activity cut to Teams' size limit (teams.limits). Should the Connector still answer
        413 MessageSizeTooBig, it is sent once more cut to a screenful; refused again, it is Undeliverable: a
        permanent refusal, which the duty runner does not retry as if it were a passing failure."""
        links = self._links(message)

        def render(m: Message) -> dict[str, Any]:
            return activity(m, links)

        try:
            return send(fit(message, render))
        except Refused as refused:
            if refused.status != TOO_BIG:
                raise
            log.warning("Teams refused a message as too big; sending it shortened")
        try:
            return send(fit(message, render, budget=LAST_RESORT))
        except Refused as refused:
            if refused.status == TOO_BIG:
                raise Undeliverable(refused.code) from refused
            raise

    def _send(self, conversation: Conversation, message: Message, key: str | None, extra: dict | None = None) -> str:
        sent = self._fitted(message, lambda shown: self._connector(
            "POST", conversation.service_url, f"/v3/conversations/{quote(conversation.id, safe=':@;=')}/activities",
            {**shown, **(extra or {})}))
        ref = str(sent.get("id", ""))
        if key:
            with self.unit_of_work() as uow:
                uow.conversations.record_posted(conversation.id, key, ref, self._now())
                uow.commit()
        return ref

    def direct(self, user_id: str, message: Message, key: str | None = None) -> str:
        if not _OBJECT_ID.match(user_id):
            raise Refused(404, "user_not_found", "not an Entra ID object id")
        return self.post(user_id, message, key)

    def find_posted(self, channel_or_user: str, key: str) -> str | None:
        conversation = self._conversation(channel_or_user)
        with self.unit_of_work() as uow:
            return uow.conversations.posted(conversation.id, key)

    def update(self, channel_or_user: str, ref: str, message: Message) -> bool:
        conversation = self._conversation(channel_or_user)
        try:
            self._fitted(message, lambda shown: self._connector(
                "PUT", conversation.service_url,
                f"/v3/conversations/{quote(conversation.id, safe=':@;=')}/activities/{quote(ref)}",
                {**shown, "id": ref}))
        except Refused as refused:
            if refused.status in (403, 404):
                return False
            raise
        return True

    def _links(self, message: Message) -> Callable[[str], tuple[str, str] | None]:
        """Links to the channels the message names (a war room, by its id): a Teams deep link, shown by the
        channel's name. Read before the message goes out, outside any transaction."""
        ids = {p.channel for line in message.lines for p in _parts(line.parts)
               if isinstance(p, ChannelLink) and not p.channel.startswith("#")}
        if not ids:
            return lambda _: None
        with self.unit_of_work(read_only=True) as uow:
            names = {i: uow.conversations.name_of(i) for i in ids}
        found = {i: (f"https://teams.microsoft.com/l/channel/{quote(i, safe='')}/{quote(n[1:], safe='')}"
                     f"?groupId={quote(self.config.team_id)}&tenantId={quote(self.config.tenant_id)}", n)
                 for i, n in names.items() if n}
        return found.get

    def publish_home(self, user_id: str, page: Page) -> None:
        """Teams shows this bot no Home of its own: a person's commands and their answers are in the personal
        chat, and `/samverkan`'s words give what the Home would."""

    # -- people -------------------------------------------------------------------------------------------------
    def _user(self, user: str) -> dict[str, Any]:
        with self._lock:
            hit = self._users.get(user)
        if hit is not None and self._monotonic() - hit[0] < self._cache_seconds:
            return hit[1]
        try:
            found = self._graph("GET", f"/users/{quote(user)}?$select=id,mail,userPrincipalName,preferredLanguage")
        except Refused as refused:
            if refused.status not in (400, 404):
                raise
            found = {}
        with self._lock:
            self._users[user] = (self._monotonic(), found)
        return found

    def find_user_by_email(self, email: str) -> str | None:
        found = self._user(email)
        return str(found["id"]).lower() if found.get("id") else None

    def email_of(self, user_id: str) -> str | None:
        if not _OBJECT_ID.match(user_id):
            return None
        found = self._user(user_id)
        email = found.get("mail") or found.get("userPrincipalName")
        return str(email) if email else None

    def usergroup_members(self, usergroup: str, *, fresh: bool = False) -> list[str]:
        return []  # user groups are Slack's; in Teams a rota is a person in the directory

    def locale_of(self, user_id: str) -> str | None:
        if not _OBJECT_ID.match(user_id):
            return None
        language = self._user(user_id).get("preferredLanguage")
        return str(language) if language else None

    # -- war rooms ----------------------------------------------------------------------------------------------
    def _team(self, path: str = "") -> str:
        return f"/teams/{quote(self.config.team_id)}/channels{path}"

    def _member(self, user: str, *roles: str) -> dict[str, Any]:
        return {"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": list(roles),
                "user@odata.bind": f"{self.config.graph_url.rstrip('/')}/users('{user}')"}

    def create_channel(self, name: str, private: bool) -> str:
        request: dict[str, Any] = {"displayName": name, "description": name,
                                   "membershipType": "private" if private else "standard"}
        if private:
            if not self.config.war_room_owner:
                # Never a standard channel instead: the whole team would read the war room.
                raise Refused(400, "no_war_room_owner", "TEAMS_WAR_ROOM_OWNER is not set")
            request["members"] = [self._member(self.config.war_room_owner, "owner")]
        try:
            created = self._graph("POST", self._team(), request)
        except Refused as refused:
            if refused.status == 409 or refused.code == "NameAlreadyExists":
                raise NameTaken(name) from refused
            raise
        channel = str(created["id"])
        self._remember(f"#{name}", Conversation(channel, self._service_url()))
        return channel

    def find_channel(self, name: str) -> str | None:
        """The team's channel of this name, compared as Graph's filter does (without regard to case)."""
        escaped = name.replace("'", "''")
        found = self._graph("GET", self._team(f"?$filter=displayName eq '{quote(escaped)}'"))
        for channel in found.get("value", []):
            if str(channel.get("displayName", "")).casefold() == name.casefold():
                return str(channel["id"])
        return None

    def set_topic(self, channel: str, topic: str) -> None:
        # A channel has one description: the topic (the war room's title and state) is it.
        self._graph("PATCH", self._team(f"/{quote(channel)}"), {"description": topic[:1024]})

    def set_purpose(self, channel: str, purpose: str) -> None:
        """The purpose is in the pinned brief; the description already says the topic."""

    def invite(self, channel: str, user_ids: list[str]) -> dict[str, str]:
        """Adds the members: to the team first, all in one request (Graph's bulk add takes 200; the core sends at
        most INVITE_BATCH), since a private channel takes only the team's members; then to the channel, through
        Graph's JSON batching, GRAPH_BATCH at a time. Someone already a member is no failure. Whoever could not be
        added comes back with Graph's reason."""
        failed: dict[str, str] = {u: "user_not_found" for u in user_ids if not _OBJECT_ID.match(u)}
        users = [u for u in user_ids if u not in failed]
        if not users:
            return failed
        added = self._graph("POST", f"/teams/{quote(self.config.team_id)}/members/add",
                            {"values": [self._member(u) for u in users]})
        for result in added.get("value", []):
            error = result.get("error")
            if error and str(result.get("userId", "")).lower() in users:
                failed[str(result["userId"]).lower()] = str(error.get("code") or "not_added")
        users = [u for u in users if u not in failed]
        for start in range(0, len(users), GRAPH_BATCH):
            chunk = users[start:start + GRAPH_BATCH]
            answer = self._graph("POST", "/$batch", {"requests": [
                {"id": str(n), "method": "POST", "url": self._team(f"/{quote(channel)}/members"),
                 "headers": {"Content-Type": "application/json"}, "body": self._member(user)}
                for n, user in enumerate(chunk)]})
            answered = {str(r.get("id")): r for r in answer.get("responses", [])}
            for n, user in enumerate(chunk):
                response = answered.get(str(n))
                status = int(response.get("status", 0)) if response else 0
                if status in (200, 201, 409):
                    continue
                if status == 429 or status >= 500 or response is None:
                    raise RuntimeError(f"Graph could not add members now ({status})")  # transient: retried
                error = (response.get("body") or {}).get("error") or {}
                failed[user] = str(error.get("code") or f"http_{status}")
        return failed

    def invite_shared(self, channel: str, email: str) -> str | None:
        """Someone of another organisation: added when the tenant knows them (a guest); otherwise the reason."""
        user = self.find_user_by_email(email)
        if user is None:
            return "not_in_tenant"
        return self.invite(channel, [user]).get(user)

    def pin(self, channel: str, ref: str) -> None:
        """Graph lets an app pin messages in chats, not in channels: the brief is the channel's first post."""

    def archive(self, channel: str) -> None:
        try:
            self._graph("POST", self._team(f"/{quote(channel)}/archive"), {})
        except Refused as refused:
            if refused.status != 409:  # already archived
                raise

    def message_text(self, channel: str, ref: str) -> str | None:
        return None  # reading a channel's messages needs a permission this bot does not ask for

    def open_form(self, command: Command, form: Form) -> bool:
        """The form as an Adaptive Card in the person's chat with the bot; its Submit comes back as an activity
        (teams.activity), which becomes the form's command as a Slack modal's submission does."""
        if not _OBJECT_ID.match(command.user_id):
            return False
        shown = {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                                                      "content": form_card(form)}]}
        if command.trigger_id:
            shown["replyToId"] = command.trigger_id
        conversation = self._conversation(command.user_id)
        self._connector("POST", conversation.service_url,
                        f"/v3/conversations/{quote(conversation.id, safe=':@;=')}/activities", shown)
        return True
