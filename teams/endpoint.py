"""`POST /api/messages`: the Bot Connector's activities, as a WSGI application.

The bearer token is checked before the body is read as an activity: a request without a valid token from the Bot
Connector for this app gets 401 and changes nothing. A command is then written into the inbox and acknowledged at
once, as Slack's are (the Bot Connector too gives up on a slow answer); a worker does it and answers through the
Connector (bot.app, samverkan.worker).
"""

from __future__ import annotations

import contextvars
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from typing import Any

from pydantic import ValidationError

from bot import json_depth
from bot.app import Samverkan
from bot.chat import Command
from bot.incident.timeline import mark
from bot.ports import Conversation
from bot.telemetry import SILENT, Telemetry, following, new_request_id, request_id
from teams import invoke
from teams.activity import Activity
from teams.auth import (
    TEAMS_SERVICE_HOSTS,
    InboundVerifier,
    Unauthorized,
    allowed_service_url,
    same_service_url,
    service_url_claim,
)

log = logging.getLogger(__name__)

Handoff = Callable[[int, Command], None]
MAX_BODY = 1_000_000


def messages_endpoint(core: Samverkan, verifier: InboundVerifier, app_id: str, handoff: Handoff,
                      telemetry: Telemetry = SILENT, tenant_id: str | None = None,
                      service_url_hosts: tuple[str, ...] = TEAMS_SERVICE_HOSTS, work: Executor | None = None,
                      ) -> Callable[[dict, Callable], Iterable[bytes]]:
    """`tenant_id`: the City's. Any organisation may install a bot and message it with a valid token; only the
    City's tenant's conversations are served (people of other organisations take part as its guests).
    `service_url_hosts`: TEAMS_SERVICE_URL_HOSTS, the Bot Connectors an activity may name (teams.auth).
    `work`: where the small things Teams tells (a reaction) are done after the acknowledgement, as Slack's are."""

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return _answer(start_response, "405 Method Not Allowed")
        started = time.perf_counter()
        try:
            verified = verifier.verify(environ.get("HTTP_AUTHORIZATION"))
        except Unauthorized as refused:
            log.warning("refused an activity: %s", refused)
            return _answer(start_response, "401 Unauthorized")
        claimed = service_url_claim(verified.claims) or ""  # the verifier refuses a token that names none
        if not allowed_service_url(claimed, service_url_hosts):
            # Before the body is read: a valid token issued for a Connector that is not Microsoft's (or not on
            # TEAMS_SERVICE_URL_HOSTS) changes nothing, and the bot never sends its own token there.
            log.warning("refused an activity whose token names a service URL not on TEAMS_SERVICE_URL_HOSTS")
            return _answer(start_response, "401 Unauthorized")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY:
            return _answer(start_response, "400 Bad Request")
        try:
            # Nesting bounded: ten thousand `[` are a 400, not json's RecursionError (bot.json_depth).
            found = Activity.model_validate(json_depth.loads(environ["wsgi.input"].read(length)))
        except (ValueError, ValidationError):
            log.warning("an activity with a valid token could not be read")
            return _answer(start_response, "400 Bad Request")
        # The activity's serviceUrl is where the answer goes: it must be the one the token was issued for
        # (https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-authentication),
        # and so on the allow-list too; compared as scheme, host, port and path, a trailing slash ignored.
        if not same_service_url(claimed, found.service_url) or not allowed_service_url(found.service_url,
                                                                                        service_url_hosts):
            log.warning("refused an activity whose service URL is not the one its token was issued for")
            return _answer(start_response, "401 Unauthorized")
        if not verified.endorses(found.channel_id):
            log.warning("refused an activity signed with a key not endorsed for its channel")
            return _answer(start_response, "401 Unauthorized")
        tenant = found.conversation.tenant_id or (found.channel_data.get("tenant") or {}).get("id")
        if tenant_id and tenant != tenant_id:
            log.warning("refused an activity from another tenant")
            return _answer(start_response, "403 Forbidden")
        with following(new_request_id()):
            if found.type == "invoke":
                status, body = _invoke(core, found, handoff)
                telemetry.acknowledged("command", time.perf_counter() - started)
                return _answer(start_response, status, body)
            status = _reacted(core, found, work) or _take(core, found, app_id, handoff)
        telemetry.acknowledged("command", time.perf_counter() - started)
        return _answer(start_response, status)

    return application


