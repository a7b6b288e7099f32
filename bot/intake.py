"""Writing received commands down before they are acknowledged, in groups.

Each acknowledgement must wait until its command is committed (nothing acknowledged may be lost), but one commit
can hold every command that arrived while the last one was being written. A single writer thread takes whatever is
waiting, writes it in one transaction and wakes each waiting acknowledgement with its entry's number: under a burst
the database sees a few transactions a millisecond apart instead of a queue of one-command transactions contending
for its lock.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future

from bot.chat import Command
from bot.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)

GROUP = 200  # at most this many commands in one transaction
WAIT = 10.0  # seconds an acknowledgement waits for its commit before it gives up (and says so)


class Intake:
    def __init__(self, unit_of_work: UnitOfWorkFactory) -> None:
        self.unit_of_work = unit_of_work
        self._waiting: queue.SimpleQueue[tuple[Command, Future[int | None]] | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write, name="intake", daemon=True)
        self._writer.start()

    def receive(self, command: Command) -> int | None:
        """Returns once the command is committed: its entry's number, or None for a redelivery. Raises when it
        could not be written down, so that the platform is told so instead of being acknowledged."""
        written: Future[int | None] = Future()
        self._waiting.put((command, written))
        return written.result(timeout=WAIT)

    def close(self) -> None:
        self._waiting.put(None)
        self._writer.join(timeout=WAIT)

    def _write(self) -> None:
        while True:
            first = self._waiting.get()
            if first is None:
                return
            group = [first]
            while len(group) < GROUP:
                try:
                    item = self._waiting.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._waiting.put(None)  # close after this group
                    break
                group.append(item)
            self._commit(group)

    def _commit(self, group: list[tuple[Command, Future[int | None]]]) -> None:
        try:
            with self.unit_of_work() as uow:
                entries = uow.inbox.add_all([command for command, _ in group])
                uow.commit()
        except Exception as exc:  # the whole group goes back to its senders, who answer that it failed
            log.exception("could not write down %d received commands", len(group))
            for _, written in group:
                written.set_exception(exc)
            return
        for (_, written), entry in zip(group, entries, strict=True):
            written.set_result(entry)
