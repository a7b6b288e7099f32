"""The Slack side of major incidents: the declaration modal's submission and the pin reaction that puts a message
into the incident's timeline. Both are acknowledged at once; the work runs after the ack."""

from __future__ import annotations

import logging
import shlex
from collections.abc import Callable
from concurrent.futures import Executor

from pydantic import BaseModel, ConfigDict
from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.app import Samverkan
from bot.chat import ChatPort, Command
from bot.incident.timeline import joined, mark
from handlers.slack_chat import DECLARE_VIEW, SlackChat

log = logging.getLogger(__name__)


class _Item(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str
    channel: str | None = None
    ts: str | None = None


class ReactionAdded(BaseModel):
    model_config = ConfigDict(extra="ignore")
    user: str
    reaction: str
    item: _Item


class MemberJoined(BaseModel):
    model_config = ConfigDict(extra="ignore")
    user: str
    channel: str


class DeclarationSubmitted(BaseModel):
    """The declaration modal's answers, from view.state.values."""

    title: str
    services: list[str]
    severity: str
    description: str
    channel: str
    user_id: str

    @classmethod
    def from_body(cls, body: dict) -> DeclarationSubmitted:
        view = body["view"]
        values = view["state"]["values"]

        def value(block: str) -> dict:
            return values.get(block, {}).get("value", {}) or {}

        return cls(
            title=(value("title").get("value") or "").strip(),
            services=[o["value"] for o in value("services").get("selected_options") or []],
            severity=(value("severity").get("selected_option") or {}).get("value", ""),
            description=(value("description").get("value") or "").strip(),
            channel=view.get("private_metadata") or body["user"]["id"],
            user_id=body["user"]["id"],
        )

    def to_command(self, received_at) -> Command:  # type: ignore[no-untyped-def]
        # The same words a person would type, so the modal and the slash command share one set of rules.
        words = ["declare", shlex.quote(self.title or ""), ",".join(self.services), self.severity]
        text = " ".join(w for w in words if w)
        if self.description:
            text += " -- " + shlex.quote(self.description)
        return Command(name="incident", text=text, user_id=self.user_id, channel_id=self.channel,
                       received_at=received_at)


def register(app: App, core: Samverkan, client: WebClient, work: Executor,
             chat: Callable[[WebClient], ChatPort] = SlackChat) -> None:
    @app.view(DECLARE_VIEW)
    def on_declaration(ack: Ack, body: dict) -> None:
        ack()
        command = DeclarationSubmitted.from_body(body).to_command(core.clock.now())
        work.submit(_guarded, "declaration form", core.handle, command, chat(client))

    @app.event("reaction_added")
    def on_reaction(body: dict) -> None:
        event = ReactionAdded.model_validate(body["event"])
        if event.item.type != "message" or not event.item.channel or not event.item.ts:
            return
        work.submit(_guarded, "reaction", mark, core, chat(client), event.item.channel, event.item.ts, event.user,
                    event.reaction)

    @app.event("member_joined_channel")
    def on_join(body: dict) -> None:
        event = MemberJoined.model_validate(body["event"])
        work.submit(_guarded, "join", joined, core, chat(client), event.channel, event.user)


def _guarded(what: str, work: Callable[..., object], *args: object) -> None:
    try:
        work(*args)
    except Exception:
        log.exception("could not finish the %s", what)
