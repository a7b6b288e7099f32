"""The event log's chain head written out, so that a copy outside the database can be compared with the chain
(`samverkan verify --head FILE`): a duty, daily unless told otherwise, appends a line with the time, the head's
sequence number and hash to a file and/or posts them in a channel, as the administrator chose
(SAMVERKAN_CHAIN_HEAD_FILE, SAMVERKAN_CHAIN_HEAD_CHANNEL, SAMVERKAN_CHAIN_HEAD_EVERY).

Exactly once per period, as the other duties: the duty's key names the period (in Stockholm time), and a duty with
that key is planned once whatever the number of processes. A post carries the duty's key, so a performer taking
over from one that died does not post twice; the file gets at most one line more in that case, with the head as it
then stood, which is as true as the first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.chain import ChainHead
from bot.clock import local
from bot.duties import Duty, OnceChat, Outcome, stamp

if TYPE_CHECKING:
    from bot.app import Samverkan

HEAD = "chain.head"


@dataclass(frozen=True)
class HeadTarget:
    file: Path | None = None
    channel: str | None = None
    every_hours: int = 24  # a divisor of 24: the periods start at Stockholm midnight

    @property
    def wanted(self) -> bool:
        return self.file is not None or bool(self.channel)


def period_start(now: datetime, every_hours: int) -> datetime:
    here = local(now)
    return here.replace(hour=here.hour // every_hours * every_hours, minute=0, second=0, microsecond=0)


def plan(core: Samverkan, now: datetime) -> None:
    """A planner: one duty for the current period, due at once."""
    target = core.chain_head
    if target is None or not target.wanted:
        return
    key = f"{HEAD}:{stamp(period_start(now, target.every_hours))}"
    with core.unit_of_work(read_only=True) as uow:
        if uow.duties.get(key) is not None:
            return
    with core.unit_of_work() as uow:
        uow.duties.plan(Duty(key, HEAD, now))
        uow.commit()


def perform(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    target = core.chain_head
    if target is None or not target.wanted:
        return "dropped"
    with core.unit_of_work(read_only=True) as uow:
        head = uow.events.head()
    t = core.texts
    when = local(now).isoformat(timespec="seconds")
    if target.file is not None:
        with target.file.open("a", encoding="utf-8") as out:
            out.write(head_line(when, head) + "\n")
    if target.channel:
        once.post(target.channel, t("chain.head_post", when=t.when(now), seq=head.seq, hash=head.hash))
    return "done"


def head_line(when: str, head: ChainHead) -> str:
    """A line of the head file: `<ISO time> seq=<n> hash=<sha256 hex>`, the same in every language."""
    return f"{when} seq={head.seq} hash={head.hash}"


_LINE = re.compile(r"\bseq[=\s](\d+),?\s+hash[=\s]`?([0-9a-f]{64})\b")


def last_head(text: str) -> ChainHead | None:
    """The last head written in a head file's text (or copied from a channel's post), if any."""
    found = _LINE.findall(text)
    return ChainHead(int(found[-1][0]), found[-1][1]) if found else None
