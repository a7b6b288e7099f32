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
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from bot.chat import Command, RoomRefused, Undeliverable
from bot.forms import Form
from bot.message import ChannelLink, Inline, Message, Page, Strong
from bot.ports import Conversation, UnitOfWorkFactory
from teams.auth import TEAMS_SERVICE_HOSTS, ClientCredentials, allowed_service_url
from teams.limits import LAST_RESORT, TOO_BIG, fit, fit_page
from teams.render import activity, form_card, home_activity
from teams.rest import RETRY_AFTER_CAP, Refused, call

log = logging.getLogger(__name__)


def _parts(parts: Iterable[Inline]) -> Iterator[Inline]:
    for part in parts:
        yield part
        if isinstance(part, Strong):
            yield from _parts(part.parts)

_OBJECT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
# Graph's JSON batching takes at most this many requests at once (https://learn.microsoft.com/en-us/graph/json-batching).
GRAPH_BATCH = 20
# How many times the requests of a batch that Graph throttled are sent again, each after its Retry-After.
BATCH_ROUNDS = 5
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
# The posted key under which a person's Home card (the activity updated in place) is written down.
HOME = "home:"


def _is_chat(conversation: str) -> bool:
    """A Graph chat (group chat: `19:…@thread.v2`, one-on-one: `…@unq.gbl.spaces`), not a channel of the team
    (`19:…@thread.tacv2` / `@thread.skype`) or a personal conversation with the bot (`a:…`)."""
    return conversation.endswith(("@thread.v2", "@unq.gbl.spaces"))


def _html_text(content: str) -> str:
    """A chatMessage's HTML body as plain text: line breaks and paragraphs as lines, other tags dropped, entities
    unescaped, spaces collapsed within each line."""
    import html

    content = re.sub(r"(?i)<br\s*/?>|</p\s*>|</div\s*>|</li\s*>", "\n", content)
    text = html.unescape(re.sub(r"<[^>]*>", "", content))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _seconds(value: Any, default: float) -> float:
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return default


def _code(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("code") or "") if isinstance(error, dict) else ""


