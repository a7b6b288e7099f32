"""The bolt app: each slash command is acknowledged at once, and the core does the work afterwards."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor

from slack_bolt import Ack, App, BoltResponse
from slack_sdk import WebClient

from bot.app import Samverkan
from bot.chat import ChatPort, Command
from handlers import disagreement
from handlers import incident as incident_listeners
from handlers.payloads import SlashCommandPayload
from handlers.slack_chat import SlackChat

log = logging.getLogger(__name__)


def build_bolt_app(
    core: Samverkan,
    client: WebClient,
    signing_secret: str,
    work: Executor,
    chat: Callable[[WebClient], ChatPort] = SlackChat,
) -> App:
    """`work` runs the core off bolt's own threads, so a burst of slow commands never delays the next ack."""
    # The listeners only acknowledge and hand the work to `work`, so bolt may answer Slack as soon as they
    # return: without this it polls for the ack every 10 ms on a thread of its own.
    app = App(client=client, signing_secret=signing_secret, token_verification_enabled=False,
              raise_error_for_unhandled_request=False, process_before_response=True)
    app.use(_timing)
    disagreement.register(app, core, client, work, chat)  # its form, before the plain command takes the rest
    for name in core.sets:
        app.command(f"/{name}")(_command_listener(core, client, work, chat))
    incident_listeners.register(app, core, client, work, chat)
    return app


def _command_listener(core: Samverkan, client: WebClient, work: Executor,
                      chat: Callable[[WebClient], ChatPort]) -> Callable[..., None]:
    def on_command(ack: Ack, body: dict) -> None:
        ack()
        try:
            command = SlashCommandPayload.model_validate(body).to_command(core.clock.now())
            work.submit(_run, core, command, chat(client))
        except Exception:
            # Acknowledged already: Slack must get its 200, whatever is wrong with what it sent.
            log.exception("could not take on a slash command")

    return on_command


def _run(core: Samverkan, command: Command, chat: ChatPort) -> None:
    try:
        core.handle(command, chat)
    except Exception:
        # core.handle answers the user itself; this is only the last line against a failing chat platform.
        log.exception("could not finish /%s", command.name)


def _timing(logger: logging.Logger, next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002
    started = time.perf_counter()
    response = next()
    logger.debug("acknowledged in %.1f ms", (time.perf_counter() - started) * 1000)
    return response

