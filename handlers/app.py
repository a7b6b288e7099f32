"""The bolt app. A slash command or a filled-in form is written into the inbox and acknowledged; the core does the
work afterwards, on a worker. Nothing that takes a round trip to Slack happens before the acknowledgement."""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot.app import FORMS, Samverkan
from bot.chat import Command
from bot.incident.timeline import joined, mark
from bot.telemetry import SILENT, Telemetry, following, new_request_id, request_id
from handlers import actions, forms, home, shortcuts
from handlers.payloads import MemberJoined, ReactionAdded, SlashCommandPayload, ViewSubmissionPayload

log = logging.getLogger(__name__)


Handoff = actions.Handoff


def build_bolt_app(core: Samverkan, client: WebClient, signing_secret: str, work: Executor, handoff: Handoff,
                   telemetry: Telemetry = SILENT) -> App:
    """A received command is handed off (`handoff`: to this process's workers, or to a worker process), so a burst
    of slow commands never delays the next ack; `work` runs the small things Slack tells (reactions, joins)."""
    # The listeners only write down and acknowledge, so bolt may answer Slack as soon as they return: without this
    # it polls for the ack every 10 ms on a thread of its own.
    app = _Acknowledging(telemetry, name="samverkan.slack", client=client, signing_secret=signing_secret,
                         token_verification_enabled=False, raise_error_for_unhandled_request=False,
                         process_before_response=True)
    for name in core.sets:
        app.command(f"/{name}")(_command_listener(core, handoff))
    for action in FORMS:
        app.view(action)(forms.validating(core, _submission_listener(core, handoff)))
    _event_listeners(app, core, work)
    actions.register(app, core, handoff, _accept)
    home.register(app, core, work)
    shortcuts.register(app, core, work)
    return app


def _accept(core: Samverkan, handoff: Handoff, ack: Ack, command: Command) -> None:
    """Written down, then acknowledged: what Slack has been told we have, we have."""
    command = command.model_copy(update={"request_id": request_id.get()})
    try:
        entry = core.receive(command)
    except Exception:
        log.exception("could not write down /%s", core.command_label(command))
        ack(text=core.texts.text("error.unavailable"))
        return
    ack()
    if entry is not None:  # None: a redelivery of what is in hand already
        handoff(entry, command)
    name = core.command_label(command)  # a person's first word is no label
    log.info("received /%s from %s", name, command.user_id,
             extra={"command": name, "user": command.user_id,
                    "outcome": "received" if entry is not None else "redelivered", "entry": entry})


def _command_listener(core: Samverkan, handoff: Handoff) -> Callable[..., None]:
    def on_command(ack: Ack, body: dict[str, Any]) -> None:
        try:
            command = SlashCommandPayload.model_validate(body).to_command(core.clock.now())
        except ValidationError:
            log.warning("a slash command Slack sent did not have the expected fields")
            ack(text=core.texts.text("error.malformed"))
            return
        _accept(core, handoff, ack, command)

    return on_command


def _submission_listener(core: Samverkan, handoff: Handoff) -> Callable[..., None]:
    def on_submission(ack: Ack, body: dict[str, Any]) -> None:
        try:
            payload = ViewSubmissionPayload.model_validate(body)
            command = core.form_command(payload.to_submission(), core.clock.now(), payload.trigger_id)
        except ValidationError:
            log.warning("a form Slack sent did not have the expected fields")
            ack()  # the form closes; there is nothing to answer it with
            return
        _accept(core, handoff, ack, command)

    return on_submission


def _event_listeners(app: App, core: Samverkan, work: Executor) -> None:
    @app.event("reaction_added")
    def on_reaction(body: dict[str, Any]) -> None:
        event = ReactionAdded.model_validate(body.get("event") or {})
        if event.item.type != "message" or not event.item.channel or not event.item.ts:
            return
        work.submit(contextvars.copy_context().run, _guarded, "reaction", mark, core, event.item.channel,
                    event.item.ts, event.user, event.reaction)

    @app.event("member_joined_channel")
    def on_join(body: dict[str, Any]) -> None:
        event = MemberJoined.model_validate(body.get("event") or {})
        work.submit(contextvars.copy_context().run, _guarded, "join", joined, core, event.channel, event.user)


def _guarded(what: str, work: Callable[..., object], *args: object) -> None:
    try:
        work(*args)
    except Exception:
        # The core answers the user itself; this is only the last line against a failing chat platform.
        log.exception("could not finish the %s", what)


class _Acknowledging(App):
    """Every request from Slack, over HTTP or Socket Mode, gets a request id (which the command carries to the
    worker) and its acknowledgement is timed: around the whole dispatch, since bolt's middleware returns before the
    listeners run."""

    def __init__(self, telemetry: Telemetry, **options: Any) -> None:
        super().__init__(**options)
        self.telemetry = telemetry

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        started = time.perf_counter()
        with following(new_request_id()):
            response = super().dispatch(req)
        body = req.body if isinstance(req.body, dict) else {}
        kind = "command" if "command" in body else "form" if body.get("type") == "view_submission" else "event"
        self.telemetry.acknowledged(kind, time.perf_counter() - started)
        return response
