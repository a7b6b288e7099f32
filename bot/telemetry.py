"""What the core and the adapters tell the people who run the bot: measurements, and the request id that ties the
log lines of one person's command together from the acknowledgement to the last message delivered.

The core speaks to `Telemetry` only; the Prometheus implementation is chosen at the bootstrap (samverkan.metrics).
Labels are the product's own words and bounded sets (a command's name, a duty's kind, an outcome): never a person,
a channel or a text.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Protocol

# A reminder (or any duty) performed this many seconds after it fell due counts as late.
LATE_AFTER = 60.0


class Telemetry(Protocol):
    def acknowledged(self, kind: str, seconds: float) -> None:
        """A request from the chat platform was answered (`kind`: command, form, event, refused)."""

    def command_done(self, command: str, subcommand: str, outcome: str, seconds: float) -> None:
        """A received command was processed; `seconds` from taking it up to its answer being handed on."""

    def waiting(self, change: int) -> None:
        """Commands handed to this process's workers and not yet done: +1 when handed over, -1 when done."""

    def duty_done(self, kind: str, outcome: str, late: float) -> None:
        """A duty was performed (`outcome`: done, dropped, ... or retry); `late`: seconds after it fell due."""

    def claim_taken_over(self, kind: str) -> None:
        """A duty claimed by a process that stopped renewing its claim was taken over."""

    def slack_call(self, method: str, outcome: str) -> None:
        """One call to the chat platform's API (`outcome`: ok, error, ratelimited, retry)."""

    def war_room_ready(self, seconds: float) -> None:
        """A war room was assembled: channel, invitations, brief and announcement, in `seconds`."""


class Silent:
    """Telemetry nobody reads: the console's and most tests'."""

    def acknowledged(self, kind: str, seconds: float) -> None:
        pass

    def command_done(self, command: str, subcommand: str, outcome: str, seconds: float) -> None:
        pass

    def waiting(self, change: int) -> None:
        pass

    def duty_done(self, kind: str, outcome: str, late: float) -> None:
        pass

    def claim_taken_over(self, kind: str) -> None:
        pass

    def slack_call(self, method: str, outcome: str) -> None:
        pass

    def war_room_ready(self, seconds: float) -> None:
        pass


SILENT = Silent()

# The request being worked on in this thread (or task): set at the acknowledgement, carried with the command through
# the inbox to the worker, and from there into the threads that deliver what it has to say.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def new_request_id() -> str:
    return secrets.token_hex(8)


@contextlib.contextmanager
def following(request: str | None) -> Iterator[None]:
    """Everything logged inside is marked as part of `request` (when there is one)."""
    token = request_id.set(request)
    try:
        yield
    finally:
        request_id.reset(token)
