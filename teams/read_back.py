"""Exactly once on Teams: a keyed post's intent (its key, the digest of its text, when sending began) is written
down before the Connector is called; a process that takes the duty over from one killed before the Connector's
answer was kept reads the conversation back through Graph, with resource-specific consent, and finds the post
instead of posting it again (README, "Exactly once")."""

from __future__ import annotations

import hashlib
import html
import logging
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from teams.graph import Graph
from teams.rest import Refused, call

log = logging.getLogger(__name__)

# A post's own time is Microsoft's clock, the intent's is this machine's: they may disagree by this much.
READ_BACK_SKEW = 60.0  # seconds
READ_BACK_PAGES = 5  # 50 messages a page: far more than a conversation takes between an intent and a takeover



def normalised(content: str, markup: bool = True) -> str:
    """A message's text as both sides show it: tags dropped (Teams keeps a bot's `<br>` or turns it into
    paragraphs, gives `<at>` an id, adds `<attachment>` for a card), entities unescaped, whitespace collapsed."""
    if markup:
        content = html.unescape(re.sub(r"<[^>]*>", " ", content))
    return " ".join(content.split())



def digest(content: str, markup: bool = True) -> str:
    return hashlib.sha256(normalised(content, markup).encode()).hexdigest()



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


class ReadBack:
    def __init__(self, graph: Graph, team_id: str, app_id: str) -> None:
        self.graph = graph
        self.team_id = team_id
        self.app_id = app_id

    def source(self, conversation_id: str) -> tuple[str, str] | None:
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
            return (f"/teams/{quote(self.team_id)}/channels/{quote(bare)}/messages?$top=50",
                    "ChannelMessage.Read.Group")
        if bare.endswith(("@thread.v2", "@unq.gbl.spaces")):
            return f"/chats/{quote(bare)}/messages?$top=50&$orderby=createdDateTime desc", "ChatMessage.Read.Chat"
        return None

    def find(self, conversation_id: str, key: str, wanted: str, since: datetime) -> str | None:
        """The id of the bot's own message in the conversation, created at or after `since` (less the skew),
        whose text has this digest. Graph's chatMessage
        (https://learn.microsoft.com/en-us/graph/api/resources/chatmessage): `id`, `createdDateTime` (ISO 8601,
        UTC), `from.application.id` (the app that sent it, for a bot its app id:
        https://learn.microsoft.com/en-us/graph/api/resources/chatmessagefromidentityset) and `body` with
        `contentType` (`text` or `html`) and `content`. The message id is the one the Connector answered with."""
        source = self.source(conversation_id)
        if source is None:
            return None
        path, permission = source
        earliest = since.timestamp() - READ_BACK_SKEW
        url: str | None = f"{self.graph.base}{path}"
        for _ in range(READ_BACK_PAGES):
            if not url:
                break
            try:
                page = call(self.graph.http, "GET", url, self.graph.token.header, sleep=self.graph.sleep)
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
                created = _created(item.get("createdDateTime"))
                if created is None or created.timestamp() < earliest:
                    older = older or created is not None
                    continue
                sender = str(((item.get("from") or {}).get("application") or {}).get("id") or "")
                if sender.lower() != self.app_id.lower():
                    continue
                body = item.get("body") or {}
                markup = str(body.get("contentType") or "html").lower() != "text"
                if digest(str(body.get("content") or ""), markup) == wanted and item.get("id"):
                    return str(item["id"])
            # Newest first: a page that reached back past the intent is the last one worth reading.
            url = None if older else page.get("@odata.nextLink")
        return None

