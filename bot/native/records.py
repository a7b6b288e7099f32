"""What is written down for the native surfaces: the messages the bot keeps current (and where they are), the
Home each person was last shown, and the language each person reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.i18n import Lang


@dataclass(frozen=True)
class LiveMessage:
    """A message the bot posted and keeps current in place: a disagreement's notice, a war room's brief, an action.

    `head` is the part that stays as it was posted (what happened); the rest is the subject as it stands now, drawn
    anew whenever it changes. A message superseded by a newer one of the same subject for the same reader is
    `frozen`: it is shown once more as its head alone (no buttons) and then `settled`, never touched again."""

    id: int
    subject: str  # "disagreement:7", "incident:3", "action:12"
    viewer: str  # the directory key of the person it is shown to, "" for a channel
    channel: str  # the channel, or the user whose direct conversation it is in
    ref: str  # the platform's reference to the message (Slack's ts)
    lang: Lang
    head: dict[str, Any] | None
    hash: str  # of what it shows now
    posted_at: datetime
    updated_at: datetime | None = None
    frozen: bool = False
    settled: bool = False


class LiveStore(Protocol):
    def add(self, message: LiveMessage) -> LiveMessage | None:
        """Records a posted message (its id given by the store); None when that message is recorded already."""
        ...

    def unsettled(self, subject: str) -> Sequence[LiveMessage]:
        """The subject's messages that may still change, oldest first."""
        ...

    def freeze_others(self, subject: str, viewer: str, channel: str, keep: int) -> int:
        """Freezes the subject's other messages for the same reader in the same place; returns how many."""
        ...

    def take_slot(self, message_id: int, now: datetime, not_since: datetime) -> bool:
        """Claims the right to update the message now, unless it was updated after `not_since`: of two updaters
        exactly one wins, and a message is updated at most once in each interval."""
        ...

    def shown(self, message_id: int, digest: str, settled: bool) -> None: ...


@dataclass(frozen=True)
class HomeView:
    user_id: str  # the platform's user
    person: str | None  # the directory key, once known
    hash: str | None  # of the view last published; None when none is known to be shown
    published_at: datetime | None = None


class HomeStore(Protocol):
    def opened(self, user_id: str, person: str | None, at: datetime) -> HomeView:
        """Remembers that the person has a Home (and who they are); returns what is known of it."""
        ...

    def get(self, user_id: str) -> HomeView | None: ...

    def every(self) -> Sequence[HomeView]: ...

    def exists(self) -> bool:
        """Whether anyone has a Home at all: if nobody does, nothing needs drawing."""
        ...

    def swap(self, user_id: str, old: str | None, new: str, at: datetime) -> bool:
        """Records `new` as published if `old` is still what was: of two publishers of the same view one wins."""
        ...

    def forget(self, user_id: str, digest: str) -> None:
        """The publication of `digest` failed: nothing is known to be shown, so the next look publishes."""
        ...


@dataclass(frozen=True)
class Language:
    lang: Lang
    chosen: bool  # chosen by the person (the console's /lang), not read from the platform's locale
    at: datetime


class LanguageStore(Protocol):
    def get(self, user_id: str) -> Language | None: ...

    def get_many(self, user_ids: Sequence[str]) -> dict[str, Language]: ...

    def remember(self, user_id: str, language: Language) -> None: ...
