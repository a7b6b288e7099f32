"""The `/disagreement open` form: a modal with the counterparty, a title, a description, the service concerned and
the level to start at. A submission goes through the core as the text command would, so the rules, the refusals
and the transaction are the same; the modal only gathers the words."""

from __future__ import annotations

import logging
import shlex
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.app import Samverkan
from bot.chat import ChatPort, Command
from handlers.payloads import SlashCommandPayload
from handlers.slack_chat import SlackChat

log = logging.getLogger(__name__)

CALLBACK = "disagreement_open"
# `/disagreement open` with nothing after it asks for the form.
FORM_WORDS = {"open", "öppna", "oppna", "ny"}
FIELDS = ("counterparty", "title", "description", "service", "level")


def wants_form(body: dict[str, Any]) -> bool:
    return str(body.get("text", "")).strip().lower() in FORM_WORDS


class OpenSubmission(BaseModel):
    """A submitted form, validated at the edge: Slack's nested state flattened to what the core needs."""

    model_config = ConfigDict(extra="ignore")

    user_id: str
    channel_id: str
    counterparty: str
    title: str
    description: str = ""
    service: str | None = None
    level: str | None = None

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> OpenSubmission:
        values: dict[str, Any] = {}
        for block in body["view"]["state"]["values"].values():
            for action_id, element in block.items():
                selected = element.get("selected_option")
                values[action_id] = selected["value"] if selected else element.get("value")
        return cls(user_id=body["user"]["id"], channel_id=body["view"].get("private_metadata") or body["user"]["id"],
                   **{k: v for k, v in values.items() if k in FIELDS and v is not None})

    def to_command(self, received_at: datetime) -> Command:
        words = ["open", self.counterparty]
        words += [f"nivå={self.level}"] if self.level else []
        words += [f"tjänst={self.service}"] if self.service else []
        words += [f"beskrivning={self.description.strip()}"] if self.description.strip() else []
        words.append(self.title.strip())
        return Command(name="disagreement", text=shlex.join(words), user_id=self.user_id,
                       channel_id=self.channel_id, received_at=received_at)


def form(core: Samverkan, channel_id: str) -> dict[str, Any]:
    t = core.texts
    model = core.model

    def text(value: str, limit: int = 75) -> dict[str, Any]:
        return {"type": "plain_text", "text": value[:limit]}

    def select(action: str, label: str, options: list[tuple[str, str]], optional: bool) -> dict[str, Any]:
        return {"type": "input", "block_id": action, "label": text(label), "optional": optional,
                "element": {"type": "static_select", "action_id": action,
                            "options": [{"text": text(name), "value": key} for key, name in options][:100]}}

    def typed(action: str, label: str, multiline: bool, optional: bool, limit: int) -> dict[str, Any]:
        return {"type": "input", "block_id": action, "label": text(label), "optional": optional,
                "element": {"type": "plain_text_input", "action_id": action, "multiline": multiline,
                            "max_length": limit}}

    levels = [r.forum for r in model.ladder.rungs] if model.ladder else []
    return {
        "type": "modal", "callback_id": CALLBACK, "private_metadata": channel_id,
        "title": text(t("disagreement.form.heading"), 24), "submit": text(t("disagreement.form.submit"), 24),
        "close": text(t("disagreement.form.close"), 24),
        "blocks": [
            select("counterparty", t("disagreement.form.counterparty"),
                   [(p.key, p.name(t.lang)) for p in model.parties], False),
            typed("title", t("disagreement.form.title"), False, False, 300),
            typed("description", t("disagreement.form.description"), True, True, 3000),
            select("service", t("disagreement.form.service"), [(s.key, s.name(t.lang)) for s in model.services],
                   True),
            select("level", t("disagreement.form.level"),
                   [(key, f.name(t.lang)) for key in levels if (f := model.forum(key))], True),
        ],
    }


def register(app: App, core: Samverkan, client: WebClient, work: Executor,
             chat: Callable[[WebClient], ChatPort] = SlackChat) -> None:
    """Registered before the plain `/disagreement` listener, which takes every other text."""

    @app.command("/disagreement", matchers=[wants_form])
    def open_form(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        try:
            work.submit(_open_form, core, client, SlashCommandPayload.model_validate(body))
        except Exception:
            log.exception("could not take on /disagreement open")  # acknowledged already: Slack has its 200

    @app.view(CALLBACK)
    def submitted(ack: Ack, body: dict[str, Any]) -> None:
        ack()  # the modal closes at once; the answer comes as an ephemeral message
        try:
            command = OpenSubmission.from_body(body).to_command(core.clock.now())
            work.submit(_run, core, command, chat(client))
        except Exception:
            log.exception("could not take on a disagreement form")


def _open_form(core: Samverkan, client: WebClient, payload: SlashCommandPayload) -> None:
    try:
        client.views_open(trigger_id=payload.trigger_id, view=form(core, payload.channel_id))
    except Exception:
        log.exception("could not open the disagreement form")


def _run(core: Samverkan, command: Command, chat: ChatPort) -> None:
    try:
        core.handle(command, chat)
    except Exception:
        log.exception("could not finish the disagreement form")