def _take(core: Samverkan, found: Activity, app_id: str, handoff: Handoff) -> str:
    try:
        _remember(core, found)
        submitted = found.submission()
        if submitted is not None:
            # The trigger is the activity: the Connector's redelivery of the same submission is not done twice.
            command: Command | None = core.form_command(submitted, core.clock.now(), found.id)
        else:
            command = found.to_command(found.recipient.id if found.recipient else app_id, core.clock.now(),
                                       lambda mentioned: _member(core, mentioned.id))
    except (ValidationError, ValueError):
        return "400 Bad Request"
    except Exception:
        log.exception("could not remember where Teams spoke from")
        return "503 Service Unavailable"
    if command is None:
        return "200 OK"  # an installation, a conversation update, a message not to the bot: nothing to do
    return _enqueue(core, command, handoff)


def _invoke(core: Samverkan, found: Activity, handoff: Handoff) -> tuple[str, dict[str, Any] | None]:
    """An invoke, answered in this very response (teams.invoke); one Samverkan does not take gets 200 and no
    body, as Teams expects of a bot that ignores it."""
    try:
        _remember(core, found)
        return "200 OK", invoke.answer(core, found, lambda command: _enqueue(core, command, handoff))
    except (ValidationError, ValueError):
        return "400 Bad Request", None
    except Exception:
        log.exception("could not answer an invoke")
        return "503 Service Unavailable", None


def _enqueue(core: Samverkan, command: Command, handoff: Handoff) -> str:
    """Writes the command into the inbox and hands it to a worker: once this says 200, it will be done."""
    command = command.model_copy(update={"request_id": request_id.get()})
    try:
        entry = core.receive(command)
    except Exception:
        log.exception("could not write down /%s", core.command_label(command))
        return "503 Service Unavailable"  # nothing promised: the Bot Connector tells the person it failed
    if entry is not None:  # None: the Connector sent the same activity again
        handoff(entry, command)
    name = core.command_label(command)  # a person's first word is no label
    log.info("received /%s from %s", name, command.user_id,
             extra={"command": name, "user": command.user_id,
                    "outcome": "received" if entry is not None else "redelivered", "entry": entry})
    return "200 OK"


# -- reactions: the war room's timeline ---------------------------------------------------------------------------
def _reacted(core: Samverkan, found: Activity, work: Executor | None) -> str | None:
    """A reaction added to a message in a chat where the bot is installed (a war room): acknowledged at once, and
    the message put in the incident's timeline afterwards when the reaction is the model's `teams_pin_reaction`
    (bot.incident.timeline.mark, as Slack's `reaction_added`; once, however often the Connector delivers it).
    None for any other activity."""
    reacted = found.reaction()
    if reacted is None:
        return None if found.type != "messageReaction" else "200 OK"  # a reaction removed: nothing to do
    conversation, ref, user, reactions = reacted

    def mark_all() -> None:
        for reaction in dict.fromkeys(reactions):
            try:
                mark(core, conversation, ref, user, reaction)
            except Exception:
                log.exception("could not put message %s of %s in the timeline", ref, conversation)

    run = contextvars.copy_context().run
    if work is not None:
        work.submit(run, mark_all)
    else:
        threading.Thread(target=run, args=(mark_all,), name="teams-reaction", daemon=True).start()
    return "200 OK"


def _remember(core: Samverkan, found: Activity) -> None:
    """Where Teams spoke from, so that the bot can speak there later (to a channel, or to the person)."""
    # Each reference is kept per conversation (a person's personal chat, a channel), with the service URL that
    # conversation's activity was verified for; there is no "latest service URL" of the whole deployment, which
    # one activity could otherwise set for everyone.
    keys: dict[str, Conversation] = {}
    if found.personal and found.user:
        keys[f"user:{found.user}"] = Conversation(found.conversation.id, found.service_url)
    if found.user:
        # Teams names a person in a mention by their Bot Framework id: which Entra object id that is, learnt when
        # they speak, lets a later mention of them be read as them (see _member).
        keys[f"{MEMBER}{found.sender.id}"] = Conversation(found.user, found.service_url)
    channel: Any = (found.channel_data.get("channel") or {}).get("id")
    if isinstance(channel, str) and channel:
        keys[channel] = Conversation(channel, found.service_url)
    now = core.clock.now()
    with core.unit_of_work() as uow:
        for key, conversation in keys.items():
            if uow.conversations.get(key) != conversation:
                uow.conversations.remember(key, conversation, now)
        uow.commit()


MEMBER = "member:"


def _member(core: Samverkan, bot_framework_id: str) -> str | None:
    with core.unit_of_work(read_only=True) as uow:
        known = uow.conversations.get(f"{MEMBER}{bot_framework_id}")
    return known.id if known else None


def _answer(start_response: Callable, status: str, answer: dict[str, Any] | None = None) -> list[bytes]:
    if status.startswith("200"):
        body = json.dumps(answer).encode() if answer is not None else b"{}"
    else:
        body = status.encode()
    start_response(status, [("Content-Type", "application/json" if status.startswith("200") else "text/plain"),
                            ("Content-Length", str(len(body)))])
    return [body]
