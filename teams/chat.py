"""bot.chat.ChatPort served by Microsoft Teams: messages through the Bot Connector's REST API; people, rotas and
channels through Microsoft Graph (teams.graph); war rooms as group chats (teams.war_rooms); a keyed post found
again after a crash by reading the conversation back (teams.read_back).

Teams reaches a channel or a person through a conversation reference (the conversation's id and the service URL
that carries it), which the bot learns when Teams speaks to it or when it opens a conversation itself; the
references are kept in the database (bot.ports.ConversationStore), so any process of any replica can post.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from bot.chat import Command, Undeliverable
from bot.forms import Form
from bot.message import ChannelLink, Inline, Message, Page, Strong
from bot.ports import Conversation, UnitOfWorkFactory
from teams.auth import TEAMS_SERVICE_HOSTS, ClientCredentials, allowed_service_url
from teams.graph import Graph
from teams.limits import LAST_RESORT, TOO_BIG, fit, fit_page
from teams.read_back import ReadBack, digest
from teams.render import activity, form_card, home_activity, plain_text
from teams.rest import Refused, call
from teams.war_rooms import WarRooms, is_chat

log = logging.getLogger(__name__)


def _parts(parts: Iterable[Inline]) -> Iterator[Inline]:
    for part in parts:
        yield part
        if isinstance(part, Strong):
            yield from _parts(part.parts)

_OBJECT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


# The posted key under which a person's Home card (the activity updated in place) is written down.
HOME = "home:"



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
    # Samverkan's id in the tenant's app catalogue, when the administrator gives it; otherwise found through Graph.
    catalogue_app_id: str | None = None
    # The Bot Connector hosts the bot sends its own token to (TEAMS_SERVICE_URL_HOSTS): nothing else, whatever a
    # stored reference says.
    service_hosts: tuple[str, ...] = TEAMS_SERVICE_HOSTS


class TeamsChat:
    def __init__(self, config: TeamsConfig, unit_of_work: UnitOfWorkFactory, http: httpx.Client,
                 connector: ClientCredentials, graph: ClientCredentials,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC), cache_seconds: float = 300.0,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.unit_of_work = unit_of_work
        self.http = http
        self.connector = connector
        self._now = now
        self.graph = Graph(config.graph_url, http, graph, cache_seconds, monotonic, sleep)
        self.rooms = WarRooms(self.graph, config.app_id, config.war_room_owner, config.service_url, self._remember,
                              self._remembered, config.catalogue_app_id, monotonic, sleep)
        self.read_back = ReadBack(self.graph, config.team_id, config.app_id)

    # -- conversations ------------------------------------------------------------------------------------------
    def _remembered(self, key: str) -> Conversation | None:
        with self.unit_of_work(read_only=True) as uow:
            return uow.conversations.get(key)

    def _remember(self, key: str, conversation: Conversation) -> None:
        with self.unit_of_work() as uow:
            uow.conversations.remember(key, conversation, self._now())
            uow.commit()

    def _service_url(self) -> str:
        """Where to reach a conversation Teams has not spoken from yet: the configured Bot Connector of the
        City's region. Never the last URL some activity named: each reference keeps its own."""
        return self.config.service_url

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
        if not allowed_service_url(service, self.config.service_hosts):
            # Never the bot's token to a host off the allow-list, even from a reference kept before it changed.
            raise Refused(403, "service_url_not_allowed", service[:100])
        return call(self.http, method, f"{service.rstrip('/')}{path}", self.connector.header, body)

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
        def post(shown: dict[str, Any]) -> Any:
            shown = {**shown, **(extra or {})}
            if key and self.read_back.source(conversation.id) is not None:
                # Exactly once: that sending began, and what, is committed before the Connector is called. A
                # process that takes the duty over from one killed before the answer below was kept finds this
                # intent without a ref and reads the conversation back (find_posted) instead of posting a second
                # time. The time is the machine's, not the bot's clock: it is compared with the times Microsoft
                # gives its messages. Written for each form the message is sent in (a cut one included).
                with self.unit_of_work() as uow:
                    uow.conversations.record_intent(conversation.id, key, digest(str(shown.get("text") or "")),
                                                    datetime.now(UTC))
                    uow.commit()
            return self._connector("POST", conversation.service_url,
                                   f"/v3/conversations/{quote(conversation.id, safe=':@;=')}/activities", shown)

        sent = self._fitted(message, post)
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
        """The keyed message's ref when its answer was kept. When only the intent was (the poster died between
        the Connector's accepting the message and the answer's being written down), the conversation is read back
        through Graph for the bot's own message with the intent's text, sent since the intent; none there means it
        never got out. A personal chat with the bot cannot be read back (no read-back source): as before, what was
        not written down is posted again (a known gap, for direct messages)."""
        conversation = self._conversation(channel_or_user)
        with self.unit_of_work(read_only=True) as uow:
            posting = uow.conversations.posting(conversation.id, key)
        if posting is None or posting.ref is not None:
            return posting.ref if posting is not None else None
        if posting.digest is None or posting.sending_since is None:
            return None
        ref = self.read_back.find(conversation.id, key, posting.digest, posting.sending_since)
        if ref is not None:
            log.info("duty %s: its message %s was found in %s by reading it back", key, ref, conversation.id)
            with self.unit_of_work() as uow:
                uow.conversations.record_posted(conversation.id, key, ref, self._now())
                uow.commit()
        return ref

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
        found = {i: (self._deep_link(i, n), n) for i, n in names.items() if n}
        return found.get

    def _deep_link(self, conversation: str, name: str) -> str:
        """Teams' link to a chat or a channel (https://learn.microsoft.com/en-us/microsoftteams/platform/concepts/
        build-and-test/deep-link-teams): a war room's chat opens for its members only."""
        if is_chat(conversation):
            return f"https://teams.microsoft.com/l/chat/{quote(conversation, safe='')}/0?tenantId=" \
                   f"{quote(self.config.tenant_id)}"
        return (f"https://teams.microsoft.com/l/channel/{quote(conversation, safe='')}/{quote(name[1:], safe='')}"
                f"?groupId={quote(self.config.team_id)}&tenantId={quote(self.config.tenant_id)}")

    # -- a person's Home ----------------------------------------------------------------------------------------
    def publish_home(self, user_id: str, page: Page) -> None:
        """The person's Home as an Adaptive Card in their personal chat with the bot, kept current in place: posted
        once, and afterwards that same activity is updated through the Bot Connector (`PUT /v3/conversations/
        {conversationId}/activities/{activityId}`, https://learn.microsoft.com/en-us/microsoftteams/platform/bots/
        how-to/update-and-delete-bot-messages). The activity's id is written down (`home:{user}` in the
        conversation's posted keys), so any process updates the same card after a restart; only when the Connector
        says it is gone (the person deleted it) is it posted anew. A personal chat opens only for someone who has
        the app installed (step 2 of the README's Teams section): for anyone else the Connector's refusal is
        raised, and the Home is published the next time it is drawn."""
        if not _OBJECT_ID.match(user_id):
            return
        user = user_id.lower()
        try:
            self._publish_home(user, page)
        except Refused as refused:
            if refused.status not in (403, 404):
                raise
            # The app uninstalled by the person, or never installed for them: no personal chat to show it in.
            # Not an error of the redraw, which publishes everyone else's; writing `home` again shows it.
            log.warning("the Home of %s cannot be shown: Teams refuses their personal chat (%s %s)", user,
                        refused.status, refused.code)

    def _publish_home(self, user: str, page: Page) -> None:
        conversation = self._conversation(user)
        key = f"{HOME}{user}"
        links = self._page_links(page)
        shown = fit_page(lambda budget: home_activity(page, links, budget))
        path = f"/v3/conversations/{quote(conversation.id, safe=':@;=')}/activities"
        with self.unit_of_work(read_only=True) as uow:
            ref = uow.conversations.posted(conversation.id, key)
        if ref:
            try:
                self._connector("PUT", conversation.service_url, f"{path}/{quote(ref)}", {**shown, "id": ref})
                return
            except Refused as refused:
                if refused.status not in (400, 404):  # anything but "no such activity" is not for posting anew
                    raise
                log.info("the Home card of %s is gone from their chat: posted anew", user)
        sent = self._connector("POST", conversation.service_url, path, shown)
        with self.unit_of_work() as uow:
            uow.conversations.record_posted(conversation.id, key, str(sent.get("id", "")), self._now(),
                                            replace=True)
            uow.commit()

    def _page_links(self, page: Page) -> Callable[[str], tuple[str, str] | None]:
        """The deep links of the war rooms a page names (its items' ChannelLinks), as a message's are."""
        lines = tuple(line for section in page.sections
                      for message in (section.heading, *section.items, *((section.empty,) if section.empty else ()))
                      for line in message.lines)
        return self._links(Message(lines))

    # -- people (teams.graph) ---------------------------------------------------------------------------------
    def find_user_by_email(self, email: str) -> str | None:
        return self.graph.find_user_by_email(email)

    def email_of(self, user_id: str) -> str | None:
        if not _OBJECT_ID.match(user_id):
            return None
        found = self.graph.user(user_id)
        email = found.get("mail") or found.get("userPrincipalName")
        return str(email) if email else None

    def usergroup_members(self, usergroup: str, *, fresh: bool = False) -> list[str]:
        """A rota's Entra ID group, its members read through Graph (teams.graph.Graph.group_members)."""
        return self.graph.group_members(usergroup, fresh=fresh)

    def locale_of(self, user_id: str) -> str | None:
        if not _OBJECT_ID.match(user_id):
            return None
        language = self.graph.user(user_id).get("preferredLanguage")
        return str(language) if language else None

    # -- war rooms (teams.war_rooms): group chats; the forums' channels are the team's ----------------------------
    seats_at_creation = True

    def _team(self, path: str = "") -> str:
        return f"/teams/{quote(self.config.team_id)}/channels{path}"

    def create_channel(self, name: str, private: bool, members: Sequence[str] = ()) -> str:
        """A war room is a group chat, private by construction (teams.war_rooms)."""
        return self.rooms.create(name, members)

    def find_channel(self, name: str) -> str | None:
        """A war room's chat this bot made (teams.war_rooms.WarRooms.find), or the team's channel of this name,
        compared as Graph's filter does (without regard to case)."""
        if (room := self.rooms.find(name)) is not None:
            return room
        escaped = name.replace("'", "''")
        found = self.graph.call("GET", self._team(f"?$filter=displayName eq '{quote(escaped)}'"))
        for channel in found.get("value", []):
            if str(channel.get("displayName", "")).casefold() == name.casefold():
                return str(channel["id"])
        return None

    def set_topic(self, channel: str, topic: str) -> None:
        if is_chat(channel):
            self.rooms.set_topic(channel, topic)
            return
        # A channel has one description: the topic (the war room's title and state) is it.
        self.graph.call("PATCH", self._team(f"/{quote(channel)}"), {"description": topic[:1024]})

    def set_purpose(self, channel: str, purpose: str) -> None:
        """The purpose is in the pinned brief; the topic already names the war room."""

    def invite(self, channel: str, user_ids: list[str]) -> dict[str, str]:
        return self.rooms.invite(channel, user_ids)

    def invite_shared(self, channel: str, email: str) -> str | None:
        return self.rooms.invite_shared(channel, email)

    def pin(self, channel: str, ref: str) -> None:
        """Graph pins messages in chats, not in channels."""
        if is_chat(channel):
            self.rooms.pin(channel, ref)

    def archive(self, channel: str) -> None:
        """A group chat cannot be archived through Graph: the close report is its last word, and its people
        keep it as the record they took part in. A channel (from before war rooms were chats) is archived."""
        if is_chat(channel):
            return
        try:
            self.graph.call("POST", self._team(f"/{quote(channel)}/archive"), {})
        except Refused as refused:
            if refused.status != 409:  # already archived
                raise

    def message_text(self, channel: str, ref: str) -> str | None:
        """A message's text, for the war room's timeline: Get chatMessage in a chat
        (https://learn.microsoft.com/en-us/graph/api/chatmessage-get: `GET /chats/{chat-id}/messages/{message-id}`,
        the RSC permission ChatMessage.Read.Chat, consented when Samverkan was installed in the war room's chat),
        or in a channel of the team (`GET /teams/{team-id}/channels/{channel-id}/messages/{message-id}`,
        ChannelMessage.Read.Group). The body is HTML: its tags dropped, its entities unescaped, its paragraphs and
        line breaks kept as lines. None when Graph will not tell (the permission is not consented, the message
        is gone): the timeline keeps that it was marked, without its text."""
        bare = channel.split(";", 1)[0]
        if is_chat(bare):
            path, permission = f"/chats/{quote(bare)}/messages/{quote(ref)}", "ChatMessage.Read.Chat"
        elif bare.endswith(("@thread.tacv2", "@thread.skype")):
            path = f"/teams/{quote(self.config.team_id)}/channels/{quote(bare)}/messages/{quote(ref)}"
            permission = "ChannelMessage.Read.Group"
        else:
            return None
        try:
            found = self.graph.call("GET", path)
        except Refused as refused:
            if refused.status in (401, 403):
                log.error("the text of message %s in %s cannot be read: Graph refuses (%s %s); the Teams app needs "
                          "the resource-specific consent permission %s there", ref, bare, refused.status,
                          refused.code, permission)
                return None
            if refused.status == 404:
                return None
            raise
        body = (found.get("body") if isinstance(found, dict) else None) or {}
        content = str(body.get("content") or "")
        if str(body.get("contentType") or "html").lower() == "text":
            return content.strip()
        return plain_text(content)

    def open_form(self, command: Command, form: Form) -> bool:
        """The form as an Adaptive Card in the person's chat with the bot; its Action.Execute comes back as an
        invoke (teams.invoke), answered with the card redrawn while a field is wrong, and otherwise written down as
        the form's command, as a Slack modal's submission is."""
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

