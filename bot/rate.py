"""A limit per person on the commands that write or notify: one supplier sending 300 `/disagreement open` in two
seconds opened 300 disagreements and sent 600 direct messages to the City's people.

A token bucket per person and kind of command: `burst` commands at once, then one every `every` seconds. Read-only
commands (help, whoami, directory, list, next, show, stats, history, an agenda read) are never limited. Incident
commands have a bucket of their own, larger and refilled faster: a war room's commander posts updates, assigns roles
and invites people in quick succession. The City's oversight organisation is not limited in incident commands at
all: it must be able to steer a major incident, whatever the pace.

Where the bucket is kept: in the database, one row per person and bucket (bot.ports.RateLimits), taken from in one
conditional statement inside the command's own transaction. So it holds across the worker processes of a replica and
across replicas (every one of them reads and writes the same row, and the database serialises the updates of one
row: no two processes can spend the same token), and a command refused for its pace leaves nothing half-saved (the
refusal rolls the whole transaction back) while a command done spends its token in the same commit. Deciding at the
acknowledgement instead would keep the web process's answer to Slack waiting for the database row of a busy person;
as it is, the acknowledgement writes the command down as always, and others' acknowledgements are not slowed by one
person's flood: the worker refuses each excess command with an explanation in a millisecond.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import datetime

from bot.errors import UserError

# The sub-commands that only read: never limited (`/forum agenda` reads unless it adds).
READ_ONLY = frozenset({"help", "whoami", "home", "directory", "list", "next", "show", "stats", "history", "agenda"})
ADDING = frozenset({"add", "lägg"})
WRITE, INCIDENT = "write", "incident"


@dataclass(frozen=True)
class Bucket:
    burst: int  # commands at once
    every: float  # seconds for one more


@dataclass(frozen=True)
class RateLimit:
    """The buckets: writing commands, and incident commands (larger, for a war room's pace)."""

    write: Bucket = Bucket(20, 6.0)
    incident: Bucket = Bucket(60, 1.0)

    @classmethod
    def parse(cls, value: str) -> RateLimit | None:
        """`SAMVERKAN_RATE_LIMIT`: `BURST/SECONDS` for writing commands (`20/6`: twenty at once, then one every six
        seconds); incident commands get three times the burst, refilled six times as fast. `off` turns the limit
        off. None for anything else (the setting is then refused at start)."""
        value = value.strip().lower()
        if value in ("off", "0", "false", "no"):
            return NO_LIMIT
        match = re.fullmatch(r"(\d{1,5})\s*/\s*(\d{1,5}(?:\.\d+)?)", value)
        if not match or int(match.group(1)) < 1 or float(match.group(2)) <= 0:
            return None
        burst, every = int(match.group(1)), float(match.group(2))
        return cls(Bucket(burst, every), Bucket(burst * 3, every / 6))


NO_LIMIT = RateLimit(Bucket(0, 0.0), Bucket(0, 0.0))  # burst 0: not limited


class Limited(UserError):
    """Refused for its pace: explained to the person, nothing of it saved."""


def bucket_of(command_name: str, subcommand: str, args: list[str], oversight: bool) -> str | None:
    """Which bucket the command spends from, or None when it is not limited."""
    # `args` are the command's words, the sub-command's first: `agenda kontraktsforum add <text>` adds.
    if subcommand in READ_ONLY and not (subcommand == "agenda" and any(a.lower() in ADDING for a in args[1:3])):
        return None
    if subcommand == "unknown":
        return None  # answered with the usage: nothing written
    if command_name == "incident":
        return None if oversight else INCIDENT
    return WRITE


def key(bucket: str, user_id: str) -> str:
    """The row of a person's bucket: the user id hashed, so that every id fits the key's column."""
    return f"rate:{bucket}:{hashlib.sha256(user_id.encode()).hexdigest()[:40]}"


def spend(rates, limit: RateLimit, bucket: str, user_id: str, now: datetime) -> None:  # type: ignore[no-untyped-def]
    """Takes a token from the person's bucket, or raises Limited saying when the next one is there."""
    shape = limit.incident if bucket == INCIDENT else limit.write
    if shape.burst <= 0:
        return
    wait = rates.take(key(bucket, user_id), now, shape.every, shape.burst)
    if wait is not None:
        raise Limited("rate.limited", burst=shape.burst, every=_seconds(shape.every), wait=max(1, math.ceil(wait)))


def _seconds(value: float) -> str:
    return f"{value:g}"