class _Pace:
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
        self.graph_token = graph
        self._now = now
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._sleep = sleep
        self._users: dict[str, tuple[float, dict[str, Any]]] = {}
        self._groups: dict[str, tuple[float, list[str]]] = {}  # Entra ID group -> (when read, its users)
        self._lock = threading.Lock()
        self._seated: dict[str, set[str]] = {}  # war room chat -> who was put in it when it was created
        self._catalogue: str | None = None  # Samverkan's id in the tenant's app catalogue
        self._creations = _Pace(CHAT_CREATIONS, CHAT_CREATION_WINDOW, monotonic, sleep)

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

    def _graph(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        auth = self.graph_token.header if not headers else (lambda: {**self.graph_token.header(), **headers})
        return call(self.http, method, f"{self.config.graph_url.rstrip('/')}{path}", auth, body, sleep=self._sleep)

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
            if key and self._read_back_source(conversation.id) is not None:
                # Exactly once: that sending began, and what, is committed before the Connector is called. A
                # process that takes the duty over from one killed before the answer below was kept finds this
                # intent without a ref and reads the conversation back (find_posted) instead of posting a second
                # time. The time is the machine's, not the bot's clock: it is compared with the times Microsoft
                # gives its messages. Written for each form the message is sent in (a cut one included).
                with self.unit_of_work() as uow:
                    uow.conversations.record_intent(conversation.id, key, self._digest(str(shown.get("text") or "")),
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
        ref = self._read_back(conversation.id, key, posting.digest, posting.sending_since)
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
        if _is_chat(conversation):
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

    # -- people -------------------------------------------------------------------------------------------------
    _SELECT = "$select=id,mail,userPrincipalName,preferredLanguage,userType"

    def _user(self, user: str) -> dict[str, Any]:
        """A person by object id or user principal name: the only keys `GET /users/{id | userPrincipalName}`
        takes (https://learn.microsoft.com/en-us/graph/api/user-get). Whoever it is not found is remembered as
        nobody for as long as anyone is."""
        with self._lock:
            hit = self._users.get(user.lower())
        if hit is not None and self._monotonic() - hit[0] < self._cache_seconds:
            return hit[1]
        try:
            found = self._graph("GET", f"/users/{quote(user)}?{self._SELECT}")
        except Refused as refused:
            if refused.status not in (400, 404):
                raise
            found = {}
        self._keep_user(user, found)
        return found

    def _keep_user(self, key: str, found: dict[str, Any]) -> None:
        with self._lock:
            self._users[key.lower()] = (self._monotonic(), found)
            if found.get("id"):
                self._users[str(found["id"]).lower()] = (self._monotonic(), found)

    def find_user_by_email(self, email: str) -> str | None:
        """The City's own people are found by their user principal name; a guest's UPN is
        `name_domain#EXT#@tenant`, so a guest is found by `mail`, then by `otherMails`
        (https://learn.microsoft.com/en-us/graph/api/user-list, "Get a user account using a sign-in name" and the
        `mail`/`otherMails` filters in https://learn.microsoft.com/en-us/graph/aad-advanced-queries)."""
        email = email.strip()
        if not email or "@" not in email:
            return None
        found = self._user(email)
        if not found.get("id"):
            found = self._user_by_filter(email)
        return str(found["id"]).lower() if found.get("id") else None

    def _user_by_filter(self, email: str) -> dict[str, Any]:
        key = f"mail:{email.lower()}"
        with self._lock:
            hit = self._users.get(key)
        if hit is not None and self._monotonic() - hit[0] < self._cache_seconds:
            return hit[1]
        quoted = email.replace("'", "''")
        found: dict[str, Any] = {}
        for condition, advanced in ((f"mail eq '{quoted}'", False), (f"otherMails/any(x:x eq '{quoted}')", True)):
            # `otherMails/any` is an advanced query: ConsistencyLevel eventual with $count.
            query = f"$filter={quote(condition)}&{self._SELECT}" + ("&$count=true" if advanced else "")
            answer = self._graph("GET", f"/users?{query}", headers={"ConsistencyLevel": "eventual"} if advanced
                                 else None)
            values = answer.get("value") or []
            if values:
                found = values[0]
                break
        self._keep_user(key, found)
        return found

    def email_of(self, user_id: str) -> str | None:
        if not _OBJECT_ID.match(user_id):
            return None
        found = self._user(user_id)
        email = found.get("mail") or found.get("userPrincipalName")
        return str(email) if email else None

    # -- rotas: Entra ID groups --------------------------------------------------------------------------------
    GROUP_PAGE = 999  # `$top` of a directory object list: at most 999 a page

    def usergroup_members(self, usergroup: str, *, fresh: bool = False) -> list[str]:
        """The object ids of the users in an Entra ID group, nested groups' members included: List group
        transitive members cast to users (https://learn.microsoft.com/en-us/graph/api/group-list-transitivemembers:
        `GET /groups/{id}/transitiveMembers/microsoft.graph.user`, application permission GroupMember.Read.All, a
        flat list of all nested members, paged with `@odata.nextLink`). Kept for `cache_seconds` to recognise who
        is speaking, as Slack's user groups are; `fresh` (a war room's assembly) asks Graph and refreshes what is
        kept, so a rota changed at a shift handover invites the shift on duty now. A group Graph does not know
        has nobody in it. Without GroupMember.Read.All an assembly is refused (the declarer is told what to
        grant); recognising who speaks goes on without the group."""
        if not _OBJECT_ID.match(usergroup):
            return []
        key = usergroup.lower()
        if not fresh:
            with self._lock:
                hit = self._groups.get(key)
            if hit is not None and self._monotonic() - hit[0] < self._cache_seconds:
                return list(hit[1])
        try:
            members = self._group_members(key)
        except Refused as refused:
            if refused.status in (401, 403):
                if fresh:
                    raise RoomRefused("permission", "GroupMember.Read.All") from refused
                log.error("the members of the Entra ID group %s cannot be read: Samverkan has no "
                          "GroupMember.Read.All (README, \"Running against Microsoft Teams\")", key)
                return []
            if refused.status not in (400, 404):
                raise
            members = []
        with self._lock:
            self._groups[key] = (self._monotonic(), members)
        return list(members)

    def _group_members(self, group: str) -> list[str]:
        url: str | None = (f"{self.config.graph_url.rstrip('/')}/groups/{quote(group)}/transitiveMembers/"
                           f"microsoft.graph.user?$select=id&$top={self.GROUP_PAGE}")
        found: list[str] = []
        while url:
            page = call(self.http, "GET", url, self.graph_token.header, sleep=self._sleep)
            for item in page.get("value") or []:
                if isinstance(item, dict) and item.get("id") and str(item["id"]).lower() not in found:
                    found.append(str(item["id"]).lower())
            following = page.get("@odata.nextLink")
            # The next page is Graph's own: the app's token goes to no other address a page names.
            url = following if isinstance(following, str) and following.startswith(
                self.config.graph_url.rstrip("/") + "/") else None
        return found

    def locale_of(self, user_id: str) -> str | None:
        if not _OBJECT_ID.match(user_id):
            return None
        language = self._user(user_id).get("preferredLanguage")
        return str(language) if language else None

    def _people(self, user_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Each person's user record (whether they are a guest decides their role in a chat), read through
        Graph's JSON batching, GRAPH_BATCH at a time, for those not already known. Nobody found: not in it."""
        known: dict[str, dict[str, Any]] = {}
        wanted: list[str] = []
        now = self._monotonic()
        with self._lock:
            for user in user_ids:
                hit = self._users.get(user.lower())
                if hit is not None and now - hit[0] < self._cache_seconds:
                    if hit[1].get("id"):
                        known[user] = hit[1]
                else:
                    wanted.append(user)
        for start in range(0, len(wanted), GRAPH_BATCH):
            chunk = wanted[start:start + GRAPH_BATCH]
            answers = self._batch([{"method": "GET", "url": f"/users/{quote(u)}?{self._SELECT}"} for u in chunk])
            for user, (status, body) in zip(chunk, answers, strict=True):
                if status == 200 and isinstance(body, dict) and body.get("id"):
                    known[user] = body
                    self._keep_user(user, body)
                elif status in (400, 404):
                    self._keep_user(user, {})
                elif status in (401, 403):
                    raise RoomRefused("permission", "User.Read.All")
                else:
                    raise RuntimeError(f"Graph could not read people now ({status})")  # transient: retried
        return known

    # -- Graph's JSON batching ----------------------------------------------------------------------------------
    def _batch(self, requests: list[dict[str, Any]]) -> list[tuple[int, Any]]:
        """Sends up to GRAPH_BATCH requests in one `POST /$batch` and returns each one's (status, body), in order.
        A request the batch answers with 429 (or 503/504) is sent again after the Retry-After its own response
        gives (https://learn.microsoft.com/en-us/graph/json-batching, "Throttling and dependencies"), at most
        BATCH_ROUNDS times; then it is raised, and the duty is tried again later."""
        answers: dict[int, tuple[int, Any]] = {}
        waiting = list(range(len(requests)))
        for _ in range(BATCH_ROUNDS):
            body = {"requests": [{"id": str(n), **({"headers": {"Content-Type": "application/json"}}
                                                   if "body" in requests[n] else {}), **requests[n]}
                                 for n in waiting]}
            answer = self._graph("POST", "/$batch", body)
            by_id = {str(r.get("id")): r for r in answer.get("responses", [])}
            again: list[int] = []
            pause = 0.0
            for n in waiting:
                response = by_id.get(str(n))
                status = int(response.get("status", 0)) if response else 0
                if response is None or status in (429, 503, 504):
                    again.append(n)
                    headers = {str(k).lower(): v for k, v in ((response or {}).get("headers") or {}).items()}
                    pause = max(pause, _seconds(headers.get("retry-after"), 1.0))
                    continue
                answers[n] = (status, response.get("body"))
            if not again:
                return [answers[n] for n in range(len(requests))]
            waiting = again
            self._sleep(min(pause, RETRY_AFTER_CAP))
        raise RuntimeError(f"Graph kept throttling {len(waiting)} of a batch's requests")  # transient: retried

    # -- war rooms ----------------------------------------------------------------------------------------------
    # A war room on Teams is a group chat created through Graph (POST /chats, v1.0), owned by the City's service
    # account, with Samverkan installed in it, rather than a channel: a private channel takes only the team's
    # members, and joining the team would let a supplier's guest read every forum channel in it; a bot posts in a
    # private channel only where the app is enabled there, which v1.0 cannot do. Nobody joins a team for a war
    # room, so nobody gains more than their room. (README: "War rooms on Teams".)
    seats_at_creation = True

    def _team(self, path: str = "") -> str:
        return f"/teams/{quote(self.config.team_id)}/channels{path}"

    def _member(self, user: str, *roles: str) -> dict[str, Any]:
        return {"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": list(roles),
                "user@odata.bind": f"{self.config.graph_url.rstrip('/')}/users('{user}')"}

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

    def create_channel(self, name: str, private: bool, members: Sequence[str] = ()) -> str:
        """The war room's group chat, its topic `name`, with the owner and up to SEATS_AT_CREATION of `members`
        in it (Graph adds at most 200 people at a chat's creation, and blocks adding people later to a group chat
        created with only two); Samverkan is then installed in it, so that the bot can post there. Whoever is not
        a user of the tenant is left out here: the invitations that follow name them with Graph's reason."""
        owner = self.config.war_room_owner
        if not owner:
            # Never a room the bot cannot keep: without an owner Graph creates no chat for an app.
            raise RoomRefused("no_owner")
        people = self._people([owner, *members])
        if owner not in people:
            raise RoomRefused("no_owner", owner)
        seated = [people[u] for u in dict.fromkeys(members) if u in people and u != owner][:SEATS_AT_CREATION - 1]
        self._catalogue_id()  # before the chat is made: a room the bot cannot be installed in is not opened
        self._creations.wait()
        try:
            created = self._graph("POST", "/chats", {
                "chatType": "group", "topic": _cut(name, MAX_TOPIC),
                "members": [self._chat_member(people[owner]), *map(self._chat_member, seated)]})
        except Refused as refused:
            raise self._refused(refused, "Chat.Create") from refused
        chat = str(created["id"])
        with self._lock:
            self._seated[chat] = {str(p["id"]).lower() for p in seated}
        # Written down before the installation, so that a retry finds this chat (find_channel) instead of making
        # a second one.
        self._remember(f"#{name}", Conversation(chat, self.config.service_url))
        self._install(chat)
        return chat

    def _install(self, chat: str) -> None:
        """Samverkan installed in the chat with the resource-specific permissions it uses there consented
        (https://learn.microsoft.com/en-us/graph/api/chat-post-installedapps): without it the Bot Connector
        refuses the bot's posts in the chat. Already installed is no failure."""
        try:
            self._graph("POST", f"/chats/{quote(chat)}/installedApps", {
                "teamsApp@odata.bind": f"{self.config.graph_url.rstrip('/')}/appCatalogs/teamsApps/"
                                       f"{quote(self._catalogue_id())}",
                "consentedPermissionSet": {"resourceSpecificPermissions": [
                    {"permissionValue": p, "permissionType": "application"} for p in CHAT_RSC]}})
        except Refused as refused:
            if refused.status == 409:
                return
            raise self._refused(refused, "TeamsAppInstallation.ReadWriteAndConsentSelfForChat.All") from refused

    def _catalogue_id(self) -> str:
        """Samverkan's id in the tenant's app catalogue, found by the app id its manifest gives
        (https://learn.microsoft.com/en-us/graph/api/appcatalogs-list-teamsapps, `externalId`)."""
        if self._catalogue or self.config.catalogue_app_id:
            return self._catalogue or str(self.config.catalogue_app_id)
        quoted = self.config.app_id.replace("'", "''")
        try:
            found = self._graph("GET", f"/appCatalogs/teamsApps?$filter={quote(f'externalId eq {quoted!r}')}")
        except Refused as refused:
            raise self._refused(refused, "AppCatalog.Read.All") from refused
        apps = found.get("value") or []
        if not apps:
            raise RoomRefused("app_not_in_catalogue", self.config.app_id)
        self._catalogue = str(apps[0]["id"])
        return self._catalogue

    def find_channel(self, name: str) -> str | None:
        """The team's channel of this name, compared as Graph's filter does (without regard to case). A war
        room's chat is not found by its name (reading chats by topic would need Chat.ReadBasic.All, every chat's
        name in the tenant): one whose creation's answer was lost is created again."""
        if (kept := self._remembered(f"#{name}")) and _is_chat(kept.id):
            # A war room's chat this bot created (and wrote down) before it stopped: Samverkan is installed in it
            # if the first try did not get that far.
            self._install(kept.id)
            return kept.id
        escaped = name.replace("'", "''")
        found = self._graph("GET", self._team(f"?$filter=displayName eq '{quote(escaped)}'"))
        for channel in found.get("value", []):
            if str(channel.get("displayName", "")).casefold() == name.casefold():
                return str(channel["id"])
        return None

    def set_topic(self, channel: str, topic: str) -> None:
        if _is_chat(channel):
            # The chat's name in everyone's chat list: the war room's reference first, so a cut keeps it.
            try:
                self._graph("PATCH", f"/chats/{quote(channel)}", {"topic": _cut(topic, MAX_TOPIC)})
            except Refused as refused:
                raise self._refused(refused, "ChatSettings.ReadWrite.Chat") from refused
            return
        # A channel has one description: the topic (the war room's title and state) is it.
        self._graph("PATCH", self._team(f"/{quote(channel)}"), {"description": topic[:1024]})

    def set_purpose(self, channel: str, purpose: str) -> None:
        """The purpose is in the pinned brief; the topic already names the war room."""

    def invite(self, channel: str, user_ids: list[str]) -> dict[str, str]:
        """Adds the members to the war room's chat through Graph's JSON batching, GRAPH_BATCH at a time
        (https://learn.microsoft.com/en-us/graph/api/chat-post-members); those seated when it was created are
        already in it. Whoever could not be added comes back with the reason: not a user of the City's tenant
        (someone of another organisation must first be a guest of it), or Graph's own code."""
        failed: dict[str, str] = {u: "user_not_found" for u in user_ids if not _OBJECT_ID.match(u)}
        with self._lock:
            seated = self._seated.get(channel, set())
        users = [u for u in user_ids if u not in failed and u.lower() not in seated]
        if not users:
            return failed
        people = self._people(users)
        failed.update({u: "not_in_tenant" for u in users if u not in people})
        users = [u for u in users if u in people]
        for start in range(0, len(users), GRAPH_BATCH):
            chunk = users[start:start + GRAPH_BATCH]
            answers = self._batch([{"method": "POST", "url": f"/chats/{quote(channel)}/members",
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
        user = self.find_user_by_email(email)
        if user is None:
            return "not_in_tenant"
        return self.invite(channel, [user]).get(user)

    def pin(self, channel: str, ref: str) -> None:
        """The brief pinned at the top of the war room's chat
        (https://learn.microsoft.com/en-us/graph/api/chat-post-pinnedmessages). Its only application permission
        is Chat.ReadWrite.All, which the City may choose not to grant: then the brief stays the chat's first
        message, and the room is no less ready. Channels cannot pin through Graph."""
        if not _is_chat(channel):
            return
        try:
            self._graph("POST", f"/chats/{quote(channel)}/pinnedMessages", {
                "message@odata.bind": f"{self.config.graph_url.rstrip('/')}/chats/{quote(channel)}/messages/"
                                      f"{quote(ref)}"})
        except Refused as refused:
            if refused.status in (401, 403):
                log.warning("the brief in %s is not pinned: Samverkan has no Chat.ReadWrite.All", channel)
                return
            if refused.status != 409:  # already pinned
                raise

    def archive(self, channel: str) -> None:
        """A group chat cannot be archived through Graph: the close report is its last word, and its people
        keep it as the record they took part in. A channel (from before war rooms were chats) is archived."""
        if _is_chat(channel):
            return
        try:
            self._graph("POST", self._team(f"/{quote(channel)}/archive"), {})
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
        if _is_chat(bare):
            path, permission = f"/chats/{quote(bare)}/messages/{quote(ref)}", "ChatMessage.Read.Chat"
        elif bare.endswith(("@thread.tacv2", "@thread.skype")):
            path = f"/teams/{quote(self.config.team_id)}/channels/{quote(bare)}/messages/{quote(ref)}"
            permission = "ChannelMessage.Read.Group"
        else:
            return None
        try:
            found = self._graph("GET", path)
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
        return _html_text(content)

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

    # -- exactly once: reading a conversation back --------------------------------------------------------------
    # A post's own time is Microsoft's clock, the intent's is this machine's: they may disagree by this much.
    READ_BACK_SKEW = 60.0  # seconds
    READ_BACK_PAGES = 5  # 50 messages a page: far more than a conversation takes between an intent and a takeover

    def _read_back_source(self, conversation_id: str) -> tuple[str, str] | None:
        """Where Graph lists the conversation's recent messages, and the resource-specific consent (RSC) permission
        that lets the app read them there; None for a conversation Graph cannot list for the app.

        - A channel of the team (`19:…@thread.tacv2`, older `…@thread.skype`): List channel messages,
          https://learn.microsoft.com/en-us/graph/api/channel-list-messages (application permission
          ChannelMessage.Read.Group, an RSC permission; top-level messages without their replies, `$top` at most
          50). The Connector's id of a channel conversation may carry `;messageid=…` (a thread): stripped.
        - A chat (`19:…@thread.v2`, a group chat such as a war room; `…@unq.gbl.spaces`, a one-on-one chat):
          List messages in a chat, https://learn.microsoft.com/en-us/graph/api/chat-list-messages (application
          permission ChatMessage.Read.Chat, an RSC permission; `$top` at most 50; `$orderby` createdDateTime
          descending).
        - A person's personal chat with the bot (`a:…`): the Bot Connector's id, which Graph does not take, and no
          RSC permission covers it. Known gap: a keyed direct message whose answer was lost may be sent twice.

        RSC: https://learn.microsoft.com/en-us/microsoftteams/platform/graph-api/rsc/resource-specific-consent"""
        bare = conversation_id.split(";", 1)[0]
        if bare.endswith(("@thread.tacv2", "@thread.skype")):
            return (f"/teams/{quote(self.config.team_id)}/channels/{quote(bare)}/messages?$top=50",
                    "ChannelMessage.Read.Group")
        if bare.endswith(("@thread.v2", "@unq.gbl.spaces")):
            return f"/chats/{quote(bare)}/messages?$top=50&$orderby=createdDateTime desc", "ChatMessage.Read.Chat"
        return None

    @staticmethod
    def _normalised(content: str, markup: bool = True) -> str:
        """A message's text as both sides show it: tags dropped (Teams keeps a bot's `<br>` or turns it into
        paragraphs, gives `<at>` an id, adds `<attachment>` for a card), entities unescaped, whitespace collapsed."""
        import html

        if markup:
            content = html.unescape(re.sub(r"<[^>]*>", " ", content))
        return " ".join(content.split())

    @classmethod
    def _digest(cls, content: str, markup: bool = True) -> str:
        import hashlib

        return hashlib.sha256(cls._normalised(content, markup).encode()).hexdigest()

    def _read_back(self, conversation_id: str, key: str, digest: str, since: datetime) -> str | None:
        """The id of the bot's own message in the conversation, created at or after `since` (less the skew),
        whose text has this digest. Graph's chatMessage
        (https://learn.microsoft.com/en-us/graph/api/resources/chatmessage): `id`, `createdDateTime` (ISO 8601,
        UTC), `from.application.id` (the app that sent it, for a bot its app id:
        https://learn.microsoft.com/en-us/graph/api/resources/chatmessagefromidentityset) and `body` with
        `contentType` (`text` or `html`) and `content`. The message id is the one the Connector answered with."""
        source = self._read_back_source(conversation_id)
        if source is None:
            return None
        path, permission = source
        earliest = since.timestamp() - self.READ_BACK_SKEW
        url: str | None = f"{self.config.graph_url.rstrip('/')}{path}"
        for _ in range(self.READ_BACK_PAGES):
            if not url:
                break
            try:
                page = call(self.http, "GET", url, self.graph_token.header)
            except Refused as refused:
                if refused.status == 403:
                    # Posting again could post twice, and not posting could lose the message: the duty fails
                    # for now and is tried again, and the operator is told what to grant.
                    log.error("duty %s: cannot tell whether its message reached %s before its poster died: Graph "
                              "refuses to read the conversation back (403 %s). The Teams app needs the "
                              "resource-specific consent permission %s there (README, \"Running against Microsoft "
                              "Teams\"); not posting again until it can read it", key, conversation_id,
                              refused.code, permission)
                    raise RuntimeError(f"reading {conversation_id} back needs the RSC permission {permission}: "
                                       f"{refused}") from refused
                raise
            older = False
            for item in page.get("value") or []:
                created = self._created(item.get("createdDateTime"))
                if created is None or created.timestamp() < earliest:
                    older = older or created is not None
                    continue
                sender = str(((item.get("from") or {}).get("application") or {}).get("id") or "")
                if sender.lower() != self.config.app_id.lower():
                    continue
                body = item.get("body") or {}
                markup = str(body.get("contentType") or "html").lower() != "text"
                if self._digest(str(body.get("content") or ""), markup) == digest and item.get("id"):
                    return str(item["id"])
            # Newest first: a page that reached back past the intent is the last one worth reading.
            url = None if older else page.get("@odata.nextLink")
        return None

    @staticmethod
    def _created(value: Any) -> datetime | None:
        if not value:
            return None
        # Graph writes up to seven decimals and a Z; fromisoformat takes six.
        text = re.sub(r"(\.\d{6})\d+", r"\1", str(value)).replace("Z", "+00:00")
        try:
            found = datetime.fromisoformat(text)
        except ValueError:
            return None
        return found if found.tzinfo else found.replace(tzinfo=UTC)
