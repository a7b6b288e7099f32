"""Commands as they are received: written down before the platform is answered, so that a process killed after the
acknowledgement loses nothing, and taken once, in the transaction that does the work, so that nothing is done
twice."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.chat import Command


class InboxStore(Protocol):
    def add(self, command: Command) -> int | None:
        """Writes the command down; returns its entry's number, or None when this very delivery (the same
        trigger) was written down before: a platform redelivering what it thinks was lost."""
        ...

    def add_all(self, commands: list[Command]) -> list[int | None]:
        """`add` for each, in one go; a delivery that appears twice among them is written once."""
        ...

    def get(self, entry: int) -> Command | None: ...

    def take(self, entry: int, at: datetime, failed: bool = False) -> bool:
        """Marks a waiting entry processed; False when it was not waiting (another process took it). Within the
        transaction that does the command's work, so the work and the mark are committed together or not at all."""
        ...

    def waiting(self, received_before: datetime, limit: int) -> list[int]:
        """Entries received before then and still waiting: their process died. Entries being processed right now
        may be skipped."""
        ...

    def backlog(self) -> int:
        """How many entries are waiting to be processed (for the operators' metrics)."""
        ...
