"""Finished deliveries written down in groups.

A server delivers each command's answer on a thread of its own and then marks the delivery duty done: one small
write transaction per answer, all queueing for the database's write lock. Nobody waits for that mark (the answer is
out; the mark only keeps a sweep from trying again), so one writer thread takes every mark that has queued up and
commits them together. Under light load a group is one mark, written at once; under a burst, one commit carries
hundreds.

What this costs, said plainly: a process killed in the moment between an answer going out and its group's commit
leaves the duty claimed, and after the lease another process performs it again. For a message in a channel that
second attempt finds the first (bot.duties.OnceChat) and stops; an ephemeral answer cannot be found and is sent
twice. The window is one group's commit, a few milliseconds.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.duties import Outcome

log = logging.getLogger(__name__)

GROUP = 500

Mark = tuple[str, "Outcome", datetime]  # the duty's key, its outcome, when


class GroupFinisher:
    def __init__(self, unit_of_work: Callable[[], Any], worker: str) -> None:
        self.unit_of_work = unit_of_work
        self.worker = worker
        self._marks: queue.SimpleQueue[Mark | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write, name=f"finish-{worker}", daemon=True)
        self._writer.start()

    def mark(self, key: str, outcome: Outcome, at: datetime) -> None:
        self._marks.put((key, outcome, at))

    def close(self) -> None:
        """Writes what is queued, then stops."""
        self._marks.put(None)
        self._writer.join(timeout=30)

    def _write(self) -> None:
        while True:
            first = self._marks.get()
            group: list[Mark] = [] if first is None else [first]
            stopping = first is None
            while len(group) < GROUP and not stopping:
                try:
                    more = self._marks.get_nowait()
                except queue.Empty:
                    break
                stopping = more is None
                if more is not None:
                    group.append(more)
            if group:
                self._commit(group)
            if stopping:
                return

    def _commit(self, group: list[Mark]) -> None:
        try:
            with self.unit_of_work() as uow:
                # One statement for the group (their outcome is "done" and they carry no note), stamped with the
                # last mark's time: the marks of one group are milliseconds apart.
                uow.duties.finish_many({key: (outcome, "") for key, outcome, _ in group}, self.worker,
                                       max(at for _, _, at in group))
                uow.commit()
        except Exception:
            # Left claimed: after the lease a sweep takes them over and finds them delivered (or says them again,
            # for an ephemeral answer). Rare enough to log, not to retry here.
            log.exception("could not mark %d deliveries done", len(group))
